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

from services.config import ReplyLimits
from services.errors import EndpointReportedError, ProtocolError, extract_error_message
from services.reply_limits import ReplyLimitReached

_LINE_END = re.compile(r"\r\n|\r|\n")  # the only line endings SSE allows (not str.splitlines' extras)
_EXCERPT_CHARS = 120


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event; `id` is the last event ID seen so far in the stream."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


class LineTooLong(ValueError):
    """A line, or an event's data, passed the decoder's `max_chars`."""


class LineDecoder:
    """Splits text fed in arbitrary pieces into lines ended by CR, LF or CRLF, each at most `max_chars` long."""

    def __init__(self, max_chars: int | None = None) -> None:
        # The unfinished line, as pieces: `str +=` would copy it on every read (a 50 MB line took minutes).
        self._pieces: list[str] = []
        self._size = 0
        self._max = max_chars
        self._skip_lf = False  # the last piece ended in CR: an LF opening the next piece belongs to it

    def feed(self, text: str) -> list[str]:
        """Complete lines found so far, without their line endings."""
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" not in text and "\n" not in text:
            self._pieces.append(text)
            self._size += len(text)
            self._check(self._size)
            return []
        *lines, rest = _LINE_END.split("".join([*self._pieces, text]))
        self._pieces, self._size = [rest], len(rest)
        for line in (*lines, rest):
            self._check(len(line))
        # A trailing CR already ended its line; remember it so a following LF is not a second (blank) line.
        self._skip_lf = text.endswith("\r")
        return lines

    def flush(self) -> list[str]:
        """The unterminated last line, if any (end of stream)."""
        rest = "".join(self._pieces)
        self._pieces, self._size, self._skip_lf = [], 0, False
        return [rest] if rest else []

    def _check(self, size: int) -> None:
        if self._max is not None and size > self._max:
            raise LineTooLong(f"a line of more than {self._max} characters")


class SSEDecoder:
    """Incremental SSE decoder: feed bytes as they arrive, get the events they complete. With `max_chars`, a line or
    an event's data longer than that raises LineTooLong instead of growing without end."""

    def __init__(self, max_chars: int | None = None) -> None:
        # Invalid UTF-8 becomes U+FFFD; a character split across reads is held until complete.
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines = LineDecoder(max_chars)
        self._max = max_chars
        self._at_start = True
        self._event = ""
        self._data: list[str] = []
        self._data_size = 0
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
            # A relay that ends events with one newline instead of two sends `data: {…}` lines back to back:
            # a pending line that is JSON on its own ends its event (a JSON text followed by more is never JSON).
            event = self._dispatch() if self._starts_new_event(value) else None
            self._data.append(value)
            self._data_size += len(value)
            if self._max is not None and self._data_size > self._max:
                raise LineTooLong(f"an event of more than {self._max} characters")
            return event
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:  # the spec ignores ids containing NUL
                self._last_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        return None  # unknown fields are ignored

    def _starts_new_event(self, value: str) -> bool:
        """Whether a data line begins a new event even though no blank line ended the last; never, by the spec."""
        return False

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
        self._event, self._data, self._data_size, self._retry = "", [], 0, None
        if not data:  # a block without data fields dispatches nothing
            return None
        return ServerSentEvent(event=event_type or "message", data="\n".join(data), id=self._last_id, retry=retry)


class JSONEventDecoder(SSEDecoder):
    """The SSE decoder for JSON data, lenient with relays that separate events by a single newline."""

    def _starts_new_event(self, value: str) -> bool:
        if len(self._data) != 1 or not value.lstrip().startswith(("{", "[DONE]")):
            return False  # only the first line of an event is tried, so each line is parsed at most once here
        if self._data[0].strip() == "[DONE]":
            return True
        try:
            json.loads(self._data[0])
        except ValueError:
            return False
        return True


def iter_events(source: Iterable[bytes], decoder: SSEDecoder | None = None) -> Iterator[ServerSentEvent]:
    """The events of a byte stream such as httpx's `response.iter_bytes()`."""
    decoder = decoder or SSEDecoder()
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
    """Iterates the JSON chunks of a chat-completions stream, stopping at `data: [DONE]`; a line or event over the
    reply size cap stops it with ReplyLimitReached."""

    def __init__(self, source: Iterable[bytes], limits: ReplyLimits | None = None) -> None:
        self._source = source
        self._limits = limits
        self.saw_done = False

    def __iter__(self) -> Iterator[dict]:
        limits = self._limits
        # JSON escapes can double a text's length (CJK as \uXXXX): a line twice the cap is past it for sure.
        decoder = JSONEventDecoder(2 * limits.max_bytes if limits else None)
        try:
            yield from self._chunks(decoder)
        except LineTooLong:
            assert limits is not None
            raise ReplyLimitReached.size(limits) from None

    def _chunks(self, decoder: SSEDecoder) -> Iterator[dict]:
        for event in iter_events(self._source, decoder):
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
