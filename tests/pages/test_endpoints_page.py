"""The Endpoints page as a user drives it: saving twice makes one endpoint, a taken name is refused next to its
field, and deleting asks first."""

from __future__ import annotations

from services import endpoints
from tests.pages.test_history_page import runtime_and_user

SAVE_NEW = "FormSubmitter:endpoint_form_new-Save endpoint"


def open_endpoints(open_app):
    at = open_app()
    at.switch_page("pages/endpoints.py").run()
    assert not at.exception
    return at


def fill_new(at, name: str, base_url: str, key: str = "sk-relay-key-0001"):
    at.text_input(key="ep_name_new").set_value(name)
    at.text_input(key="ep_base_new").set_value(base_url)
    at.text_input(key="ep_key_new").set_value(key)
    return at


def listed(at) -> list[str]:
    return [expander.label for expander in at.expander]


def endpoint_names() -> list[str]:
    rt, user = runtime_and_user()
    return [view.name for view in endpoints.list_views(rt, user)]


def test_saving_the_same_new_endpoint_twice_makes_one(configured, open_app):
    at = fill_new(open_endpoints(open_app), "My relay", configured.base_url)
    at.button(key=SAVE_NEW).click().run()
    at.button(key=SAVE_NEW).click().run()  # a double click, or the form submitted again: it keeps its values
    assert not at.exception

    assert endpoint_names().count("My relay") == 1
    assert sum("My relay" in label for label in listed(at)) == 1


def test_a_name_another_endpoint_has_is_refused_next_to_the_name(configured, open_app):
    at = fill_new(open_endpoints(open_app), "My relay", configured.base_url)
    at.button(key=SAVE_NEW).click().run()
    fill_new(at, "my relay", "http://127.0.0.1:9/v1").button(key=SAVE_NEW).click().run()

    assert any("“My relay” is taken by another endpoint" in error.value for error in at.error)
    assert endpoint_names().count("My relay") == 1 and "my relay" not in endpoint_names()


def test_deleting_an_endpoint_asks_first(configured, open_app):
    at = fill_new(open_endpoints(open_app), "Doomed relay", configured.base_url)
    at.button(key=SAVE_NEW).click().run()
    rt, user = runtime_and_user()
    doomed = next(view for view in endpoints.list_views(rt, user) if view.name == "Doomed relay")

    assert at.button(key=f"delete_{doomed.id}").disabled, "one click alone must not delete it"
    at.checkbox(key=f"confirm_delete_endpoint_{doomed.id}").check().run()
    at.button(key=f"delete_{doomed.id}").click().run()
    assert not at.exception
    assert "Doomed relay" not in endpoint_names()
    assert any("Deleted “Doomed relay”" in success.value for success in at.success)
