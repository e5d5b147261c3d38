"""Export a conversation (Markdown or RelayChat JSON) or everything (a JSON backup); import RelayChat JSON, a plain
OpenAI `messages` array or ChatGPT's conversations.json, all or nothing.

RelayChat JSON carries the whole message tree (parents by id, the current leaf) and each message's metadata, so
export → import gives the same conversation. Imported files are read and checked completely before anything is
written; a file that cannot be imported raises ImportFormatError naming the conversation, message and field.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import repository
from db.engine import Database
from db.models import FINAL_STATUSES, NEW_CHAT_TITLE, Conversation, Endpoint, Message, User, utcnow
from services import import_writer, json_limits
from services.params import ChatParams, ParameterError

CONVERSATION_FORMAT = "relaychat.conversation"
BACKUP_FORMAT = "relaychat.backup"
FORMAT_VERSION = 1

ROLES = ("system", "user", "assistant", "tool")
ROLE_HEADINGS = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}
IMPORTED_TITLE = "Imported chat"
# Column sizes: longer values would be refused by PostgreSQL halfway through an import.
MAX_LENGTHS = {"model": 200, "finish_reason": 40, "tool_call_id": 200}
ATTACHMENT_KINDS = ("image", "text")
USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")
TIMING_FIELDS = ("time_to_first_token_ms", "duration_ms")

ImportSource = Literal["relaychat", "openai", "chatgpt"]
# A file (or a zip's member, counted while it expands: its header may lie) larger than the upload limit is refused.
MAX_IMPORT_BYTES = 200_000_000
IMPORT_MAX_DEPTH = 100  # a backup's deepest field (a tool schema in a stored request) sits well below this


class ImportFormatError(ValueError):
    """A file that cannot be imported; the message says where (conversation, message, field) and what is wrong."""


@dataclass(frozen=True)
class ImportResult:
    """What an import added: the new conversations (in file order) and how many messages they hold."""

    source: ImportSource
    conversation_ids: tuple[int, ...]
    message_count: int
    skipped_conversations: int = 0  # conversations with nothing visible to import (ChatGPT's hidden-only ones)


# --- export ------------------------------------------------------------------------------------------------


def export_markdown(session: Session, user: User, conversation_id: int) -> str | None:
    """The visible branch as Markdown: the title, then each message under a role heading. None if not found."""
    conversation = repository.get_conversation(session, user, conversation_id)
    if conversation is None:
        return None
    lines = [f"# {conversation.title}", ""]
    details = [f"Model: {conversation.model}"] if conversation.model else []
    details.append(f"Exported from RelayChat on {utcnow():%Y-%m-%d %H:%M} UTC")
    lines += ["_" + " · ".join(details) + "_", ""]
    if conversation.system_prompt.strip():
        lines += ["## System prompt", "", conversation.system_prompt.strip(), ""]
    for message in repository.message_path(session, conversation):
        heading = ROLE_HEADINGS.get(message.role, message.role.title())
        if message.role == "assistant" and message.model:
            heading += f" ({message.model})"
        lines += [f"## {heading}", ""]
        if message.reasoning:
            lines += ["<details><summary>Reasoning</summary>", "", message.reasoning.strip(), "", "</details>", ""]
        if message.attachments:
            names = ", ".join(str(item.get("name", "?")) for item in message.attachments)
            lines += [f"_Attached: {names}_", ""]
        if message.content:
            lines += [message.content.strip(), ""]
        if message.tool_calls:
            lines += ["```json", json.dumps(message.tool_calls, indent=2, ensure_ascii=False), "```", ""]
        if message.status != "complete":
            note = f"_({message.status}" + (f": {message.error}" if message.error else "") + ")_"
            lines += [note, ""]
    return "\n".join(lines).rstrip() + "\n"


def export_json(session: Session, user: User, conversation_id: int) -> str | None:
    """The conversation as RelayChat JSON ("relaychat.conversation" v1), the whole tree. None if not found."""
    conversation = repository.get_conversation(session, user, conversation_id)
    if conversation is None:
        return None
    messages = list(
        session.scalars(select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id))
    )
    endpoints = {e.id: e for e in repository.list_endpoints(session, user)}
    document = {
        "format": CONVERSATION_FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": _iso(utcnow()),
        "conversation": _conversation_document(conversation, messages, endpoints.get(conversation.endpoint_id or 0)),
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def export_backup(session: Session, user: User) -> str:
    """Every conversation of the user (deleted ones aside) as one RelayChat JSON backup ("relaychat.backup" v1)."""
    conversations = list(
        session.scalars(
            select(Conversation)
            .where(Conversation.user_id == user.id, Conversation.deleted_at.is_(None))
            .order_by(Conversation.id)
        )
    )
    messages: dict[int, list[Message]] = defaultdict(list)
    for message in session.scalars(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.user_id == user.id, Conversation.deleted_at.is_(None))
        .order_by(Message.conversation_id, Message.id)
    ):
        messages[message.conversation_id].append(message)
    endpoints = {e.id: e for e in repository.list_endpoints(session, user)}
    document = {
        "format": BACKUP_FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": _iso(utcnow()),
        "conversations": [
            _conversation_document(c, messages[c.id], endpoints.get(c.endpoint_id or 0)) for c in conversations
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def export_filename(title: str, extension: str) -> str:
    """A safe file name for a download: the title's words joined by dashes, then the extension."""
    stem = re.sub(r"[^\w]+", "-", title.casefold()).strip("-")[:60].strip("-") or "conversation"
    return f"{stem}.{extension.lstrip('.')}"


