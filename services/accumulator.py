"""Assembles `chat.completion.chunk` dicts (or one non-streamed `chat.completion`) into a reply.

Endpoints differ in small ways, so every field is read defensively: a value of an
unexpected type is ignored rather than allowed to crash the stream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Usage:
    """Token counts as the endpoint reported them."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None

    @classmethod
    def from_api(cls, obj: dict | None) -> Usage | None:
        """None when the endpoint sent no usable counts."""
        if not isinstance(obj, dict):
            return None
        prompt, completion = _int(obj.get("prompt_tokens")), _int(obj.get("completion_tokens"))
        total = _int(obj.get("total_tokens"))
        if total is None and prompt is not None and completion is not None:
            total = prompt + completion
        if prompt is None and completion is None and total is None:
            return None
        return cls(prompt, completion, total)


@dataclass
class ToolCall:
    """A function call the model asked for; `arguments` is the raw JSON text."""

    index: int
    id: str | None = None
    type: str = "function"
    name: str = ""
    arguments: str = ""

    def to_api(self) -> dict:
        """The shape an assistant message's `tool_calls` entry takes in the next request."""
        return {"id": self.id, "type": self.type, "function": {"name": self.name, "arguments": self.arguments}}


class GrowingText:
    """Text that grows by small pieces in linear time. `str +=` copies the whole text on every piece once anything
    else holds it (a snapshot does): a 100,000-token reply took 3 s of CPU that way, under the lock pages read by."""

    __slots__ = ("_text", "_pieces")

    def __init__(self) -> None:
        self._text, self._pieces = "", []

    def append(self, piece: str) -> None:
        self._pieces.append(piece)

    def __str__(self) -> str:
        if self._pieces:
            self._text = "".join([self._text, *self._pieces])
            self._pieces.clear()
        return self._text


@dataclass
class Choice:
    """One of the n alternative replies."""

    index: int
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    _content: GrowingText = field(default_factory=GrowingText, repr=False)
    _reasoning: GrowingText = field(default_factory=GrowingText, repr=False)

    @property
    def content(self) -> str:
        return str(self._content)

    @property
    def reasoning(self) -> str:
        return str(self._reasoning)


