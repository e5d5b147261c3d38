"""What happens when a user sends a message, retries or stops: the decisions, not the rendering."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from db import branches, repository
from db.branches import BranchError
from db.engine import WriteFailed
from db.models import Conversation, Endpoint, Message, User, utcnow
from services.attachments import Attachment, api_content
from services.client import EndpointAccess
from services.codegen import RequestPreview
from services.config import chat_url
from services.extra_headers import decrypt_headers
from services.generation import TITLE_INSTRUCTION, GenerationJob
from services.keys import KeyBox
from services.params import ChatParams, MaxTokensField, ParameterError, build_chat_body
from services.runtime import Runtime
from services.sent_request import recorded_request

log = logging.getLogger("relaychat.chat")


@dataclass(frozen=True)
class ChatSettings:
    """The settings a conversation is sent with; saved with it and restored when it is reopened."""

    endpoint_id: int | None
    model: str
    system_prompt: str = ""
    params: ChatParams = field(default_factory=ChatParams)

    @classmethod
    def of(cls, conversation: Conversation) -> ChatSettings:
        return cls(conversation.endpoint_id, conversation.model or "", conversation.system_prompt or "",
                   ChatParams.lenient(conversation.params))


class ChatError(ValueError):
    """A turn that cannot be sent; `field` names the setting to fix ("model", "endpoint", a parameter)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Turn:
    conversation_id: int
    assistant_message_id: int