def _conversation_document(
    conversation: Conversation, messages: list[Message], endpoint: Endpoint | None
) -> dict[str, Any]:
    # Ids in the file count from 1 in tree order; database ids mean nothing elsewhere.
    file_ids = {message.id: number for number, message in enumerate(messages, start=1)}
    return {
        "title": conversation.title,
        "created_at": _iso(conversation.created_at),
        "updated_at": _iso(conversation.updated_at),
        "pinned": conversation.pinned,
        "settings": {
            "endpoint": {"name": endpoint.name, "base_url": endpoint.base_url} if endpoint else None,
            "model": conversation.model,
            "system_prompt": conversation.system_prompt,
            "params": conversation.params or {},
        },
        "current_leaf": file_ids.get(conversation.current_leaf_id or 0),
        "messages": [_message_document(m, file_ids) for m in messages],
    }


def _message_document(message: Message, file_ids: Mapping[int, int]) -> dict[str, Any]:
    usage = {name: getattr(message, name) for name in USAGE_FIELDS}
    timing = {name: getattr(message, name) for name in TIMING_FIELDS}
    return {
        "id": file_ids[message.id],
        "parent": file_ids[message.parent_id] if message.parent_id is not None else None,
        "role": message.role,
        "content": message.content,
        "reasoning": message.reasoning,
        "tool_calls": message.tool_calls,
        "tool_call_id": message.tool_call_id,
        "choices": message.choices,
        "chosen_index": message.chosen_index,
        "attachments": message.attachments,
        "model": message.model,
        "status": message.status,
        "finish_reason": message.finish_reason,
        "usage": usage if any(v is not None for v in usage.values()) else None,
        "timing": timing if any(v is not None for v in timing.values()) else None,
        "request": message.request,
        "response_meta": message.response_meta,
        "error": message.error,
        "created_at": _iso(message.created_at),
    }


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


# --- import: the common shape ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DraftMessage:
    """A message read from a file, not saved yet; `key` and `parent` are ids within the file."""

    key: Any
    parent: Any
    role: str
    content: str
    fields: Mapping[str, Any] = field(default_factory=dict)  # other Message columns: model, status, usage…


@dataclass(frozen=True)
class _DraftConversation:
    title: str
    messages: tuple[_DraftMessage, ...]  # parents before children
    leaf: Any
    model: str | None = None
    system_prompt: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    endpoint: tuple[str, str] | None = None  # (name, base_url), matched against the user's endpoints
    pinned: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


def import_file(db: Database, user: User, raw: bytes, filename: str) -> ImportResult:
    """Import a RelayChat export or backup, an OpenAI messages array or ChatGPT's conversations.json (also
    inside its .zip). The file is checked completely first; then everything is saved, or nothing (in short
    transactions that let other writers in: services/import_writer.py)."""
    document = _read_json(raw, filename)
    source, drafts, skipped = _parse(document, filename)
    if not drafts:
        raise ImportFormatError(f"{filename}: there is no conversation with visible messages to import.")
    ids = import_writer.save_conversations(db, user, drafts)
    return ImportResult(source, tuple(ids), sum(len(d.messages) for d in drafts), skipped)


