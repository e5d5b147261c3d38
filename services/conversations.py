"""Conversation housekeeping for the pages: list, search, rename, pin, delete/undo, branches, export, import."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from db import branches, repository, search
from db.engine import WriteFailed
from db.models import Conversation, Message, User, utcnow
from db.search import SearchHit
from services import history, sent_request
from services.chat import ChatError, api_messages
from services.runtime import DELETED_KEPT_FOR, Runtime
from services.format_controls import strip_format_controls


@dataclass(frozen=True)
class ConversationItem:
    """A row of the sidebar list."""

    id: int
    title: str
    pinned: bool


def recent(runtime: Runtime, user: User, limit: int) -> tuple[list[ConversationItem], bool]:
    """The first `limit` conversations (pinned first, then newest) and whether there are more."""
    with runtime.db.read() as session:
        rows = repository.list_conversations(session, user, limit=limit + 1)
    return [ConversationItem(c.id, c.title, c.pinned) for c in rows[:limit]], len(rows) > limit


def streaming_among(runtime: Runtime, conversation_ids: Iterable[int]) -> frozenset[int]:
    """Which of these conversations (the caller's own, from `recent`) have a reply being written right now."""
    live = {generation.job.conversation_id for message_id in runtime.registry.running_ids()
            if (generation := runtime.registry.get(message_id)) is not None}
    return frozenset(live.intersection(conversation_ids))


def find(runtime: Runtime, user: User, query: str) -> list[SearchHit]:
    if not query.strip():
        return []
    with runtime.db.read() as session:
        return search.search_messages(session, user, query)


def rename(runtime: Runtime, user: User, conversation_id: int, title: str) -> None:
    title = strip_format_controls(title).strip()  # an override character would make the title read backwards
    if not title:
        raise ChatError("title", "A title cannot be empty.")
    with runtime.db.write() as session:
        repository.rename_conversation(session, user, conversation_id, title)


def pin(runtime: Runtime, user: User, conversation_id: int, pinned: bool) -> None:
    with runtime.db.write() as session:
        repository.set_pinned(session, user, conversation_id, pinned)


def delete(runtime: Runtime, user: User, conversation_id: int) -> None:
    """Hide it at once (Undo can bring it back); it is removed for good once the undo window has passed."""
    with runtime.db.write() as session:
        repository.soft_delete_conversation(session, user, conversation_id)
        repository.purge_deleted(session, older_than=utcnow() - DELETED_KEPT_FOR)


def undo_delete(runtime: Runtime, user: User, conversation_id: int) -> None:
    with runtime.db.write() as session:
        repository.restore_conversation(session, user, conversation_id)


def load(runtime: Runtime, user: User, conversation_id: int | None) -> tuple[Conversation | None, list[Message]]:
    """A conversation of the user's and the branch it shows, oldest first; (None, []) when there is none."""
    with runtime.db.read() as session:
        conversation = repository.get_conversation(session, user, conversation_id)
        return conversation, repository.message_path(session, conversation) if conversation else []


def message(runtime: Runtime, user: User, message_id: int | None) -> Message | None:
    if message_id is None:
        return None
    with runtime.db.read() as session:
        return repository.get_message(session, user, message_id)


def request_as_sent(runtime: Runtime, user: User, reply: Message) -> dict[str, Any]:
    """The request `reply` was sent with, its messages rebuilt from the branch it answered (for Details)."""
    with runtime.db.read() as session:
        conversation = repository.get_conversation(session, user, reply.conversation_id)
        if conversation is None or reply.parent_id is None:
            branch = []
        else:
            branch = repository.message_path(session, conversation, leaf_id=reply.parent_id)
    return sent_request.request_as_sent(reply.request, api_messages("", branch))


def sibling_groups(runtime: Runtime, user: User, conversation_id: int | None) -> dict[int, tuple[int, ...]]:
    """For each message with siblings (other branches from the same parent): all of them, oldest first."""
    if conversation_id is None:
        return {}
    with runtime.db.read() as session:
        return branches.sibling_groups(session, user, conversation_id)


def switch_branch(runtime: Runtime, user: User, message_id: int) -> None:
    with runtime.db.write() as session:
        branches.switch_branch(session, user, message_id)


def fork(runtime: Runtime, user: User, message_id: int) -> int:
    with runtime.db.write() as session:
        return branches.fork_conversation(session, user, message_id).id


def delete_message(runtime: Runtime, user: User, message_id: int) -> None:
    with runtime.db.write() as session:
        branches.delete_message(session, user, message_id)


def export_markdown(runtime: Runtime, user: User, conversation_id: int) -> str:
    with runtime.db.read() as session:
        return history.export_markdown(session, user, conversation_id) or ""


def export_json(runtime: Runtime, user: User, conversation_id: int) -> str:
    with runtime.db.read() as session:
        return history.export_json(session, user, conversation_id) or ""


def export_backup(runtime: Runtime, user: User) -> str:
    with runtime.db.read() as session:
        return history.export_backup(session, user)


def import_file(runtime: Runtime, user: User, raw: bytes, filename: str) -> history.ImportResult:
    """All or nothing: a bad file, or a database that refused the write (busy, full), raises ImportFormatError and
    leaves the database as it was."""
    try:
        return history.import_file(runtime.db, user, raw, filename)
    except WriteFailed as exc:
        raise history.ImportFormatError(f"The database refused it: {exc}.") from exc
