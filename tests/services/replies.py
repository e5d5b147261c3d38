"""Helpers for tests that send turns through the runtime: the local user, and a reply once its worker is done."""

from __future__ import annotations

from db import repository
from db.models import Message, User
from services.runtime import Runtime

WAIT = 10.0  # generous: a reply that needs this long is a failure, not a slow machine


def local_user(runtime: Runtime) -> User:
    with runtime.db.write() as session:
        return repository.ensure_user(session)


def finished(runtime: Runtime, message_id: int) -> Message:
    """The saved reply once its worker is done."""
    generation = runtime.registry.get(message_id)
    if generation is not None:
        assert generation.wait(WAIT), "the reply did not finish"
    with runtime.db.read() as session:
        return session.get(Message, message_id)