def _read_json(raw: bytes, filename: str) -> Any:
    if raw.startswith(b"PK\x03\x04"):
        raw, filename = _from_zip(raw, filename)
    elif len(raw) > MAX_IMPORT_BYTES:
        raise ImportFormatError(f"{filename} is larger than {_megabytes(MAX_IMPORT_BYTES)}.")
    try:
        return json_limits.loads(raw.decode("utf-8-sig"), max_depth=IMPORT_MAX_DEPTH, max_chars=None)
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"{filename} is not UTF-8 text (byte {exc.start}).") from exc
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            f"{filename} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc
    except json_limits.JsonLimitError as exc:
        raise ImportFormatError(f"{filename} {exc}") from exc


def _from_zip(raw: bytes, filename: str) -> tuple[bytes, str]:
    """ChatGPT's export arrives as a .zip: take its conversations.json (or its only JSON file)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".json")]
            chosen = [n for n in names if PurePath(n).name == "conversations.json"] or names
            if len(chosen) != 1:
                raise ImportFormatError(f"{filename}: the archive has no conversations.json to import.")
            return _read_member(archive, chosen[0], filename), f"{filename}/{chosen[0]}"
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ImportFormatError(f"{filename} is a damaged zip archive.") from exc


def _read_member(archive: zipfile.ZipFile, name: str, filename: str) -> bytes:
    """The member's bytes, counted as they expand: a 1 MB zip of 1 GiB is refused after MAX_IMPORT_BYTES."""
    chunks, size = [], 0
    with archive.open(name) as member:
        while chunk := member.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_IMPORT_BYTES:
                raise ImportFormatError(
                    f"{filename}: {name} expands to more than {_megabytes(MAX_IMPORT_BYTES)}, too large to import."
                )
            chunks.append(chunk)
    return b"".join(chunks)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def _parse(document: Any, filename: str) -> tuple[ImportSource, list[_DraftConversation], int]:
    if isinstance(document, dict) and "format" in document:
        return "relaychat", _relaychat(document, filename), 0
    if isinstance(document, dict) and "mapping" in document:
        document = [document]
    if isinstance(document, dict) and "messages" in document:
        return "openai", [_openai(document["messages"], document, filename)], 0
    if isinstance(document, list) and document and isinstance(document[0], dict):
        if "mapping" in document[0]:
            parsed = [_chatgpt(item, number) for number, item in enumerate(document, start=1)]
            drafts = [draft for draft in parsed if draft is not None]
            return "chatgpt", drafts, len(parsed) - len(drafts)
        if "role" in document[0]:
            return "openai", [_openai(document, {}, filename)], 0
    if isinstance(document, list) and not document:
        raise ImportFormatError(f"{filename} holds an empty list: there is nothing to import.")
    raise ImportFormatError(
        f"{filename} is not a file RelayChat can import: expected a RelayChat export or backup, "
        "ChatGPT's conversations.json, or an OpenAI messages array."
    )


def _title(messages: Sequence[_DraftMessage], fallback: str) -> str:
    """A title from the first user message's words, or `fallback` when no user message has any."""
    first_user = next((m.content for m in messages if m.role == "user" and m.content.strip()), "")
    return repository.title_from_text(first_user) if first_user else fallback


def _model(value: object) -> str | None:
    return value[: MAX_LENGTHS["model"]] if isinstance(value, str) and value else None


def _default_leaf(messages: Iterable[_DraftMessage]) -> Any:
    """The end of the newest branch: from the last root, the last child at every step."""
    children: dict[Any, list[Any]] = defaultdict(list)
    for message in messages:
        children[message.parent].append(message.key)
    if not children[None]:
        return None
    key = children[None][-1]
    while children.get(key):
        key = children[key][-1]
    return key


# --- import: RelayChat JSON --------------------------------------------------------------------------------