def _arguments(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # some servers send the arguments already parsed
        return json.dumps(value, ensure_ascii=False)
    return None


def _merge_name(current: str, name: str) -> str:
    # Most servers send the name once; some repeat it whole in later deltas, a few stream it in pieces.
    return name if not current or name.startswith(current) else current + name


@dataclass
class ReplyAccumulator:
    """The reply assembled so far; feed it chunks with `add`."""

    id: str | None = None
    model: str | None = None
    system_fingerprint: str | None = None
    created: int | None = None
    usage: Usage | None = None
    choices: dict[int, Choice] = field(default_factory=dict)
    received_content: bool = False  # any content, reasoning or tool-call delta: tells first-token from idle timeouts
    size: int = 0  # UTF-8 bytes of every choice's content, reasoning and tool-call arguments (the reply size cap)
    pieces: int = 0  # deltas that carried any of those: the streamed tokens (the token cap)

    def add(self, chunk: dict) -> None:
        """Merge one chunk (a streamed delta, or a whole message via `reply_from_response`)."""
        if not isinstance(chunk, dict):
            return
        # The first value wins: relays sometimes vary these per chunk, and later chunks may omit them.
        self.id = self.id or _str(chunk.get("id"))
        self.model = self.model or _str(chunk.get("model"))
        self.system_fingerprint = self.system_fingerprint or _str(chunk.get("system_fingerprint"))
        self.created = self.created if self.created is not None else _int(chunk.get("created"))
        usage = Usage.from_api(chunk.get("usage"))
        if usage is not None:  # the last report wins; it may ride on a chunk that also has choices
            self.usage = usage
        choices = chunk.get("choices")
        if isinstance(choices, list):
            for position, raw in enumerate(choices):
                if isinstance(raw, dict):
                    self._add_choice(position, raw)

    def choice(self, index: int = 0) -> Choice:
        """The choice with this index, created empty if it has not appeared yet."""
        if index not in self.choices:
            self.choices[index] = Choice(index=index)
        return self.choices[index]

    @property
    def content(self) -> str:
        return self.choices[0].content if 0 in self.choices else ""

    @property
    def reasoning(self) -> str:
        return self.choices[0].reasoning if 0 in self.choices else ""

    @property
    def finish_reason(self) -> str | None:
        return self.choices[0].finish_reason if 0 in self.choices else None

    @property
    def tool_calls(self) -> list[ToolCall]:
        return self.choices[0].tool_calls if 0 in self.choices else []

    def _add_choice(self, position: int, raw: dict) -> None:
        index = _int(raw.get("index"))
        choice = self.choice(position if index is None else index)
        delta = raw.get("delta")
        if not isinstance(delta, dict):
            delta = raw.get("message")  # non-streamed responses carry the whole message
        if isinstance(delta, dict):
            self._add_delta(choice, delta)
        finish = _str(raw.get("finish_reason"))
        if finish:
            choice.finish_reason = finish

    def _add_delta(self, choice: Choice, delta: dict) -> None:
        size = self.size
        content = _str(delta.get("content"))
        if content:
            choice._content.append(content)
            self.received_content = True
            self.size += len(content.encode("utf-8", "replace"))
        # DeepSeek and older vLLM say reasoning_content, OpenRouter and newer vLLM say reasoning;
        # take one so a relay that sends both does not double the text.
        reasoning = _str(delta.get("reasoning_content")) or _str(delta.get("reasoning"))
        if reasoning:
            choice._reasoning.append(reasoning)
            self.received_content = True
            self.size += len(reasoning.encode("utf-8", "replace"))
        tool_calls = delta.get("tool_calls")
        if isinstance(tool_calls, list):
            for raw in tool_calls:
                if isinstance(raw, dict):
                    self._add_tool_call(choice, raw)
        if self.size > size or tool_calls:
            self.pieces += 1

    def _add_tool_call(self, choice: Choice, raw: dict) -> None:
        call = _find_call(choice.tool_calls, raw)
        self.received_content = True
        call_id = _str(raw.get("id"))
        if call_id and not call.id:
            call.id = call_id
        call_type = _str(raw.get("type"))
        if call_type:
            call.type = call_type
        function = raw.get("function")
        if not isinstance(function, dict):
            return
        name = _str(function.get("name"))
        if name:
            call.name = _merge_name(call.name, name)
        arguments = _arguments(function.get("arguments"))
        if arguments:
            call.arguments += arguments
            self.size += len(arguments.encode("utf-8", "replace"))


def _find_call(calls: list[ToolCall], raw: dict) -> ToolCall:
    """The call this delta continues, appended if new; deltas without an index are matched by id."""
    index = _int(raw.get("index"))
    call_id = _str(raw.get("id"))
    if index is None:
        # Servers that omit the index: a known id continues its call, a new id starts one,
        # no id continues the latest call (index 0 when there is only one).
        if call_id and any(c.id == call_id for c in calls):
            return next(c for c in calls if c.id == call_id)
        if calls and not call_id:
            return calls[-1]
        index = max((c.index for c in calls), default=-1) + 1
    for call in calls:
        if call.index == index:
            return call
    call = ToolCall(index=index)
    calls.append(call)
    calls.sort(key=lambda c: c.index)
    return call


def reply_from_response(body: dict) -> ReplyAccumulator:
    """A non-streamed `chat.completion` body parsed into the same result as a stream."""
    reply = ReplyAccumulator()
    if not isinstance(body, dict):
        return reply
    # Whole messages carry tool calls without an index: number them by position.
    choices = body.get("choices")
    if isinstance(choices, list):
        body = {**body, "choices": [_index_tool_calls(c) for c in choices]}
    reply.add(body)
    return reply


def _index_tool_calls(raw: Any) -> Any:
    message = raw.get("message") if isinstance(raw, dict) else None
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    if not isinstance(calls, list):
        return raw
    indexed = [{**c, "index": i} if isinstance(c, dict) else c for i, c in enumerate(calls)]
    return {**raw, "message": {**message, "tool_calls": indexed}}
