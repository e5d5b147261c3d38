"""Queries named by what they are for. Every read of user data takes the user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session, aliased

from db.models import NEW_CHAT_TITLE, Conversation, Endpoint, Message, User, utcnow

LOCAL_USER_NAME = "local"
TITLE_LENGTH = 60


# --- users -------------------------------------------------------------------------------------------------


def get_user(session: Session, name: str = LOCAL_USER_NAME) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def ensure_user(session: Session, name: str = LOCAL_USER_NAME, *, is_admin: bool = True) -> User:
    """The user called `name`, created on first use (the single local user until accounts arrive)."""
    user = get_user(session, name)
    if user is None:
        user = User(name=name, is_admin=is_admin)
        session.add(user)
        session.flush()
    return user


# --- endpoints ---------------------------------------------------------------------------------------------


def list_endpoints(session: Session, user: User) -> list[Endpoint]:
    query = select(Endpoint).where(Endpoint.user_id == user.id).order_by(Endpoint.is_default.desc(), Endpoint.id)
    return list(session.scalars(query))


def get_endpoint(session: Session, user: User, endpoint_id: int | None) -> Endpoint | None:
    if endpoint_id is None:
        return None
    return session.scalar(select(Endpoint).where(Endpoint.id == endpoint_id, Endpoint.user_id == user.id))


def default_endpoint(session: Session, user: User) -> Endpoint | None:
    endpoints = list_endpoints(session, user)
    return endpoints[0] if endpoints else None


def save_endpoint(
    session: Session,
    user: User,
    *,
    name: str,
    base_url: str,
    extra_headers: dict[str, str],
    default_model: str | None,
    extra_headers_encrypted: str | None = None,
    api_key_encrypted: str | None = None,
    api_key_mask: str | None = None,
    keep_key: bool = False,
    endpoint_id: int | None = None,
    make_default: bool = False,
    source: str = "user",
    max_tokens_field: str | None = None,
    title_model: str | None = None,
) -> Endpoint:
    """Create or update an endpoint; `keep_key` leaves the stored key as it is (the form left it blank)."""
    endpoint = get_endpoint(session, user, endpoint_id) if endpoint_id is not None else None
    if endpoint is None:
        endpoint = Endpoint(user_id=user.id, source=source)
        session.add(endpoint)
    elif endpoint.base_url != base_url:
        endpoint.supports_stream_usage = None  # a different server: learn again
    endpoint.name = name
    endpoint.base_url = base_url
    endpoint.extra_headers = dict(extra_headers)  # masked: the values are in extra_headers_encrypted
    endpoint.extra_headers_encrypted = extra_headers_encrypted
    endpoint.default_model = default_model or None
    if max_tokens_field is not None:
        endpoint.max_tokens_field = max_tokens_field
    if source == "user":
        endpoint.title_model = title_model or None
    if not keep_key:
        endpoint.api_key_encrypted = api_key_encrypted
        endpoint.api_key_mask = api_key_mask
    session.flush()
    if make_default or not any(e.is_default for e in list_endpoints(session, user)):
        set_default_endpoint(session, user, endpoint.id)
    return endpoint


def set_default_endpoint(session: Session, user: User, endpoint_id: int) -> None:
    """Make the user's endpoint the default; an id that is not theirs (or no longer exists) changes nothing."""
    if get_endpoint(session, user, endpoint_id) is None:
        return
    session.execute(
        update(Endpoint).where(Endpoint.user_id == user.id).values(is_default=Endpoint.id == endpoint_id)
    )


def delete_endpoint(session: Session, user: User, endpoint_id: int) -> None:
    endpoint = get_endpoint(session, user, endpoint_id)
    if endpoint is None:
        return
    was_default = endpoint.is_default
    session.delete(endpoint)
    session.flush()
    remaining = list_endpoints(session, user)
    if was_default and remaining:
        set_default_endpoint(session, user, remaining[0].id)


def config_endpoint(session: Session, user: User) -> Endpoint | None:
    return session.scalar(select(Endpoint).where(Endpoint.user_id == user.id, Endpoint.source == "config"))


def remember_stream_usage_unsupported(session: Session, endpoint_id: int) -> None:
    session.execute(update(Endpoint).where(Endpoint.id == endpoint_id).values(supports_stream_usage=False))


# --- conversations -----------------------------------------------------------------------------------------