def _relaychat(document: dict[str, Any], filename: str) -> list[_DraftConversation]:
    kind = document.get("format")
    if kind not in (CONVERSATION_FORMAT, BACKUP_FORMAT):
        raise ImportFormatError(
            f"{filename}: \"format\" is {kind!r}; RelayChat reads {CONVERSATION_FORMAT!r} and {BACKUP_FORMAT!r}."
        )
    version = document.get("version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION
        reason = "was written by a newer RelayChat" if newer else "is not a version this RelayChat knows"
        raise ImportFormatError(f"{filename}: \"version\" {version!r} {reason} (it reads version {FORMAT_VERSION}).")
    if kind == CONVERSATION_FORMAT:
        return [_relaychat_conversation(document.get("conversation"), "the conversation")]
    conversations = document.get("conversations")
    if not isinstance(conversations, list):
        raise ImportFormatError(f"{filename}: \"conversations\" must be a list.")
    return [_relaychat_conversation(item, f"conversation {n}") for n, item in enumerate(conversations, start=1)]


def _relaychat_conversation(item: Any, where: str) -> _DraftConversation:
    data = _Fields(item, where)
    title = data.text("title", required=False)
    if title:
        data = _Fields(item, f"{where} (“{title[:40]}”)")
    settings = _Fields(data.mapping("settings") or {}, f"{data.where}, settings")
    endpoint_data = settings.mapping("endpoint")
    endpoint = None
    if endpoint_data is not None:
        endpoint_fields = _Fields(endpoint_data, f"{settings.where}, endpoint")
        endpoint = (endpoint_fields.text("name") or "", endpoint_fields.text("base_url") or "")
    raw_messages = data.value("messages", list, "a list")
    messages: list[_DraftMessage] = []
    seen: set[Any] = set()
    for number, raw in enumerate(raw_messages or [], start=1):
        message = _relaychat_message(raw, f"{data.where}, message {number}", seen)
        seen.add(message.key)
        messages.append(message)
    leaf = data.value("current_leaf", (int, str), "a message id")
    if leaf is not None and leaf not in seen:
        raise ImportFormatError(f"{data.where}: \"current_leaf\" {leaf!r} is not the id of one of its messages.")
    return _DraftConversation(
        title=title or _title(messages, NEW_CHAT_TITLE),
        messages=tuple(messages),
        leaf=leaf if leaf is not None else _default_leaf(messages),
        model=_bounded(settings, "model"),
        system_prompt=settings.text("system_prompt", required=False) or "",
        params=_params(settings.mapping("params") or {}, settings.where),
        endpoint=endpoint,
        pinned=bool(data.value("pinned", bool, "true or false")),
        created_at=data.timestamp("created_at"),
        updated_at=data.timestamp("updated_at"),
    )


def _relaychat_message(raw: Any, where: str, earlier: set[Any]) -> _DraftMessage:
    data = _Fields(raw, where)
    key = data.value("id", (int, str), "a number or text", required=True)
    if key in earlier:
        raise ImportFormatError(f"{where}: \"id\" {key!r} is used by an earlier message too.")
    parent = data.value("parent", (int, str), "a message id")
    if parent is not None and parent not in earlier:
        raise ImportFormatError(f"{where}: \"parent\" {parent!r} is not the id of an earlier message.")
    role = data.choice("role", ROLES)
    status = data.choice("status", ("streaming", *FINAL_STATUSES), required=False) or "complete"
    fields: dict[str, Any] = {
        "reasoning": data.text("reasoning", required=False),
        "tool_calls": data.value("tool_calls", list, "a list"),
        "tool_call_id": _bounded(data, "tool_call_id"),
        "choices": _choices(data),
        "chosen_index": data.value("chosen_index", int, "a whole number"),
        "attachments": _attachments(data),
        "model": _bounded(data, "model"),
        "status": "interrupted" if status == "streaming" else status,  # nothing will ever finish it
        "finish_reason": _bounded(data, "finish_reason"),
        "request": data.mapping("request"),
        "response_meta": data.mapping("response_meta"),
        "error": data.text("error", required=False),
        "created_at": data.timestamp("created_at"),
    }
    for group, names in (("usage", USAGE_FIELDS), ("timing", TIMING_FIELDS)):
        numbers = _Fields(data.mapping(group) or {}, f"{where}, {group}")
        fields.update({name: numbers.value(name, int, "a whole number") for name in names})
    return _DraftMessage(key, parent, role, data.text("content", required=True) or "", fields)


# --- import: an OpenAI messages array ----------------------------------------------------------------------

OPENAI_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool",
                "function": "tool"}
TEXT_PART_TYPES = ("text", "input_text", "output_text")