def api_messages(system_prompt: str, path: Iterable[Message]) -> list[dict[str, Any]]:
    """The visible branch as the API's messages; failed empty replies are left out."""
    messages: list[dict[str, Any]] = []
    if system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    for message in path:
        if message.role == "assistant":
            if message.status == "streaming" or not (message.content or message.tool_calls):
                continue
            item: dict[str, Any] = {"role": "assistant", "content": message.content or None}
            if message.tool_calls:
                item["tool_calls"] = message.tool_calls
            messages.append(item)
        elif message.role == "tool":
            messages.append({"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content})
        elif message.role == "user" and message.attachments:
            files = [Attachment.from_json(item) for item in message.attachments]
            messages.append({"role": "user", "content": api_content(message.content, files)})
        else:
            messages.append({"role": message.role, "content": message.content})
    return messages


def endpoint_access(endpoint: Endpoint, keybox: KeyBox) -> EndpointAccess:
    key = keybox.decrypt(endpoint.api_key_encrypted) if endpoint.api_key_encrypted else None
    if endpoint.api_key_encrypted and key is None:
        raise ChatError(
            "endpoint",
            f"The API key of “{endpoint.name}” cannot be decrypted (the server secret changed). "
            "Enter the key again on the Endpoints page.",
        )
    headers = decrypt_headers(keybox, endpoint.extra_headers_encrypted)
    if headers is None:
        raise ChatError(
            "endpoint",
            f"The extra headers of “{endpoint.name}” cannot be decrypted (the server secret changed). "
            "Enter them again on the Endpoints page.",
        )
    return EndpointAccess(endpoint.base_url, key, headers)


def send_message(
    runtime: Runtime,
    user: User,
    conversation_id: int | None,
    text: str,
    settings: ChatSettings,
    attachments: Sequence[Attachment] = (),
) -> Turn:
    """Save the user's message (before any request), then start the reply in a worker."""
    if not text.strip() and not attachments:
        raise ChatError("message", "The message is empty.")

    def sent(session: Session) -> Message:
        # A new conversation gets its settings from _reply_to, which checks the endpoint first.
        conversation = repository.get_conversation(session, user, conversation_id) or repository.create_conversation(
            session, user, endpoint_id=None, model=None)
        return repository.add_message(
            session, conversation, role="user", content=text, parent_id=conversation.current_leaf_id,
            attachments=[a.to_json() for a in attachments] or None,
        )

    return _reply_to(runtime, user, settings, sent)


def retry(runtime: Runtime, user: User, message_id: int, settings: ChatSettings) -> Turn:
    """Answer the same user message again, as a sibling of the failed reply (which is kept)."""

    def asked(session: Session) -> Message:
        failed = repository.get_message(session, user, message_id)
        if failed is None or failed.parent_id is None:
            raise ChatError("message", "That reply no longer exists.")
        parent = repository.get_message(session, user, failed.parent_id)
        assert parent is not None  # the foreign key guarantees it
        return parent

    return _reply_to(runtime, user, settings, asked)


def _reply_to(runtime: Runtime, user: User, settings: ChatSettings, place: Callable[[Session], Message]) -> Turn:
    """Start a reply to the message `place` finds or saves, the settings stored with its conversation; all in one
    transaction, so a refusal (no endpoint, a bad message) leaves nothing behind."""
    _check(settings)
    try:
        with runtime.db.write() as session:
            parent = place(session)
            conversation = parent.conversation
            endpoint = _save_settings(session, user, conversation, settings)
            job = _start_reply(runtime, session, conversation, parent=parent, endpoint=endpoint, settings=settings)
    except WriteFailed as exc:  # nothing was stored: say so, so the page keeps what the user typed
        raise ChatError("message", f"Your message was not saved and nothing was sent: {exc}.") from exc
    runtime.registry.start(job)  # after the commit: the worker reads the saved rows
    return Turn(job.conversation_id, job.message_id)


def save_settings(runtime: Runtime, user: User, conversation_id: int, settings: ChatSettings) -> None:
    """Remember the sidebar's settings with the conversation; kept as they were while the endpoint is gone."""
    try:
        with runtime.db.write() as session:
            conversation = repository.get_conversation(session, user, conversation_id)
            if conversation is not None:
                _save_settings(session, user, conversation, settings)
    except ChatError:
        pass
    except WriteFailed:  # the page keeps the settings and the next send stores them with its message
        log.warning("the settings of conversation %s were not saved (database busy or full)", conversation_id)


def _check(settings: ChatSettings) -> None:
    if settings.endpoint_id is None:
        raise ChatError("endpoint", "Choose an endpoint first (or add one on the Endpoints page).")
    if not settings.model.strip():
        raise ChatError("model", "Choose or type a model name first.")


def _require_endpoint(session: Session, user: User, settings: ChatSettings) -> Endpoint:
    # Checked before the conversation is saved with it: an id deleted in another tab (or not this user's)
    # would otherwise surface as a foreign-key error instead of this message.
    endpoint = repository.get_endpoint(session, user, settings.endpoint_id)
    if endpoint is None:
        raise ChatError("endpoint", "That endpoint no longer exists; choose another.")
    return endpoint


def _save_settings(session: Session, user: User, conversation: Conversation, settings: ChatSettings) -> Endpoint:
    """Store the settings with the conversation; returns their endpoint, checked first (see _require_endpoint)."""
    endpoint = _require_endpoint(session, user, settings)
    repository.update_conversation_settings(
        session,
        user,
        conversation.id,
        endpoint_id=settings.endpoint_id,
        model=settings.model,
        system_prompt=settings.system_prompt,
        params=settings.params.to_dict(),
    )
    return endpoint


def _start_reply(
    runtime: Runtime, session: Session, conversation: Conversation, *, parent: Message, endpoint: Endpoint,
    settings: ChatSettings,
) -> GenerationJob:
    access = endpoint_access(endpoint, runtime.keybox)
    conversation.current_leaf_id = parent.id
    session.flush()
    body = _request_body(endpoint, settings, repository.message_path(session, conversation))
    assistant = repository.add_message(
        session,
        conversation,
        role="assistant",
        content="",
        parent_id=parent.id,
        model=settings.model,
        status="streaming",
        request=recorded_request(body),
    )
    first_reply = parent.role == "user" and parent.parent_id is None
    title_body = _title_body(endpoint, parent.content) if first_reply and endpoint.title_model else None
    return GenerationJob(assistant.id, conversation.id, endpoint.id, access, body, title_body=title_body)


def _title_body(endpoint: Endpoint, first_message: str) -> dict[str, Any]:
    """The request that asks the endpoint's title model to name a new conversation (no streaming, a few tokens)."""
    messages = [{"role": "system", "content": TITLE_INSTRUCTION}, {"role": "user", "content": first_message[:2000]}]
    return build_chat_body(endpoint.title_model or "", messages, ChatParams(max_tokens=24, temperature=0.2, stream=False),
                           max_tokens_field=_max_tokens_field(endpoint))


def _request_body(
    endpoint: Endpoint, settings: ChatSettings, path: Iterable[Message], draft: str | None = None
) -> dict[str, Any]:
    """The one function that turns a conversation into a request body: the real call and View code use it."""
    history = api_messages(settings.system_prompt, path)
    if draft is not None:
        history.append({"role": "user", "content": draft})
    try:
        return build_chat_body(
            settings.model,
            history,
            settings.params,
            include_usage=endpoint.supports_stream_usage is not False,
            max_tokens_field=_max_tokens_field(endpoint),
        )
    except ParameterError as exc:
        raise ChatError(exc.field, str(exc)) from exc


def _max_tokens_field(endpoint: Endpoint) -> MaxTokensField:
    return "max_completion_tokens" if endpoint.max_tokens_field == "max_completion_tokens" else "max_tokens"


def preview_request(
    runtime: Runtime, user: User, conversation_id: int | None, draft: str, settings: ChatSettings
) -> RequestPreview:
    """The request that sending `draft` now would make, key masked (for View code)."""
    _check(settings)
    with runtime.db.read() as session:
        endpoint = _require_endpoint(session, user, settings)
        conversation = repository.get_conversation(session, user, conversation_id)
        path = repository.message_path(session, conversation) if conversation else []
        body = _request_body(endpoint, settings, path, draft or "Hello!")
        access = endpoint_access(endpoint, runtime.keybox)
    return RequestPreview.masked(chat_url(access.base_url), access.headers(), body)


def submit_tool_results(
    runtime: Runtime, user: User, message_id: int, results: dict[str, str], settings: ChatSettings
) -> Turn:
    """Answer an assistant turn's tool calls (one tool message per call, in order) and let the model go on."""

    def answers(session: Session) -> Message:
        assistant = repository.get_message(session, user, message_id)
        if assistant is None or not assistant.tool_calls:
            raise ChatError("message", "That reply has no tool calls to answer.")
        missing = [call["function"]["name"] for call in assistant.tool_calls if not results.get(call["id"], "").strip()]
        if missing:
            raise ChatError("tool_results", f"Type a result for every tool call (missing: {', '.join(missing)}).")
        parent = assistant
        for call in assistant.tool_calls:
            parent = repository.add_message(
                session, assistant.conversation, role="tool", content=results[call["id"]], parent_id=parent.id,
                tool_call_id=call["id"],
            )
        return parent

    return _reply_to(runtime, user, settings, answers)


def choose_choice(runtime: Runtime, user: User, message_id: int, index: int) -> None:
    """With n > 1: make choice `index` the one that continues the conversation (all stay saved)."""
    with runtime.db.write() as session:
        message = repository.get_message(session, user, message_id)
        if message is None or not message.choices:
            raise ChatError("message", "That reply has no alternatives to choose from.")
        chosen = next((c for c in message.choices if c["index"] == index), None)
        if chosen is None:
            raise ChatError("message", f"There is no choice {index + 1}.")
        message.content = chosen["content"] or ""
        message.reasoning = chosen.get("reasoning")
        message.tool_calls = chosen.get("tool_calls")
        message.finish_reason = chosen.get("finish_reason")
        message.chosen_index = index


def edit_and_resend(runtime: Runtime, user: User, message_id: int, text: str, settings: ChatSettings) -> Turn:
    """A new branch: the edited user message as a sibling of the old one, answered afresh."""
    if not text.strip():
        raise ChatError("message", "The message is empty.")

    def edited(session: Session) -> Message:
        try:
            return branches.edit_user_message(session, user, message_id, text)
        except BranchError as exc:
            raise ChatError("message", str(exc)) from exc

    return _reply_to(runtime, user, settings, edited)


CONTINUE_PROMPT = "Continue exactly where you stopped."


def continue_reply(runtime: Runtime, user: User, message_id: int, settings: ChatSettings) -> Turn:
    """After a reply cut by max_tokens: ask for the rest and add it to the same reply, so that it reads as one.

    The request ends with the cut reply and CONTINUE_PROMPT as a user turn (a valid body for every endpoint: an
    assistant message may not be last for many); that instruction is sent, not saved."""
    _check(settings)
    try:
        with runtime.db.write() as session:
            message = repository.get_message(session, user, message_id)
            if message is None or message.role != "assistant":
                raise ChatError("message", "That reply no longer exists.")
            if message.status == "streaming" or message.finish_reason != "length":  # a second click, another tab
                raise ChatError("message", "That reply is already being continued.")
            conversation = message.conversation
            endpoint = _save_settings(session, user, conversation, settings)
            access = endpoint_access(endpoint, runtime.keybox)
            conversation.current_leaf_id = message.id
            session.flush()
            body = _request_body(endpoint, settings, repository.message_path(session, conversation), CONTINUE_PROMPT)
            job = GenerationJob(message.id, conversation.id, endpoint.id, access, body,
                                continues=message.content or "", continues_reasoning=message.reasoning or "")
            message.status, message.finish_reason, message.error = "streaming", None, None
            message.updated_at = utcnow()  # a fresh stream, not a stale one to mark interrupted
    except WriteFailed as exc:
        raise ChatError("message", f"Nothing was sent: {exc}.") from exc
    runtime.registry.start(job)  # after the commit: the worker reads the saved rows
    return Turn(conversation.id, message.id)
