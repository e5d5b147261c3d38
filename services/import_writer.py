"""Writes the conversations of an import (services.history parses and checks them) in short transactions.

One transaction for a whole import held the database's write lock for as long as the import took: with SQLite every
other writer waited, and a message sent meanwhile failed with "database is locked" after the busy timeout. Batches
of BATCH_MESSAGES messages let other writers in between. The imported conversations stay hidden (`deleted_at`) until
the last batch is in, then one small transaction shows them all: the import is still all or nothing to the user, and
a crash halfway leaves only hidden rows, which the purge of deleted conversations removes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from db import repository
from db.engine import Database
from db.models import Conversation, Endpoint, Message, User, utcnow
from services.format_controls import strip_format_controls

if TYPE_CHECKING:
    from services.history import _DraftConversation, _DraftMessage

log = logging.getLogger("relaychat.import")

BATCH_MESSAGES = 2_000  # ~0.1 s of writing: the longest another writer waits for an import
HIDDEN_WHILE_IMPORTING = timedelta(days=1)
_ID_CHUNK = 500  # ids per IN (…) list, well below SQLite's bound on variables
_COLUMNS = tuple(column.key for column in Message.__table__.columns)


def save_conversations(db: Database, user: User, drafts: Sequence[_DraftConversation]) -> list[int]:
    """Insert the drafts in batches; returns the new conversations' ids in file order. On any failure the
    conversations written so far are removed again and the error is raised."""
    # Dated ahead: the purge of deleted conversations (older than its undo window) must not take an import that
    # runs long; one that died halfway is purged once this has passed.
    hidden_at = utcnow() + HIDDEN_WHILE_IMPORTING
    with db.read() as session:
        endpoints = repository.list_endpoints(session, user)
    conversation_ids: list[int | None] = [None] * len(drafts)
    database_ids: list[dict[Any, int]] = [{} for _ in drafts]  # file key → message id, per conversation
    try:
        for batch in _batches(drafts):
            with db.write() as session:
                _save_batch(session, user, drafts, batch, endpoints, conversation_ids, database_ids, hidden_at)
        written = [cid for cid in conversation_ids if cid is not None]
        with db.write() as session:  # everything is in: show it all at once
            for start in range(0, len(written), _ID_CHUNK):
                chunk = written[start : start + _ID_CHUNK]
                session.execute(update(Conversation).where(Conversation.id.in_(chunk)).values(deleted_at=None))
    except BaseException:
        _remove([cid for cid in conversation_ids if cid is not None], db)
        raise
    return [cid for cid in conversation_ids if cid is not None]


def _batches(drafts: Sequence[_DraftConversation]) -> Iterator[list[tuple[int, int, int]]]:
    """Slices (conversation index, first message, end) of about BATCH_MESSAGES messages, in file order; a long
    conversation spans several batches (its messages come parents first, so each parent is in before its child)."""
    batch: list[tuple[int, int, int]] = []
    size = 0
    for index, draft in enumerate(drafts):
        start = 0
        while start < len(draft.messages) or (start == 0 and not draft.messages):
            end = min(len(draft.messages), start + BATCH_MESSAGES - size)
            batch.append((index, start, end))
            size += end - start
            start = end
            if size >= BATCH_MESSAGES:
                yield batch
                batch, size = [], 0
            if not draft.messages:
                break
    if batch:
        yield batch


def _save_batch(
    session: Session, user: User, drafts: Sequence[_DraftConversation], batch: list[tuple[int, int, int]],
    endpoints: list[Endpoint], conversation_ids: list[int | None], database_ids: list[dict[Any, int]],
    hidden_at: datetime,
) -> None:
    """Insert one batch: its new conversations (hidden), then all its messages in one multi-row INSERT. The ids are
    reserved first, so every row carries its parent's id (an INSERT … RETURNING per row took 40 s for 80,000)."""
    now = utcnow()
    reserved = iter(_reserve_message_ids(session, sum(end - start for _, start, end in batch)))
    for index, start, end in batch:
        ids = database_ids[index]
        for message in drafts[index].messages[start:end]:
            ids[message.key] = next(reserved)
    new = [index for index, start, _ in batch if start == 0]
    conversations = [_conversation(user, drafts[i], database_ids[i], endpoints, now, hidden_at) for i in new]
    session.add_all(conversations)
    session.flush()
    for index, conversation in zip(new, conversations, strict=True):
        conversation_ids[index] = conversation.id
    for index, start, end in batch:  # a conversation whose leaf came in a later batch than its first message
        draft = drafts[index]
        leaf = database_ids[index].get(draft.leaf)
        if start > 0 and leaf is not None and any(m.key == draft.leaf for m in draft.messages[start:end]):
            session.execute(update(Conversation).where(Conversation.id == conversation_ids[index])
                            .values(current_leaf_id=leaf))
    rows = [
        _message_row(conversation_ids[index], message, database_ids[index], now)  # type: ignore[arg-type]
        for index, start, end in batch
        for message in drafts[index].messages[start:end]
    ]
    if rows:
        # A Core executemany, in file order (parents before children); the ORM form would go row by row.
        session.execute(insert(Message.__table__), rows)


