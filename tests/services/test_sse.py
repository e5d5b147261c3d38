"""SSE decoding: line splitting, the event state machine, and the chunk reader on top."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pytest

from services.config import ReplyLimits
from services.errors import EndpointReportedError, ProtocolError
from services.reply_limits import ReplyLimitReached
from services.sse import ChunkReader, LineDecoder, LineTooLong, ServerSentEvent, SSEDecoder, iter_events


def decode(pieces: Iterable[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.close()


def sse(*lines: str, ending: str = "\n") -> bytes:
    return "".join(line + ending for line in lines).encode()


# One stream exercising every feature; rendered below with each kind of line ending.
STREAM_LINES = [
    ": keep-alive",
    "",
    'data: {"a": 1}',
    "",
    "event: update",
    "id: 7",
    "retry: 3000",
    "data:first",  # no space after the colon
    "data:  second",  # two spaces: only the first is dropped
    "",
    ": comment between events",
    "data: héllo 世界 🎉",
    "",
]
EXPECTED = [
    ServerSentEvent(data='{"a": 1}'),
    ServerSentEvent(event="update", data="first\n second", id="7", retry=3000),
    ServerSentEvent(data="héllo 世界 🎉", id="7"),  # the last event id carries over, as the spec says
]
ENDINGS = {"LF": "\n", "CRLF": "\r\n", "CR": "\r"}


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_whole_stream_in_one_read(ending: str) -> None:
    assert decode([sse(*STREAM_LINES, ending=ending)]) == EXPECTED


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_stream_cut_at_every_offset(ending: str) -> None:
    raw = sse(*STREAM_LINES, ending=ending)
    for cut in range(len(raw) + 1):
        assert decode([raw[:cut], raw[cut:]]) == EXPECTED, f"cut at byte {cut}"


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_stream_fed_byte_by_byte(ending: str) -> None:
    raw = sse(*STREAM_LINES, ending=ending)
    assert decode(raw[i : i + 1] for i in range(len(raw))) == EXPECTED


def test_mixed_line_endings() -> None:
    raw = b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r"
    assert decode([raw]) == [ServerSentEvent(data="a\nb\nc"), ServerSentEvent(data="d")]


def test_crlf_split_between_cr_and_lf_is_one_line_ending() -> None:
    # Were the LF taken as a second line ending, the blank line would dispatch "a" alone.
    assert decode([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [ServerSentEvent(data="a\nb")]


def test_event_is_dispatched_as_soon_as_its_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n") == []
    assert decoder.feed(b"\ndata: tw") == [ServerSentEvent(data="one")]
    # A CR is a complete line ending: no need to wait for a possible LF.
    assert decoder.feed(b"o\r\n\r") == [ServerSentEvent(data="two")]
    assert decoder.feed(b"\n") == []
    assert decoder.close() == []


def test_utf8_split_inside_characters() -> None:
    text = "héllo 世界 🎉"
    raw = sse(f"data: {text}", "")
    for cut in range(len(raw) + 1):
        assert decode([raw[:cut], raw[cut:]]) == [ServerSentEvent(data=text)]
    assert decode(raw[i : i + 1] for i in range(len(raw))) == [ServerSentEvent(data=text)]


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert decode([b"data: \xff ok\n\n"]) == [ServerSentEvent(data="\ufffd ok")]
    # A character still incomplete when the stream ends.
    assert decode([b"data: abc\xe4\xb8"]) == [ServerSentEvent(data="abc\ufffd")]


def test_comments_only_dispatch_nothing() -> None:
    assert decode([b": keep-alive\n\n: OPENROUTER PROCESSING\n\n:\n\n"]) == []


def test_multiline_data_joined_with_newline() -> None:
    assert decode([sse("data: line one", "data:", "data: line three", "")]) == [
        ServerSentEvent(data="line one\n\nline three")
    ]


def test_several_events_in_one_read() -> None:
    raw = sse("data: 1", "", "data: 2", "", "event: ping", "data: 3", "")
    assert decode([raw]) == [
        ServerSentEvent(data="1"),
        ServerSentEvent(data="2"),
        ServerSentEvent(event="ping", data="3"),
    ]


def test_one_event_split_over_many_reads() -> None:
    assert decode([b"da", b"ta", b": {\"x\"", b": 1", b"}", b"\n", b"\n"]) == [ServerSentEvent(data='{"x": 1}')]


@pytest.mark.parametrize("raw", [b"data: last\n", b"data: last", b"data: last\r"], ids=["LF", "none", "CR"])
def test_final_event_without_blank_line_is_dispatched_at_close(raw: bytes) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: first\n\n" + raw) == [ServerSentEvent(data="first")]
    assert decoder.close() == [ServerSentEvent(data="last")]


def test_fields_follow_the_spec() -> None:
    raw = sse(
        "data",  # no colon: the whole line is the field name, the value is empty
        "data",
        "unknown: ignored",
        "retry: soon",  # not digits: ignored
        "id: a\0b",  # contains NUL: ignored
        "",
        "event: x",
        "",  # no data: nothing dispatched, and the event type resets
        "data: y",
        "",
    )
    assert decode([raw]) == [ServerSentEvent(data="\n"), ServerSentEvent(data="y")]


def test_leading_byte_order_mark_is_dropped() -> None:
    assert decode([b"\xef\xbb", b"\xbfdata: x\n\n"]) == [ServerSentEvent(data="x")]


def test_line_decoder_alone() -> None:
    lines = LineDecoder()
    assert lines.feed("a\r") == ["a"]
    assert lines.feed("\nb\n\nc") == ["b", ""]
    assert lines.feed("\u2028d") == []  # only CR and LF end lines, not every Unicode separator
    assert lines.flush() == ["c\u2028d"]


def test_decode_line_alone() -> None:
    decoder = SSEDecoder()
    assert decoder.decode_line("event: delta") is None
    assert decoder.decode_line("data: x") is None
    assert decoder.decode_line("") == ServerSentEvent(event="delta", data="x")


def test_iter_events_over_a_byte_iterator() -> None:
    assert list(iter_events(iter([b"data: a\n", b"\ndata: b"]))) == [ServerSentEvent(data="a"), ServerSentEvent(data="b")]


# ChunkReader ---------------------------------------------------------------------------------------


def chunk(content: str, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-AXc0Lm3fQ9",
        "object": "chat.completion.chunk",
        "created": 1732262400,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_0ba0d124f1",
        "choices": [{"index": 0, "delta": {"content": content}, "logprobs": None, "finish_reason": finish}],
    }


def data_lines(*payloads: object) -> bytes:
    return b"".join(f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n".encode() for p in payloads)


def test_reader_yields_chunks_and_stops_at_done() -> None:
    chunks = [chunk("Hel"), chunk("lo"), chunk("", "stop")]
    raw = b": keep-alive\n\n" + data_lines(*chunks, "[DONE]") + b"data: not json, never read\n\n"
    reader = ChunkReader([raw[i : i + 7] for i in range(0, len(raw), 7)])
    assert reader.saw_done is False
    assert list(reader) == chunks
    assert reader.saw_done is True


def test_reader_without_done_just_ends() -> None:
    raw = data_lines(chunk("Hi")) + b'data: {"choices": []}'  # last event lacks its blank line too
    reader = ChunkReader([raw])
    assert list(reader) == [chunk("Hi"), {"choices": []}]
    assert reader.saw_done is False


def test_reader_skips_events_with_empty_data() -> None:
    reader = ChunkReader([b"data:\n\ndata:   \n\n" + data_lines(chunk("x"), "[DONE]")])
    assert list(reader) == [chunk("x")]


def test_reader_is_lazy() -> None:
    def source() -> Iterator[bytes]:
        yield data_lines(chunk("first"))
        raise ConnectionError("dropped")

    chunks = iter(ChunkReader(source()))
    assert next(chunks) == chunk("first")  # delivered before the connection broke
    with pytest.raises(ConnectionError):
        next(chunks)


def test_error_payload_raises_with_the_endpoints_message() -> None:
    error = {
        "error": {
            "message": "Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM).",
            "type": "tokens",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    reader = ChunkReader([data_lines(chunk("partial"), error)])
    chunks = iter(reader)
    assert next(chunks) == chunk("partial")
    with pytest.raises(EndpointReportedError) as caught:
        next(chunks)
    assert caught.value.endpoint_message == error["error"]["message"]
    assert caught.value.code == "rate_limit_exceeded"


def test_error_event_type_raises() -> None:
    raw = b'event: error\ndata: {"type": "error", "message": "Overloaded"}\n\n'
    with pytest.raises(EndpointReportedError, match="Overloaded"):
        list(ChunkReader([raw]))
    with pytest.raises(EndpointReportedError, match="upstream went away"):
        list(ChunkReader([b"event: error\ndata: upstream went away\n\n"]))


def test_vllm_error_object_raises() -> None:
    error = {
        "object": "error",
        "message": "This model's maximum context length is 4096 tokens.",
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }
    with pytest.raises(EndpointReportedError, match="maximum context length") as caught:
        list(ChunkReader([data_lines(error)]))
    assert caught.value.code == "400"


def test_non_json_data_raises_protocol_error_with_excerpt() -> None:
    with pytest.raises(ProtocolError, match="<html>"):
        list(ChunkReader([b"data: <html><body>Bad gateway</body></html>\n\n"]))
    with pytest.raises(ProtocolError) as caught:
        list(ChunkReader([b"data: " + b"x" * 5000 + b"\n\n"]))
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("payload", ["42", '["a"]', '"text"', "null"])
def test_json_that_is_not_an_object_raises_protocol_error(payload: str) -> None:
    with pytest.raises(ProtocolError):
        list(ChunkReader([data_lines(payload)]))


# --- relays that end events with one newline; lines without end (issue 12) -----------------------------------


def chunk_json(text: str) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
@pytest.mark.parametrize("cut", [None, 1, 7], ids=["one-read", "1-byte-reads", "7-byte-reads"])
def test_events_separated_by_one_newline_are_each_a_chunk(ending: str, cut: int | None) -> None:
    raw = sse(f"data: {chunk_json('one ')}", ": keep-alive", f"data: {chunk_json('两 ')}",
              f"data:{chunk_json('three')}", "data: [DONE]", f"data: {chunk_json('after done')}", ending=ending)
    pieces = [raw] if cut is None else [raw[i : i + cut] for i in range(0, len(raw), cut)]
    reader = ChunkReader(pieces)
    texts = [chunk["choices"][0]["delta"]["content"] for chunk in reader]
    assert texts == ["one ", "两 ", "three"]
    assert reader.saw_done


def test_chunks_arrive_one_by_one_with_one_newline_between_them() -> None:
    """Not all at the end of the stream: each line is a chunk as soon as the next one begins."""
    seen: list[str] = []

    def source() -> Iterator[bytes]:
        for word in ("a", "b", "c"):
            yield f"data: {chunk_json(word)}\n".encode()
            seen.append(word)

    texts = []
    for chunk in ChunkReader(source()):
        texts.append(chunk["choices"][0]["delta"]["content"])
        assert len(seen) <= len(texts)  # the chunk came before the stream went on
    assert texts == ["a", "b", "c"]


def test_a_json_event_spread_over_several_data_lines_is_still_one_event() -> None:
    raw = sse("data: {", 'data: "choices": []', "data: }", "", ending="\n")
    assert list(ChunkReader([raw])) == [{"choices": []}]


def test_one_newline_between_lines_that_are_not_json_still_reports_the_bad_data() -> None:
    with pytest.raises(ProtocolError, match="not JSON"):
        list(ChunkReader([sse("data: hello", "data: world", "")]))


def test_a_line_longer_than_the_bound_raises_before_it_is_all_held() -> None:
    decoder = LineDecoder(max_chars=1000)
    assert decoder.feed("short\n" + "x" * 600) == ["short"]
    with pytest.raises(LineTooLong):
        decoder.feed("x" * 600)


def test_a_long_line_in_one_read_is_refused_too() -> None:
    with pytest.raises(LineTooLong):
        SSEDecoder(max_chars=1000).feed(b"data: " + b"x" * 2000 + b"\n\n")


def test_many_short_data_lines_of_one_event_are_bounded_together() -> None:
    with pytest.raises(LineTooLong):
        SSEDecoder(max_chars=1000).feed(b"data: xxxxxxxxxx\n" * 200)


def test_lines_up_to_the_bound_pass() -> None:
    assert decode_bounded(b"data: " + b"y" * 900 + b"\n\n") == [ServerSentEvent(data="y" * 900)]


def decode_bounded(raw: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder(max_chars=1000)
    return decoder.feed(raw) + decoder.close()


def test_chunk_reader_stops_a_huge_line_with_the_reply_size_message() -> None:
    limits = ReplyLimits(max_bytes=1024 * 1024)

    def endless_line() -> Iterator[bytes]:
        yield f"data: {chunk_json('start')}\n\n".encode()
        yield b'data: {"choices":[{"index":0,"delta":{"content":"'
        for _ in range(1000):  # 64 MB if read to the end
            yield b"x" * 65536

    reader = ChunkReader(endless_line(), limits)
    texts = []
    with pytest.raises(ReplyLimitReached, match=r"^Stopped: the reply passed 1 MB"):
        for chunk in reader:
            texts.append(chunk["choices"][0]["delta"]["content"])
    assert texts == ["start"]
