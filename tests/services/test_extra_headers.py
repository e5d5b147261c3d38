"""Extra headers: what may be set (nothing that frames, addresses or breaks the request), and their values are
secrets: encrypted at rest, masked wherever they are shown, and still sent as typed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db import repository
from db.models import Endpoint
from services import chat, endpoints
from services.chat import ChatSettings
from services.codegen import as_curl, as_javascript, as_python
from services.endpoints import EndpointForm, EndpointFormError
from services.extra_headers import MAX_HEADERS, parse_extra_headers

SECRET = "relay-secret-0123456789"


@pytest.mark.parametrize("line", [
    "Host: internal.example", "host: x", "Content-Length: 5", "Transfer-Encoding: chunked", "Connection: close",
    "Keep-Alive: 5", "TE: trailers", "Upgrade: websocket", "Proxy-Authorization: Basic eA==", "Content-Type: text/plain",
    "Expect: 100-continue",
])
def test_headers_the_http_client_owns_are_refused(line: str) -> None:
    with pytest.raises(ValueError, match="set by the HTTP client itself"):
        parse_extra_headers(f"X-Ok: 1\n{line}")


@pytest.mark.parametrize("value", ["a\x00b", "a\x01b", "a\x7fb", "a\x1bb", "a\x0bb", "a\x0cb"],
                         ids=["NUL", "SOH", "DEL", "ESC", "VT", "FF"])
def test_control_characters_in_a_value_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="^Line 1: a header value cannot contain control characters"):
        parse_extra_headers(f"X-Trace: {value}")


def test_a_tab_inside_a_value_is_allowed() -> None:
    assert parse_extra_headers("X-Trace: a\tb") == {"X-Trace": "a\tb"}


@pytest.mark.parametrize("value", ["中文", "café"])
def test_a_value_http_cannot_carry_is_refused_in_words(value: str) -> None:
    with pytest.raises(ValueError, match="plain ASCII"):
        parse_extra_headers(f"X-Name: {value}")


def test_size_and_count_are_bounded() -> None:
    with pytest.raises(ValueError, match="at most 4,096 characters"):
        parse_extra_headers("X-Big: " + "a" * 65536)
    with pytest.raises(ValueError, match=f"At most {MAX_HEADERS} extra headers"):
        parse_extra_headers("\n".join(f"X-H{i}: v" for i in range(MAX_HEADERS + 1)))
    with pytest.raises(ValueError, match="together may have at most"):
        parse_extra_headers("\n".join(f"X-H{i}: {'v' * 4000}" for i in range(3)))
    with pytest.raises(ValueError, match="header name may have at most"):
        parse_extra_headers("X-" + "n" * 200 + ": v")
    assert len(parse_extra_headers("\n".join(f"X-H{i}: v" for i in range(MAX_HEADERS)))) == MAX_HEADERS


def test_a_header_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="^Line 2: x-a is already set above"):
        parse_extra_headers("X-A: 1\nx-a: 2")


def _user(runtime):
    with runtime.db.write() as session:
        return repository.ensure_user(session)


@pytest.mark.parametrize("headers", ["Host: 169.254.169.254", "Content-Length: 0", "X-A: a\x00", "X-B: " + "b" * 65536])
def test_the_form_names_the_field_and_nothing_is_sent(runtime, fake_openai, headers: str) -> None:
    user = _user(runtime)
    form = EndpointForm("Relay", fake_openai.base_url, "sk-relay-0001", headers)
    for action in (endpoints.test_connection, endpoints.save):
        with pytest.raises(EndpointFormError) as raised:
            action(runtime, user, form)
        assert raised.value.field == "extra_headers"
    assert fake_openai.requests == []


def _saved_relay(runtime, fake_openai) -> tuple[object, endpoints.EndpointView]:
    user = _user(runtime)
    headers = f"X-Api-Key: {SECRET}\napi-key: {SECRET}-2\nX-Forwarded-Host: chat.example.com"
    return user, endpoints.save(runtime, user, EndpointForm("Relay", fake_openai.base_url, "sk-test-key-0001", headers))


def test_values_are_stored_encrypted_and_shown_masked(runtime, fake_openai) -> None:
    user, view = _saved_relay(runtime, fake_openai)
    with runtime.db.read() as session:
        row = session.scalars(select(Endpoint).where(Endpoint.id == view.id)).one()
        stored = f"{row.extra_headers} {row.extra_headers_encrypted}"
    assert SECRET not in stored and "chat.example.com" not in stored
    assert view.extra_headers == {"X-Api-Key": "rel…6789", "api-key": "rel…89-2", "X-Forwarded-Host": "cha….com"}
    assert all(SECRET not in v for other in endpoints.list_views(runtime, user) for v in other.extra_headers.values())


def test_view_code_shows_them_masked(runtime, fake_openai) -> None:
    user, view = _saved_relay(runtime, fake_openai)
    preview = chat.preview_request(runtime, user, None, "hi", ChatSettings(view.id, "fake-gpt"))
    for code in (as_curl(preview), as_python(preview), as_javascript(preview)):
        assert SECRET not in code and "chat.example.com" not in code
        assert "X-Api-Key: rel…6789" in code or '"X-Api-Key": "rel…6789"' in code


def test_they_are_sent_as_typed_and_kept_when_the_form_shows_them_masked(runtime, fake_openai) -> None:
    user, view = _saved_relay(runtime, fake_openai)
    shown = "\n".join(f"{name}: {value}" for name, value in view.extra_headers.items())  # what the form shows
    # The user edits one line and adds another; the masked lines keep their stored values.
    edited = shown.replace("cha….com", "other.example.com") + "\nX-New: 1"
    endpoints.save(runtime, user, EndpointForm("Relay", fake_openai.base_url, "", edited), view.id)
    endpoints.test_connection(runtime, user, EndpointForm("Relay", fake_openai.base_url, "", edited), view.id)
    models, problem = endpoints.list_models(runtime, user.id, view.id)
    assert problem is None and models
    sent = [r.headers for r in fake_openai.requests if r.path.endswith("/models")]
    assert len(sent) == 2
    for headers in sent:
        assert headers["x-api-key"] == SECRET and headers["api-key"] == f"{SECRET}-2"
        assert headers["x-forwarded-host"] == "other.example.com" and headers["x-new"] == "1"


def test_a_removed_line_removes_the_header(runtime, fake_openai) -> None:
    user, view = _saved_relay(runtime, fake_openai)
    endpoints.save(runtime, user, EndpointForm("Relay", fake_openai.base_url, "", "api-key: rel…89-2"), view.id)
    endpoints.list_models(runtime, user.id, view.id)
    headers = fake_openai.requests[-1].headers
    assert headers["api-key"] == f"{SECRET}-2" and "x-api-key" not in headers


def test_another_users_endpoint_lends_no_stored_values(runtime, fake_openai) -> None:
    _, view = _saved_relay(runtime, fake_openai)
    with runtime.db.write() as session:
        mallory = repository.ensure_user(session, "mallory")
    # Mallory copies the mask and points the form at alice's endpoint id: the mask stays a mask, and is refused.
    form = EndpointForm("Mine", fake_openai.base_url, "", "X-Api-Key: rel…6789")
    with pytest.raises(EndpointFormError, match="plain ASCII"):
        endpoints.test_connection(runtime, mallory, form, view.id)
    assert fake_openai.requests == []


def test_headers_the_server_secret_no_longer_opens_are_asked_for_again(runtime, fake_openai) -> None:
    user, view = _saved_relay(runtime, fake_openai)
    with runtime.db.write() as session:  # as after the server secret changed
        session.get(Endpoint, view.id).extra_headers_encrypted = "not-a-token"
    form = EndpointForm("Relay", fake_openai.base_url, "", "X-Api-Key: rel…6789")
    with pytest.raises(EndpointFormError, match="cannot be decrypted") as raised:
        endpoints.test_connection(runtime, user, form, view.id)
    assert raised.value.field == "extra_headers"
    with pytest.raises(chat.ChatError, match="extra headers .* cannot be decrypted"):
        chat.preview_request(runtime, user, None, "hi", ChatSettings(view.id, "fake-gpt"))