def _conversation(user: User, draft: _DraftConversation, ids: Mapping[Any, int], endpoints: list[Endpoint],
                  now: datetime, hidden_at: datetime) -> Conversation:
    return Conversation(
        user_id=user.id,
        endpoint_id=_matching_endpoint(endpoints, draft.endpoint),
        title=strip_format_controls(draft.title)[: repository.MAX_TITLE_LENGTH],
        model=draft.model,
        system_prompt=draft.system_prompt,
        params=dict(draft.params),
        pinned=draft.pinned,
        current_leaf_id=ids.get(draft.leaf),
        created_at=draft.created_at or now,
        updated_at=draft.updated_at or draft.created_at or now,
        deleted_at=hidden_at,  # until the whole import is in
    )


def _remove(conversation_ids: list[int], db: Database) -> None:
    """Undo a failed import; if even that fails the rows stay hidden and the purge of deleted ones removes them."""
    if not conversation_ids:
        return
    try:
        with db.write() as session:
            repository.purge_conversations(session, conversation_ids)
    except Exception:
        log.warning("removing %d conversations of a failed import failed; they stay hidden until purged",
                    len(conversation_ids))


def _reserve_message_ids(session: Session, count: int) -> list[int]:
    """`count` unused message ids, ascending (siblings are ordered by id, so the file's order is kept)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, :count)"
        return sorted(session.scalars(text(sequence), {"count": count}))
    # SQLite writes under the database lock (Database.write begins IMMEDIATE): nobody else takes these meanwhile.
    first = (session.scalar(select(func.max(Message.id))) or 0) + 1
    return list(range(first, first + count))


def _message_row(
    conversation_id: int, message: _DraftMessage, ids: Mapping[Any, int], now: datetime
) -> dict[str, Any]:
    # Every row has every key: rows with the same keys go to the database together.
    row: dict[str, Any] = dict.fromkeys(_COLUMNS)
    row.update({
        "id": ids[message.key], "conversation_id": conversation_id,
        "parent_id": ids[message.parent] if message.parent is not None else None,
        "role": message.role, "content": message.content, "status": "complete", "created_at": now,
    })
    row.update({key: value for key, value in message.fields.items() if value is not None})
    row["updated_at"] = row["created_at"]
    return row


def _matching_endpoint(endpoints: list[Endpoint], endpoint: tuple[str, str] | None) -> int | None:
    """The user's endpoint with that name and URL, else with that URL; None leaves the choice to the user."""
    if endpoint is None:
        return None
    name, base_url = endpoint
    same_url = [e for e in endpoints if e.base_url.rstrip("/") == base_url.rstrip("/")]
    match = next(iter([e for e in same_url if e.name == name] or same_url), None)
    return match.id if match is not None else None
