"""The Endpoints page: extra headers that would frame or address the request are refused next to the field, and
saved header values come back masked, never in clear, anywhere on the page."""

from __future__ import annotations

from tests.pages.conftest import TEST_KEY

SECRET = "relay-secret-0123456789"


def everything_shown(at) -> str:
    """Every value and text the page holds for the browser."""
    return "\n".join(str(element.proto) for element in at.main) + "\n".join(str(e.proto) for e in at.sidebar)


def new_form(at):
    """The 'Add an endpoint' form's widgets (keys end in _new)."""
    return (at.text_input(key="ep_name_new"), at.text_input(key="ep_base_new"), at.text_input(key="ep_key_new"),
            at.text_area(key="ep_headers_new"))


def test_headers_are_checked_next_to_the_field_and_shown_masked(configured, open_app) -> None:
    at = open_app()
    at.switch_page("pages/endpoints.py").run()
    name, base, key, headers = new_form(at)
    name.set_value("Relay")
    base.set_value(configured.base_url)
    key.set_value(TEST_KEY)
    headers.set_value("Host: 169.254.169.254")
    at.button(key="FormSubmitter:endpoint_form_new-Save endpoint").click().run()
    assert not at.exception
    assert any("set by the HTTP client itself" in error.value for error in at.error)
    assert at.text_area(key="ep_headers_new").value == "Host: 169.254.169.254"  # what was typed stays

    at.text_area(key="ep_headers_new").set_value(f"X-Api-Key: {SECRET}")
    at.button(key="FormSubmitter:endpoint_form_new-Save endpoint").click().run()
    assert not at.exception and not at.error

    page = open_app()
    page.switch_page("pages/endpoints.py").run()
    shown = [area.value for area in page.text_area if area.key.startswith("ep_headers_") and area.key != "ep_headers_new"]
    assert shown == ["X-Api-Key: rel…6789"]
    assert SECRET not in everything_shown(page)
