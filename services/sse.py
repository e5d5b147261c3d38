"""Server-sent events, decoded in layers: bytes → text → lines → events → JSON chunks.

Each layer is usable and testable alone. The event decoder follows the WHATWG
"event stream interpretation" algorithm; it is modelled on httpx-sse and openai-python.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from services.errors import EndpointReportedError, ProtocolError, extract_error_message

_LINE_END = re.compile(r"\r\n|\r|\n")  # the only line endings SSE allows (not str.splitlines' extras)
_EXCERPT_CHARS = 120


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event; `id` is the last event ID seen so far in the stream."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


class LineDecoder:
    """Splits text fed in arbitrary pieces into lines ended by CR, LF or CRLF."""

    def __init__(self) -> None:
        self._buffer = ""
        self._skip_lf = False  # the last piece ended in CR: an LF opening the next piece belongs to it

    def feed(self, text: str) -> list[str]:
        """Complete lines found so far, without their line endings."""
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" not in text and "\n" not in text:
            self._buffer += text
            return []
        *lines, self._buffer = _LINE_END.split(self._buffer + text)
        # A trailing CR already ended its line; remember it so a following LF is not a second (blank) line.
        self._skip_lf = text.endswith("\r")
        return lines

    def flush(self) -> list[str]:
        """The unterminated last line, if any (end of stream)."""
        rest, self._buffer, self._skip_lf = self._buffer, "", False
        return [rest] if rest else []


class SSEDecoder:
    """Incremental SSE decoder: feed bytes as they arrive, get the events they complete."""

    def __init__(self) -> None:
        # Invalid UTF-8 becomes U+FFFD; a character split across reads is held until complete.
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines = LineDecoder()
        self._at_start = True
        self._event = ""
        self._data: list[str] = []
        self._retry: int | None = None
        self._last_id: str | None = None

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Events completed by this piece of the stream."""
        return self._decode_lines(self._lines.feed(self._decode_text(data, final=False)))

    def close(self) -> list[ServerSentEvent]:
        """End of stream: flush partial input and dispatch an event left without its blank line."""
        lines = self._lines.feed(self._decode_text(b"", final=True)) + self._lines.flush()
        events = self._decode_lines(lines)
        last = self.decode_line("")  # lenient: real endpoints sometimes omit the final blank line
        return events + [last] if last else events

    def decode_line(self, line: str) -> ServerSentEvent | None:
        """Process one line (without its ending); returns the event a blank line dispatches."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):  # comment, e.g. ": keep-alive" or OpenRouter's ": OPENROUTER PROCESSING"
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:  # the spec ignores ids containing NUL
                self._last_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        return None  # unknown fields are ignored

    def _decode_text(self, data: bytes, *, final: bool) -> str:
        text = self._text.decode(data, final)
        if self._at_start and text:
            self._at_start = False
            if text[0] == "\ufeff":  # the spec strips one leading byte-order mark
                text = text[1:]
        return text

    def _decode_lines(self, lines: list[str]) -> list[ServerSentEvent]:
        return [event for line in lines if (event := self.decode_line(line)) is not None]

    def _dispatch(self) -> ServerSentEvent | None:
        event_type, data, retry = self._event, self._data, self._retry
        self._event, self._data, self._retry = "", [], None
        if not data:  # a block without data fields dispatches nothing
            return None
        return ServerSentEvent(event=event_type or "message", data="\n".join(data), id=self._last_id, retry=retry)


def iter_events(source: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """The events of a byte stream such as httpx's `response.iter_bytes()`."""
    decoder = SSEDecoder()
    for piece in source:
        yield from decoder.feed(piece)
    yield from decoder.close()


def _excerpt(text: str) -> str:
    return repr(text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…")


def _error_code(payload: dict) -> str | None:
    error = payload.get("error")
    source = error if isinstance(error, dict) else payload
    code = source.get("code")
    return None if code is None or isinstance(code, (dict, list)) else str(code)


def _is_error_payload(payload: dict) -> bool:
    # {"error": ...} is the OpenAI shape; {"object": "error", ...} is what older vLLM sends.
    return payload.get("error") is not None or payload.get("object") == "error"


class ChunkReader:
    """Iterates the JSON chunks of a chat-completions stream, stopping at `data: [DONE]`."""

    def __init__(self, source: Iterable[bytes]) -> None:
        self._source = source
        self.saw_done = False

    def __iter__(self) -> Iterator[dict]:
        for event in iter_events(self._source):
            data = event.data.strip()
            if not data:
                continue
            if data == "[DONE]":
                self.saw_done = True
                return  # whatever follows DONE is not part of the answer
            yield self._parse(event.event, data)

    @staticmethod
    def _parse(event_type: str, data: str) -> dict:
        try:
            payload = json.loads(data)
        except ValueError:
            if event_type == "error":
                raise EndpointReportedError(data) from None
            raise ProtocolError(f"The endpoint sent stream data that is not JSON: {_excerpt(data)}") from None
        if event_type == "error" or (isinstance(payload, dict) and _is_error_payload(payload)):
            code = _error_code(payload) if isinstance(payload, dict) else None
            raise EndpointReportedError(extract_error_message(payload) or data, code=code)
        if not isinstance(payload, dict):
            raise ProtocolError(f"The endpoint sent stream data that is not a JSON object: {_excerpt(data)}")
        return payload
