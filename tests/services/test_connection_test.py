"""The endpoint form's Test connection can be pointed at any address the server reaches: what answered is never
quoted back, only the status and a short reason in our words."""

from __future__ import annotations

import json

import pytest

from db import repository
from services import endpoints
from services.endpoints import EndpointForm, EndpointFormError
from tests.outside_host import outside_host

PRIVATE = "internal-credential-7f3a"


@pytest.mark.parametrize(("status", "kind", "body", "reason"), [
    (200, "application/json", json.dumps({"AccessKeyId": PRIVATE}), "not with an OpenAI-compatible model list"),
    (200, "text/plain", f"ami-id\ninstance-id {PRIVATE}", "not with an OpenAI-compatible model list"),
    (200, "text/html", f"<html><title>{PRIVATE}</title><body>{PRIVATE}</body></html>", "not with an OpenAI"),
    (500, "text/html", f"<html><title>{PRIVATE}</title></html>", "HTTP 500"),
    (401, "application/json", json.dumps({"error": {"message": PRIVATE}}), "HTTP 401"),
    (404, "text/plain", PRIVATE, "HTTP 404"),
    (403, "application/json", json.dumps({"detail": PRIVATE}), "HTTP 403"),
    (200, "application/json", json.dumps({"error": {"message": PRIVATE}}), "error object"),
], ids=["json-200", "text-200", "html-200", "html-500", "json-401", "text-404", "detail-403", "error-object"])
def test_the_answer_of_whatever_answered_is_not_shown(runtime, status, kind, body, reason) -> None:
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
    with outside_host() as host:
        host.answers["/latest/models"] = (status, kind, body.encode())
        form = EndpointForm("Probe", f"http://{host.host}/latest", "", "")
        with pytest.raises(EndpointFormError) as raised:
            endpoints.test_connection(runtime, user, form)
        assert host.requested("/latest/models")
    message = str(raised.value)
    assert PRIVATE not in message
    assert message.startswith("Test failed: ") and reason in message
    assert raised.value.field == "connection"


def test_a_refused_connection_says_so(runtime) -> None:
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
    with pytest.raises(EndpointFormError, match="Test failed: .*connect"):
        endpoints.test_connection(runtime, user, EndpointForm("Probe", "http://127.0.0.1:9/v1", "", ""))


def test_a_working_endpoint_lists_its_models(runtime, fake_openai) -> None:
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
    answer = endpoints.test_connection(runtime, user, EndpointForm("Fake", fake_openai.base_url, "sk-test-key-0001", ""))
    assert "fake-gpt" in answer
