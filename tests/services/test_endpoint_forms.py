"""Testing a saved endpoint's connection from its form."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from db import repository
from db.models import Endpoint
from services import endpoints
from services.endpoints import EndpointForm, EndpointFormError


def test_a_stored_key_that_cannot_be_decrypted_is_asked_for_again(runtime, fake_openai):
    with runtime.db.write() as session:
        user = repository.ensure_user(session)
    form = EndpointForm(name="Relay", base_url=fake_openai.base_url, api_key="sk-relay-0001", extra_headers="")
    saved = endpoints.save(runtime, user, form)
    with runtime.db.write() as session:  # as after the server secret changed
        session.execute(update(Endpoint).where(Endpoint.id == saved.id).values(api_key_encrypted="not-a-token"))

    with pytest.raises(EndpointFormError, match="cannot be decrypted") as raised:
        endpoints.test_connection(runtime, user, EndpointForm("Relay", fake_openai.base_url, "", ""), saved.id)
    assert raised.value.field == "api_key"