def _openai(raw_messages: Any, body: Mapping[str, Any], filename: str) -> _DraftConversation:
    """A linear conversation; system (and developer) messages become the system prompt."""
    if not isinstance(raw_messages, list):
        raise ImportFormatError(f"{filename}: \"messages\" must be a list.")
    system_parts: list[str] = []
    messages: list[_DraftMessage] = []
    for number, raw in enumerate(raw_messages, start=1):
        data = _Fields(raw, f"{filename}, message {number}")
        role = OPENAI_ROLES[data.choice("role", tuple(OPENAI_ROLES)) or ""]
        content = _openai_content(raw.get("content"), data.where)
        fields = {
            "tool_calls": data.value("tool_calls", list, "a list"), "tool_call_id": _bounded(data, "tool_call_id")
        }
        if role == "system":
            system_parts.append(content)
            continue
        parent = messages[-1].key if messages else None
        messages.append(_DraftMessage(number, parent, role, content, fields))
    if not messages:
        raise ImportFormatError(f"{filename}: there are no user or assistant messages to import.")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise ImportFormatError(f"{filename}: \"model\" must be text.")
    request_params = dict(body)
    if isinstance(request_params.get("response_format"), dict):
        request_params["response_format"] = request_params["response_format"].get("type")
    params = {k: v for k, v in request_params.items() if k in ("temperature", "top_p", "max_tokens", "response_format")}
    return _DraftConversation(
        title=_title(messages, PurePath(filename).stem),
        messages=tuple(messages),
        leaf=messages[-1].key,
        model=_model(model),
        system_prompt="\n\n".join(part for part in system_parts if part),
        params=_params(params, filename),
    )


def _openai_content(content: Any, where: str) -> str:
    """Text content, or the text parts of a list of content parts (images and audio are not kept)."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise ImportFormatError(f"{where}: \"content\" must be text or a list of content parts.")
    texts = []
    for number, part in enumerate(content, start=1):
        if not isinstance(part, dict):
            raise ImportFormatError(f"{where}, content part {number}: must be an object.")
        if part.get("type") in TEXT_PART_TYPES:
            if not isinstance(part.get("text"), str):
                raise ImportFormatError(f"{where}, content part {number}: \"text\" must be text.")
            texts.append(part["text"])
    return "\n\n".join(texts)


# --- import: ChatGPT's conversations.json ------------------------------------------------------------------


def _chatgpt(item: Any, number: int) -> _DraftConversation | None:
    """One ChatGPT conversation: its mapping tree becomes our branches. Hidden, system, tool and empty nodes are
    skipped (their children hang from the nearest kept ancestor); None when nothing visible is left."""
    where = f"conversation {number}"
    if isinstance(item, dict) and isinstance(item.get("title"), str) and item["title"].strip():
        where += f" (“{item['title'][:40]}”)"
    data = _Fields(item, where)
    mapping = data.value("mapping", dict, "an object", required=True)
    nodes = {node_id: _Fields(node, f"{where}, node {node_id!r}") for node_id, node in mapping.items()}
    children: dict[str | None, list[str]] = defaultdict(list)
    for node_id, node in nodes.items():
        parent = node.value("parent", str, "a node id")
        if parent is not None and parent not in nodes:
            raise ImportFormatError(f"{node.where}: \"parent\" {parent!r} is not in the mapping.")
        children[parent].append(node_id)
    for parent, kids in children.items():  # keep ChatGPT's own order of the children (oldest first)
        listed = (nodes[parent].value("children", list, "a list") or []) if parent is not None else []
        position = {kid: index for index, kid in enumerate(listed)}
        kids.sort(key=lambda kid: position.get(kid, len(position)))

    messages: list[_DraftMessage] = []
    kept_at: dict[str, str | None] = {}  # node id -> the nearest kept node at or above it
    stack: list[tuple[str, str | None]] = [(root, None) for root in reversed(children[None])]
    while stack:
        node_id, kept_parent = stack.pop()
        message = _chatgpt_message(nodes[node_id], node_id, kept_parent, item.get("create_time"))
        if message is not None:
            messages.append(message)
        kept_at[node_id] = message.key if message is not None else kept_parent
        stack += [(kid, kept_at[node_id]) for kid in reversed(children[node_id])]
    if len(kept_at) != len(nodes):
        stranded = next(node_id for node_id in nodes if node_id not in kept_at)
        raise ImportFormatError(f"{where}: node {stranded!r} is in a cycle of parents, not under a root.")
    if not messages:
        return None

    current = item.get("current_node")
    leaf = kept_at.get(current) if isinstance(current, str) else None
    title = data.text("title", required=False)
    return _DraftConversation(
        title=title.strip() if title and title.strip() else _title(messages, IMPORTED_TITLE),
        messages=tuple(messages),
        leaf=leaf if leaf is not None else _default_leaf(messages),
        model=_model(item.get("default_model_slug")),
        created_at=_epoch(item.get("create_time")),
        updated_at=_epoch(item.get("update_time")),
    )


def _chatgpt_message(node: _Fields, node_id: str, parent: str | None, fallback_time: Any) -> _DraftMessage | None:
    raw = node.value("message", dict, "an object")
    if raw is None:
        return None
    message = _Fields(raw, f"{node.where}, message")
    author = _Fields(message.mapping("author") or {}, f"{message.where}, author")
    role = author.text("role", required=True)
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    hidden = bool(metadata.get("is_visually_hidden_from_conversation"))
    # An assistant message addressed to a tool ("python", "browser"…) is a tool call, not an answer.
    if role not in ("user", "assistant") or hidden or raw.get("recipient", "all") not in ("all", None):
        return None
    content = _Fields(message.mapping("content") or {}, f"{message.where}, content")
    if content.text("content_type", required=False) not in ("text", "multimodal_text"):
        return None
    parts = content.value("parts", list, "a list") or []
    text = "\n\n".join(part for part in parts if isinstance(part, str)).strip()
    if not text:
        return None
    model = metadata.get("model_slug")
    fields = {
        "model": _model(model) if role == "assistant" else None,
        "created_at": _epoch(raw.get("create_time")) or _epoch(fallback_time),
    }
    return _DraftMessage(node_id, parent, role, text, fields)


# --- reading fields with messages that say where -----------------------------------------------------------


class _Fields:
    """Typed access to one JSON object's fields; wrong ones raise ImportFormatError naming `where` and the field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ImportFormatError(f"{where}: must be a JSON object, not {_json_kind(data)}.")
        self.data = data
        self.where = where

    def value(self, name: str, kinds: type | tuple[type, ...], described: str, *, required: bool = False) -> Any:
        value = self.data.get(name)
        if value is None:
            if required:
                raise ImportFormatError(f"{self.where}: \"{name}\" is missing.")
            return None
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ImportFormatError(f"{self.where}: \"{name}\" must be {described}, not {_json_kind(value)}.")
        return value

    def text(self, name: str, *, required: bool = True) -> str | None:
        return self.value(name, str, "text", required=required)  # type: ignore[no-any-return]

    def mapping(self, name: str) -> dict[str, Any] | None:
        return self.value(name, dict, "an object")  # type: ignore[no-any-return]

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self.text(name, required=required)
        if value is not None and value not in options:
            raise ImportFormatError(f"{self.where}: \"{name}\" must be one of {', '.join(options)}, not {value!r}.")
        return value

    def timestamp(self, name: str) -> datetime | None:
        value = self.text(name, required=False)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ImportFormatError(f"{self.where}: \"{name}\" {value!r} is not an ISO 8601 date and time.") from exc
        try:  # stored in UTC: 0001-01-01T00:30+01:00 is a date before the year 1
            return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        except OverflowError as exc:
            raise ImportFormatError(
                f"{self.where}: \"{name}\" {value!r} is out of the range of dates RelayChat stores (years 1 to 9999)."
            ) from exc