def create_conversation(
    session: Session,
    user: User,
    *,
    endpoint_id: int | None,
    model: str | None,
    system_prompt: str = "",
    params: dict[str, Any] | None = None,
) -> Conversation:
    conversation = Conversation(
        user_id=user.id, endpoint_id=endpoint_id, model=model, system_prompt=system_prompt, params=params or {}
    )
    session.add(conversation)
    session.flush()
    return conversation


def get_conversation(session: Session, user: User, conversation_id: int | None) -> Conversation | None:
    if conversation_id is None:
        return None
    return session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.user_id == user.id, Conversation.deleted_at.is_(None)
        )
    )


def list_conversations(
    session: Session,
    user: User,
    *,
    limit: int = 30,
    before: tuple[bool, datetime, int] | tuple[datetime, int] | None = None,
) -> list[Conversation]:
    """Pinned first, then newest first, deleted ones left out, a page at a time: pass `page_cursor(last row)`
    as `before` for the next page (an older (updated_at, id) cursor still works: its pinned flag is looked up)."""
    query = select(Conversation).where(Conversation.user_id == user.id, Conversation.deleted_at.is_(None))
    if before is not None:
        query = query.where(_after_cursor(session, user, before))
    query = query.order_by(
        Conversation.pinned.desc(), Conversation.updated_at.desc(), Conversation.id.desc()
    ).limit(limit)
    return list(session.scalars(query))


def update_conversation_settings(
    session: Session,
    user: User,
    conversation_id: int,
    *,
    endpoint_id: int | None,
    model: str | None,
    system_prompt: str,
    params: dict[str, Any],
) -> None:
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.user_id == user.id)
        .values(endpoint_id=endpoint_id, model=model, system_prompt=system_prompt, params=params)
    )


def delete_conversation(session: Session, user: User, conversation_id: int) -> None:
    conversation = get_conversation(session, user, conversation_id)
    if conversation is not None:
        # Cut the parent chain first: SQLite runs each level of a cascade as a nested trigger and gives up
        # ("too many levels of trigger recursion") on a conversation of ~1,000 messages.
        session.execute(update(Message).where(Message.conversation_id == conversation.id).values(parent_id=None))
        session.delete(conversation)


# --- messages ----------------------------------------------------------------------------------------------


def add_message(
    session: Session,
    conversation: Conversation,
    *,
    role: str,
    content: str,
    parent_id: int | None,
    **fields: Any,
) -> Message:
    """Append a message under `parent_id` and make it the end of the visible branch."""
    message = Message(conversation_id=conversation.id, parent_id=parent_id, role=role, content=content, **fields)
    session.add(message)
    session.flush()
    conversation.current_leaf_id = message.id
    conversation.updated_at = utcnow()
    if role == "user" and conversation.title == NEW_CHAT_TITLE:
        conversation.title = title_from_text(content)
    return message


def set_generated_title(session: Session, conversation_id: int, title: str) -> None:
    """A title from the model replaces the one made from the first words, never one the user typed."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return
    first = session.scalar(
        select(Message.content).where(Message.conversation_id == conversation_id, Message.role == "user")
        .order_by(Message.id).limit(1)
    )
    if first is not None and conversation.title == title_from_text(first):
        conversation.title = title


def title_from_text(text: str) -> str:
    words = " ".join(text.split())
    if len(words) <= TITLE_LENGTH:
        return words or NEW_CHAT_TITLE
    # Look one character past the limit: a word that ends exactly at it is whole and stays.
    return words[: TITLE_LENGTH + 1].rsplit(" ", 1)[0][:TITLE_LENGTH] + "…"


def message_path(session: Session, conversation: Conversation, leaf_id: int | None = None) -> list[Message]:
    """The visible branch (or the one ending at `leaf_id`), root first: the leaf and its ancestors, in one
    recursive query."""
    leaf_id = leaf_id if leaf_id is not None else conversation.current_leaf_id
    if leaf_id is None:
        return []
    parent = aliased(Message)
    path = (
        select(Message.id, Message.parent_id)
        .where(Message.id == leaf_id, Message.conversation_id == conversation.id)
        .cte("path", recursive=True)
    )
    path = path.union_all(select(parent.id, parent.parent_id).join(path, parent.id == path.c.parent_id))
    messages = session.scalars(select(Message).where(Message.id.in_(select(path.c.id))).order_by(Message.id))
    return list(messages)


def get_message(session: Session, user: User, message_id: int) -> Message | None:
    return session.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id == message_id, Conversation.user_id == user.id)
    )


def save_message_progress(session: Session, message_id: int, **fields: Any) -> None:
    """Write a streaming message's fields and touch updated_at (the sign that its writer is alive)."""
    session.execute(update(Message).where(Message.id == message_id).values(updated_at=utcnow(), **fields))


