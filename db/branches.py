"""The message tree: siblings, switching the visible branch, editing as a new branch, forking and deleting.

Messages with the same parent are siblings (regenerated answers, edited questions), ordered by id; the roots of a
conversation are siblings of each other. The conversation's current leaf picks the visible branch.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db import repository
from db.models import Conversation, Message, User, utcnow

DELETE_BATCH = 500
FORK_SUFFIX = " (fork)"
# Columns that place a message in a tree; everything else is copied when forking.
_TREE_COLUMNS = frozenset({"id", "conversation_id", "parent_id"})


class BranchError(ValueError):
    """A branch operation that cannot be done; the message says why."""


class MessageNotFound(BranchError, LookupError):
    """The message does not exist, is not the user's, or its conversation was deleted."""


def siblings(session: Session, user: User, message_id: int) -> list[Message]:
    """The message and its siblings, oldest first; [] when the message is not the user's."""
    message = _visible_message(session, user, message_id)
    if message is None:
        return []
    parent = Message.parent_id.is_(None) if message.parent_id is None else Message.parent_id == message.parent_id
    return list(
        session.scalars(
            select(Message).where(Message.conversation_id == message.conversation_id, parent).order_by(Message.id)
        )
    )


def sibling_groups(session: Session, user: User, conversation_id: int) -> dict[int, tuple[int, ...]]:
    """For every message of the conversation, its sibling group's ids in order (one query, for `< 2/3 >`)."""
    if repository.get_conversation(session, user, conversation_id) is None:
        return {}
    groups = _children(_parents(session, conversation_id))
    return {message_id: tuple(group) for group in groups.values() for message_id in group}


def switch_branch(session: Session, user: User, message_id: int) -> Message:
    """Show the branch through this message: the leaf becomes its latest descendant (newest child at each step)."""
    message = _owned_message(session, user, message_id)
    leaf_id = _latest_descendant(_children(_parents(session, message.conversation_id)), message.id)
    message.conversation.current_leaf_id = leaf_id
    session.flush()
    leaf = session.get(Message, leaf_id)
    assert leaf is not None
    return leaf


def edit_user_message(session: Session, user: User, message_id: int, new_content: str) -> Message:
    """Save an edited question as a new sibling of the original (which is kept) and show its branch."""
    message = _owned_message(session, user, message_id)
    if message.role != "user":
        raise BranchError("Only your own messages can be edited; regenerate an answer instead.")
    if not new_content.strip():
        raise BranchError("The message is empty.")
    return repository.add_message(
        session, message.conversation, role="user", content=new_content, parent_id=message.parent_id
    )


def fork_conversation(session: Session, user: User, message_id: int) -> Conversation:
    """A new conversation with the same settings and a copy of the path from the root to this message."""
    message = _owned_message(session, user, message_id)
    original = message.conversation
    path = repository.message_path(session, original, leaf_id=message.id)

    title = original.title[: repository.MAX_TITLE_LENGTH - len(FORK_SUFFIX)] + FORK_SUFFIX
    fork = Conversation(
        user_id=user.id,
        endpoint_id=original.endpoint_id,
        title=title,
        model=original.model,
        system_prompt=original.system_prompt,
        params=dict(original.params or {}),
    )
    session.add(fork)
    session.flush()
    parent_id = None
    for source in path:
        copy = Message(conversation_id=fork.id, parent_id=parent_id, **_copied_fields(source))
        session.add(copy)
        session.flush()
        parent_id = copy.id
    fork.current_leaf_id = parent_id
    return fork


def delete_message(session: Session, user: User, message_id: int) -> None:
    """Delete the message and everything below it; if the visible branch went with it, show the sibling
    before it (or after it), or else its parent."""
    message = _owned_message(session, user, message_id)
    conversation = message.conversation
    children = _children(_parents(session, conversation.id))
    doomed = _subtree(children, message.id)
    if conversation.current_leaf_id is None or conversation.current_leaf_id in doomed:
        others = [i for i in children.get(message.parent_id, []) if i != message.id]
        if others:
            earlier = [i for i in others if i < message.id]
            replacement = max(earlier) if earlier else min(others)
            conversation.current_leaf_id = _latest_descendant(children, replacement)
        else:
            conversation.current_leaf_id = message.parent_id
    ordered = sorted(doomed)
    for start in range(0, len(ordered), DELETE_BATCH):
        batch = ordered[start : start + DELETE_BATCH]
        # Unlink first: SQLite cascades each tree level as a nested trigger and stops 1,000 levels deep.
        session.execute(update(Message).where(Message.id.in_(batch)).values(parent_id=None))
    for start in range(0, len(ordered), DELETE_BATCH):
        session.execute(delete(Message).where(Message.id.in_(ordered[start : start + DELETE_BATCH])))
    session.flush()


# --- the tree ----------------------------------------------------------------------------------------------


def _visible_message(session: Session, user: User, message_id: int) -> Message | None:
    return session.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id == message_id, Conversation.user_id == user.id, Conversation.deleted_at.is_(None))
    )


def _owned_message(session: Session, user: User, message_id: int) -> Message:
    message = _visible_message(session, user, message_id)
    if message is None:
        raise MessageNotFound("That message no longer exists.")
    return message


def _parents(session: Session, conversation_id: int) -> dict[int, int | None]:
    """Every message id of the conversation with its parent id, in id order: the whole tree in one query."""
    rows = session.execute(
        select(Message.id, Message.parent_id).where(Message.conversation_id == conversation_id).order_by(Message.id)
    )
    return {message_id: parent_id for message_id, parent_id in rows}


def _children(parents: dict[int, int | None]) -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for message_id, parent_id in parents.items():
        children[parent_id].append(message_id)
    return children


def _latest_descendant(children: dict[int | None, list[int]], message_id: int) -> int:
    while children.get(message_id):
        message_id = max(children[message_id])
    return message_id


def _subtree(children: dict[int | None, list[int]], message_id: int) -> set[int]:
    found, stack = {message_id}, [message_id]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _copied_fields(source: Message) -> dict[str, object]:
    fields = {column.key: getattr(source, column.key) for column in Message.__table__.columns}
    fields = {key: value for key, value in fields.items() if key not in _TREE_COLUMNS}
    fields["updated_at"] = utcnow()
    if source.status == "streaming":  # nothing will ever finish the copy
        fields["status"] = "interrupted"
        fields["error"] = "Forked while this reply was streaming: the copy ends where the text had got to."
    return fields