def _bounded(data: _Fields, name: str) -> str | None:
    value = data.text(name, required=False)
    if value is not None and len(value) > MAX_LENGTHS[name]:
        raise ImportFormatError(f"{data.where}: \"{name}\" is longer than {MAX_LENGTHS[name]} characters.")
    return value or None


def _objects(data: _Fields, name: str) -> list[_Fields]:
    items = data.value(name, list, "a list") or []
    return [_Fields(item, f"{data.where}, {name} {number}") for number, item in enumerate(items, start=1)]


def _choices(data: _Fields) -> list[dict[str, Any]] | None:
    """The n > 1 alternatives of a reply; each needs its "index" (the chosen one is picked by it)."""
    choices = _objects(data, "choices")
    for choice in choices:
        choice.value("index", int, "a whole number", required=True)
    return [choice.data for choice in choices] or None


def _attachments(data: _Fields) -> list[dict[str, Any]] | None:
    """Files sent with a message, as stored: a name, a kind, and the image's data URL or the file's text."""
    attachments = _objects(data, "attachments")
    for attachment in attachments:
        attachment.text("name")
        attachment.choice("kind", ATTACHMENT_KINDS)
        attachment.value("size", int, "a whole number")
        attachment.text("data_url", required=False)
        attachment.text("text", required=False)
    return [attachment.data for attachment in attachments] or None


def _params(params: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Stored parameters, validated like typed ones; the keys given are kept (no defaults are added)."""
    try:
        normalized = ChatParams.from_dict(params).to_dict()
    except ParameterError as exc:
        raise ImportFormatError(f"{where}, params: \"{exc.field}\" {exc.reason}") from exc
    return {key: normalized[key] for key in params if key in normalized}


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"