def touch_streaming(session: Session, message_ids: frozenset[int]) -> None:
    """The heartbeat of live generations: their rows are not stale."""
    session.execute(
        update(Message).where(Message.id.in_(message_ids), Message.status == "streaming").values(updated_at=utcnow())
    )


def interrupt_stale_streams(session: Session, *, older_than: datetime, keep: frozenset[int] = frozenset()) -> int:
    """Mark streams whose writer died (no save since `older_than`) as interrupted; returns how many."""
    stale = [
        message_id
        for message_id in session.scalars(
            select(Message.id).where(Message.status == "streaming", Message.updated_at < older_than)
        )
        if message_id not in keep
    ]
    if stale:
        session.execute(
            update(Message)
            .where(Message.id.in_(stale))
            .values(
                status="interrupted",
                error="The server stopped while this reply was streaming; the text above is what had arrived.",
            )
        )
    return len(stale)


# --- the conversation list ---------------------------------------------------------------------------------

PURGE_BATCH = 500
MAX_TITLE_LENGTH = 300  # the column's size


def page_cursor(conversation: Conversation) -> tuple[bool, datetime, int]:
    """Where `list_conversations` continues after this row."""
    return (conversation.pinned, conversation.updated_at, conversation.id)


def _after_cursor(
    session: Session, user: User, before: tuple[bool, datetime, int] | tuple[datetime, int]
) -> ColumnElement[bool]:
    """The rows that come after `before` in the list's order: pinned first, then newest first."""
    if len(before) == 2:
        updated_at, conversation_id = before
        pinned = bool(
            session.scalar(
                select(Conversation.pinned).where(Conversation.id == conversation_id, Conversation.user_id == user.id)
            )
        )
    else:
        pinned, updated_at, conversation_id = before
    older = (Conversation.updated_at < updated_at) | (
        (Conversation.updated_at == updated_at) & (Conversation.id < conversation_id)
    )
    same_group = (Conversation.pinned == pinned) & older
    if pinned:  # every unpinned row comes after the pinned ones
        return same_group | (Conversation.pinned == False)  # noqa: E712
    return same_group


def rename_conversation(session: Session, user: User, conversation_id: int, title: str) -> Conversation | None:
    """Give the conversation a new title (whitespace collapsed); an empty title is refused with ValueError."""
    cleaned = " ".join(title.split())[:MAX_TITLE_LENGTH]
    if not cleaned:
        raise ValueError("A title cannot be empty.")
    conversation = get_conversation(session, user, conversation_id)
    if conversation is not None:
        conversation.title = cleaned
    return conversation


def set_pinned(session: Session, user: User, conversation_id: int, pinned: bool) -> None:
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.user_id == user.id)
        .values(pinned=pinned)
    )


def soft_delete_conversation(session: Session, user: User, conversation_id: int) -> None:
    """Hide the conversation everywhere; it stays restorable until `purge_deleted` removes it."""
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.user_id == user.id, Conversation.deleted_at.is_(None))
        .values(deleted_at=utcnow())
    )


def restore_conversation(session: Session, user: User, conversation_id: int) -> Conversation | None:
    """Undo a delete; None when there is nothing (left) to restore."""
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.user_id == user.id)
        .values(deleted_at=None)
    )
    return get_conversation(session, user, conversation_id)


def purge_deleted(session: Session, *, older_than: datetime) -> int:
    """Housekeeping for every user: remove conversations deleted before `older_than`; returns how many."""
    doomed = list(
        session.scalars(
            select(Conversation.id).where(Conversation.deleted_at.is_not(None), Conversation.deleted_at < older_than)
        )
    )
    purge_conversations(session, doomed)
    return len(doomed)


def purge_conversations(session: Session, conversation_ids: list[int]) -> None:
    """Remove these conversations and their messages for good (housekeeping and undoing a failed import)."""
    for start in range(0, len(conversation_ids), PURGE_BATCH):
        batch = conversation_ids[start : start + PURGE_BATCH]
        # Unlink the tree first: SQLite runs each cascade level as a nested trigger and stops 1,000 levels deep.
        session.execute(update(Message).where(Message.conversation_id.in_(batch)).values(parent_id=None))
        session.execute(delete(Conversation).where(Conversation.id.in_(batch)))
