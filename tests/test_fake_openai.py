"""The fake endpoint itself: what it sends matches OpenAI's schemas, and every scripted fault does what it says."""

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.fake_openai import FakeOpenAI, Reply, markdown_tokens, schema_errors

ROOT = Path(__file__).resolve().parents[1]
ARGS = '{"city": "Paris", "unit": "celsius"}'


def chat(**extra):
    return {"model": "fake-gpt", "messages": [{"role": "user", "content": "hello big world"}], **extra}


def sse_data(raw: bytes) -> list[str]:
    """The data payloads of an SSE body, parsed as the spec says (CRLF, LF or CR line ends; blank line ends an event)."""
    events, data = [], []
    for line in re.split(r"\r\n|\r|\n", raw.decode("utf-8")):
        if not line and data:
            events.append("\n".join(data))
            data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    return events


def chunks_of(events: list[str]) -> list[dict]:
    return [json.loads(e) for e in events if e != "[DONE]"]


def deltas(chunks: list[dict], key: str = "content", index: int = 0) -> list:
    return [
        choice["delta"][key]
        for c in chunks
        for choice in c["choices"]
        if choice["index"] == index and key in choice["delta"]
    ]


def stream(client: httpx.Client, **extra) -> tuple[httpx.Response, list[str]]:
    response = client.post("/chat/completions", json=chat(stream=True, **extra))
    return response, sse_data(response.content)


@pytest.fixture
def client(fake_openai):
    with httpx.Client(base_url=fake_openai.base_url, trust_env=False, timeout=5) as c:
        yield c


def test_default_reply_echoes_the_last_user_message_a_word_at_a_time(fake_openai, client):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": [{"type": "text", "text": "hello big"}, {"type": "text", "text": "world"}]},
    ]
    response = client.post(
        "/chat/completions",
        json={"model": "fake-gpt", "messages": messages, "stream": True, "stream_options": {"include_usage": True}},
    )
    events = sse_data(response.content)
    chunks = chunks_of(events)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert "content-length" not in response.headers
    assert [schema_errors("chunk", c) for c in chunks] == [[]] * len(chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert deltas(chunks) == ["", "You ", "said: ", "hello ", "big ", "world"]
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 5
    assert {c["model"] for c in chunks} == {"fake-gpt"} and len({c["id"] for c in chunks}) == 1
    assert events[-1] == "[DONE]"


def test_without_include_usage_no_usage_chunk_is_sent(client):
    _, events = stream(client)
    assert all(c["choices"] and "usage" not in c for c in chunks_of(events))


def test_non_streamed_response_matches_the_response_schema(client):
    client.post("/chat/completions", json=chat())  # the echo default
    response = client.post("/chat/completions", json=chat(n=2))
    body = response.json()

    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert schema_errors("response", body) == []
    assert [c["message"]["content"] for c in body["choices"]] == ["[0] You said: hello big world", "[1] You said: hello big world"]
    assert [c["finish_reason"] for c in body["choices"]] == ["stop", "stop"]
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 10, "total_tokens": 13}


def test_non_streamed_response_carries_reasoning_and_scripted_fields(fake_openai, client):
    fake_openai.enqueue(Reply(content="Hi there", reasoning="Let me think", model="other", id="chatcmpl-1", finish_reason="length"))
    body = client.post("/chat/completions", json=chat()).json()

    assert schema_errors("response", body) == []
    assert body["choices"][0]["message"]["content"] == "Hi there"
    assert body["choices"][0]["message"]["reasoning_content"] == "Let me think"
    assert body["choices"][0]["finish_reason"] == "length"
    assert (body["model"], body["id"], body["system_fingerprint"]) == ("other", "chatcmpl-1", "fp_fake")
    assert body["usage"]["completion_tokens_details"] == {"reasoning_tokens": 3}


def test_an_invalid_request_body_gets_400_and_is_recorded():
    with FakeOpenAI() as fake, httpx.Client(base_url=fake.base_url, trust_env=False, timeout=5) as client:
        fake.enqueue(Reply(content="kept for the first valid request"))
        bad_role = client.post("/chat/completions", json={"model": "fake-gpt", "messages": [{"role": "wizard", "content": "hi"}]})
        no_messages = client.post("/chat/completions", json={"model": "fake-gpt"})
        not_json = client.post("/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
        valid = client.post("/chat/completions", json=chat())

    assert [r.status_code for r in (bad_role, no_messages, not_json)] == [400, 400, 400]
    assert bad_role.json()["error"]["type"] == "invalid_request_error"
    assert bad_role.json()["error"]["message"].startswith("schema: ")
    assert "'messages' is a required property" in no_messages.json()["error"]["message"]
    assert "not valid JSON" in not_json.json()["error"]["message"]
    assert len(fake.schema_errors) == 3
    assert fake.schema_errors[0].startswith("$.messages[0]: ")
    assert "'messages' is a required property" in fake.schema_errors[1]
    assert fake.chat_bodies[2] is None and len(fake.chat_bodies) == 4
    assert valid.json()["choices"][0]["message"]["content"] == "kept for the first valid request"


def test_every_request_is_recorded(fake_openai, client):
    client.get("/models", headers={"X-Trace": "abc"})
    client.post("/chat/completions", json=chat(), headers={"Authorization": "Bearer sk-1"})

    models, chat_request = fake_openai.requests
    assert (models.method, models.path, models.body) == ("GET", "/v1/models", None)
    assert models.headers["x-trace"] == "abc"
    assert (chat_request.method, chat_request.path, chat_request.body) == ("POST", "/v1/chat/completions", chat())
    assert chat_request.headers["authorization"] == "Bearer sk-1"
    assert fake_openai.chat_bodies == [chat()]


def test_wait_for_requests_blocks_until_the_chat_requests_arrive(fake_openai, client):
    later = threading.Timer(0.2, lambda: client.post("/chat/completions", json=chat()))
    later.start()
    assert fake_openai.wait_for_requests(1, timeout=5) == [chat()]
    later.join()
    with pytest.raises(TimeoutError):
        fake_openai.wait_for_requests(2, timeout=0.1)


def test_models_are_listed_or_missing(fake_openai, client):
    listed = client.get("/models").json()
    assert listed["object"] == "list"
    assert [(m["id"], m["object"], m["owned_by"]) for m in listed["data"]] == [("fake-gpt", "model", "fake"), ("fake-reasoner", "model", "fake")]

    fake_openai.models = None
    missing = client.get("/models")
    assert missing.status_code == 404 and "message" in missing.json()["error"]


def test_unknown_paths_get_404_json_under_v1_and_an_html_page_elsewhere(fake_openai, client):
    unknown = client.post("/embeddings", json={"input": "x"})
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "Invalid URL (POST /v1/embeddings)"

    without_v1 = client.post(fake_openai.base_url.removesuffix("/v1") + "/chat/completions", json=chat())
    assert without_v1.status_code == 404
    assert without_v1.headers["content-type"].startswith("text/html")
    assert without_v1.text == "<html><body><h1>404 Not Found</h1></body></html>"


def test_api_key_is_enforced_on_every_v1_path(fake_openai, client):
    fake_openai.api_key = "sk-right-key-1234"
    for headers in ({}, {"Authorization": "Bearer sk-wrong-key-9999"}):
        for response in (client.get("/models", headers=headers), client.post("/chat/completions", json=chat(), headers=headers)):
            assert response.status_code == 401
            error = response.json()["error"]
            assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
            assert error["message"].startswith("Incorrect API key provided: ")
            assert "sk-wrong-key-9999" not in error["message"]

    good = {"Authorization": "Bearer sk-right-key-1234"}
    assert client.get("/models", headers=good).status_code == 200
    assert client.post("/chat/completions", json=chat(), headers=good).status_code == 200


def test_stream_options_can_be_rejected_like_strict_relays_do(fake_openai, client):
    fake_openai.reject_stream_options = True
    rejected = client.post("/chat/completions", json=chat(stream=True, stream_options={"include_usage": True}))
    assert rejected.status_code == 400
    assert rejected.json()["error"]["message"] == "Unrecognized request argument supplied: stream_options"
    response, events = stream(client)
    assert response.status_code == 200 and events[-1] == "[DONE]"


def test_n_choices_stream_interleaved(fake_openai, client):
    fake_openai.enqueue(Reply(contents=["a b", "c d"]), Reply(content="x y"))
    _, events = stream(client, n=2)
    chunks = chunks_of(events)
    order = [(c["choices"][0]["index"], c["choices"][0]["delta"].get("content"), c["choices"][0]["finish_reason"]) for c in chunks]
    assert order == [
        (0, "", None), (1, "", None), (0, "a ", None), (1, "c ", None), (0, "b", None), (1, "d", None),
        (0, None, "stop"), (1, None, "stop"),
    ]
    assert [schema_errors("chunk", c) for c in chunks] == [[]] * len(chunks)

    _, events = stream(client, n=2)
    assert ["".join(deltas(chunks_of(events), index=i)) for i in (0, 1)] == ["[0] x y", "[1] x y"]


def test_reasoning_streams_before_content(fake_openai, client):
    fake_openai.enqueue(Reply(content="Paris.", reasoning="The capital of France"))
    _, events = stream(client)
    chunks = chunks_of(events)
    kinds = [k for c in chunks for k in c["choices"][0]["delta"] if k in ("reasoning_content", "content")]
    assert kinds == ["content"] + ["reasoning_content"] * 4 + ["content"]  # the first is the role chunk's ""
    assert "".join(deltas(chunks, "reasoning_content")) == "The capital of France"
    assert "".join(deltas(chunks)) == "Paris."


def test_tool_calls_stream_as_openai_sends_them(fake_openai, client):
    calls = [{"id": "call_1", "name": "get_weather", "arguments": ARGS}, {"id": "call_2", "name": "get_time", "arguments": '{"tz": "CET"}'}]
    fake_openai.enqueue(Reply(tool_calls=calls))
    _, events = stream(client)
    chunks = chunks_of(events)
    fragments = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]

    assert [schema_errors("chunk", c) for c in chunks] == [[]] * len(chunks)
    for index, call in enumerate(calls):
        first, *rest = [f for f in fragments if f["index"] == index]
        assert first == {"index": index, "id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": ""}}
        assert len(rest) == 3 and all(set(f) == {"index", "function"} and set(f["function"]) == {"arguments"} for f in rest)
        assert "".join(f["function"]["arguments"] for f in rest) == call["arguments"]
    assert [f["index"] for f in fragments] == [0] * 4 + [1] * 4
    assert deltas(chunks) == [""]  # no text besides the role chunk's
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_calls_in_a_non_streamed_response(fake_openai, client):
    fake_openai.enqueue(Reply(tool_calls=[{"id": "call_1", "name": "get_weather", "arguments": ARGS}]))
    body = client.post("/chat/completions", json=chat()).json()
    assert schema_errors("response", body) == []
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ARGS}}]


@pytest.mark.parametrize(
    "shape, check",
    [
        ({"line_ending": "\r\n"}, lambda raw: b"}\r\n\r\ndata: " in raw and re.search(rb"[^\r]\n", raw) is None),
        ({"line_ending": "\r"}, lambda raw: b"}\r\rdata: " in raw and b"\n" not in raw),
        ({"space_after_colon": False}, lambda raw: raw.startswith(b"data:{") and b"data: " not in raw),
        ({"keepalive": True}, lambda raw: raw.count(b": keep-alive\n\n") == raw.count(b"data: ") and raw.startswith(b": keep-alive")),
    ],
)
def test_stream_shapes_change_the_bytes_but_not_the_content(fake_openai, client, shape, check):
    fake_openai.enqueue(Reply(content="one two three", **shape))
    response, events = stream(client)
    assert check(response.content)
    assert "".join(deltas(chunks_of(events))) == "one two three" and events[-1] == "[DONE]"


def test_split_bytes_cuts_events_and_characters_across_reads(fake_openai, client):
    text = "日本語の テキスト です。 ünïcödé ✓"
    fake_openai.enqueue(Reply(content=text, split_bytes=7))
    with client.stream("POST", "/chat/completions", json=chat(stream=True)) as response:
        reads = list(response.iter_raw())
    raw = b"".join(reads)
    events = sse_data(raw)

    assert len(reads) > len(events)
    assert any(not read.endswith(b"\n\n") for read in reads[:-1])

    def cuts_a_character(read: bytes) -> bool:
        try:
            read.decode("utf-8")
            return False
        except UnicodeDecodeError:
            return True

    assert any(cuts_a_character(read) for read in reads)
    assert "".join(deltas(chunks_of(events))) == text


def test_coalesce_sends_the_whole_stream_in_one_write(fake_openai, client):
    fake_openai.enqueue(Reply(content="a b c d", delay=0.05, coalesce=True))
    with client.stream("POST", "/chat/completions", json=chat(stream=True)) as response:
        reads = list(response.iter_raw())
    assert len(reads) == 1
    assert "".join(deltas(chunks_of(sse_data(reads[0])))) == "a b c d"


def test_first_delta_can_carry_null_content(fake_openai, client):
    fake_openai.enqueue(Reply(content="hi", null_content_first=True))
    _, events = stream(client)
    chunks = chunks_of(events)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    assert schema_errors("chunk", chunks[0]) == []


def test_done_and_finish_can_be_left_out(fake_openai, client):
    fake_openai.enqueue(Reply(content="a b", send_done=False), Reply(content="a b", send_finish=False))
    _, no_done = stream(client)
    assert "[DONE]" not in no_done and chunks_of(no_done)[-1]["choices"][0]["finish_reason"] == "stop"
    _, no_finish = stream(client)
    assert no_finish[-1] == "[DONE]"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks_of(no_finish))
    assert "".join(deltas(chunks_of(no_finish))) == "a b"


def content_arrivals(client: httpx.Client) -> tuple[float, list[float]]:
    """Seconds until the headers, and until each content token, of one streamed request."""
    start = time.monotonic()
    with client.stream("POST", "/chat/completions", json=chat(stream=True)) as response:
        headers_at = time.monotonic() - start
        arrivals = [time.monotonic() - start for line in response.iter_lines() if '"content":"' in line and '"content":""' not in line]
    return headers_at, arrivals


def test_rate_and_delay_pace_the_tokens(fake_openai, client):
    fake_openai.enqueue(Reply(content="1 2 3 4 5 6", rate=50), Reply(content="1 2 3 4", delay=0.1, rate=None))
    _, paced_by_rate = content_arrivals(client)
    # Lower bounds only: a loaded machine may stretch the pace, never shrink it below what was asked.
    assert len(paced_by_rate) == 6 and paced_by_rate[-1] - paced_by_rate[0] >= 0.07
    _, paced_by_delay = content_arrivals(client)
    assert len(paced_by_delay) == 4 and paced_by_delay[-1] - paced_by_delay[0] >= 0.25


def test_headers_delay_holds_the_status_line_and_first_token_delay_the_first_chunk(fake_openai, client):
    fake_openai.enqueue(Reply(content="a b", headers_delay=0.3), Reply(content="a b", first_token_delay=0.3))
    headers_at, arrivals = content_arrivals(client)
    assert headers_at >= 0.3
    headers_at, arrivals = content_arrivals(client)
    assert arrivals[0] - headers_at >= 0.25, "the wait is between the headers and the first token"


def test_http_error_statuses(fake_openai, client):
    rate_limited = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
    fake_openai.enqueue(
        Reply(status=429, error_body=rate_limited, response_headers={"retry-after": "2", "x-request-id": "req_42"}),
        Reply(status=502, error_body="upstream connect error", content_type="text/plain"),
        Reply(status=503),
        Reply(html="<html><body>Sign in to continue</body></html>"),
    )
    first = client.post("/chat/completions", json=chat(stream=True))
    assert (first.status_code, first.json()) == (429, rate_limited)
    assert (first.headers["retry-after"], first.headers["x-request-id"]) == ("2", "req_42")

    second = client.post("/chat/completions", json=chat())
    assert (second.status_code, second.headers["content-type"], second.text) == (502, "text/plain", "upstream connect error")

    third = client.post("/chat/completions", json=chat(stream=True))
    assert third.status_code == 503 and third.json()["error"]["type"] == "server_error"

    page = client.post("/chat/completions", json=chat(stream=True))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text == "<html><body>Sign in to continue</body></html>"


def test_an_error_object_can_come_with_status_200(fake_openai, client):
    quota = {"error": {"message": "quota exceeded"}}
    fake_openai.enqueue(Reply(error_object_200=quota), Reply(error_object_200=quota))
    for body in (chat(stream=True), chat()):
        response = client.post("/chat/completions", json=body)
        assert (response.status_code, response.headers["content-type"], response.json()) == (200, "application/json", quota)


def test_error_after_sends_an_error_event_and_ends(fake_openai, client):
    fake_openai.enqueue(Reply(content="one two three four", error_after=2))
    _, events = stream(client)
    assert json.loads(events[-1]) == {"error": {"message": "The model is overloaded (fake)", "type": "server_error", "code": "overloaded"}}
    chunks = chunks_of(events[:-1])
    assert "".join(deltas(chunks)) == "one two "
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)


def test_drop_after_resets_the_connection_mid_stream(fake_openai, client):
    fake_openai.enqueue(Reply(content="one two three four", drop_after=2), Reply(drop_after=0))
    received = b""
    with pytest.raises(httpx.TransportError):
        with client.stream("POST", "/chat/completions", json=chat(stream=True)) as response:
            for piece in response.iter_raw():
                received += piece
    assert "".join(deltas(chunks_of(sse_data(received)))) == "one two "
    assert b"[DONE]" not in received and b"finish_reason\":\"stop" not in received

    with pytest.raises(httpx.TransportError):
        client.post("/chat/completions", json=chat())  # not streamed: dropped before any answer


def test_hang_after_goes_silent_then_ends_without_done(fake_openai, client):
    fake_openai.enqueue(Reply(content="one two three", hang_after=1, hang_seconds=0.3))
    start = time.monotonic()
    _, events = stream(client)
    assert time.monotonic() - start >= 0.3
    assert "".join(deltas(chunks_of(events))) == "one " and "[DONE]" not in events


def test_stop_ends_hangs_and_streams_promptly():
    fake = FakeOpenAI().start()
    fake.enqueue(Reply(content="one two three", hang_after=1), Reply(headers_delay=30))
    client = httpx.Client(base_url=fake.base_url, trust_env=False, timeout=5)
    outcome = {}

    def before_headers():
        try:
            outcome["status"] = client.post("/chat/completions", json=chat()).status_code
        except httpx.TransportError as exc:
            outcome["error"] = exc

    with client.stream("POST", "/chat/completions", json=chat(stream=True)) as hanging:
        lines = hanging.iter_lines()
        while '"content":"one ' not in next(lines):
            pass
        waiting = threading.Thread(target=before_headers)
        waiting.start()
        fake.wait_for_requests(2)
        start = time.monotonic()
        fake.stop()
        assert time.monotonic() - start < 10, "stop() ends hung streams instead of waiting for them (30 s)"
        assert [line for line in lines if line] == []  # the hung stream ends, without [DONE]
    waiting.join(timeout=2)
    assert not waiting.is_alive() and "error" in outcome
    client.close()


def test_a_client_that_disconnects_mid_stream_leaves_no_traceback(fake_openai, client, capsys):
    fake_openai.enqueue(Reply(content="word " * 200, rate=200))
    with client.stream("POST", "/chat/completions", json=chat(stream=True)) as response:
        next(response.iter_raw())
    time.sleep(0.3)  # the server keeps writing into the closed connection meanwhile
    assert client.post("/chat/completions", json=chat()).status_code == 200
    assert capsys.readouterr().err == ""


def test_markdown_tokens_are_exact_in_number_and_sized_as_asked():
    tokens = markdown_tokens(2000, 4)
    text = "".join(tokens)
    assert len(tokens) == 2000 and tokens == markdown_tokens(2000, 4)
    assert 3 <= len(text) / 2000 <= 5 and 7 <= len("".join(markdown_tokens(500, 8))) / 500 <= 9
    assert "\n\n- " in text and "```python\n" in text and ".\n\n" in text
    assert all(len(re.findall(r"^```", "".join(markdown_tokens(n, 4)), re.M)) % 2 == 0 for n in range(1, 300))


def test_cli_serves_generated_markdown_until_killed():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_openai", "--port", "0", "--tokens", "60", "--rate", "0", "--api-key", "sk-bench"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        base_url = re.fullmatch(r"fake endpoint on (http://127\.0\.0\.1:\d+/v1)\n", line).group(1)
        with httpx.Client(base_url=base_url, trust_env=False, timeout=5, headers={"Authorization": "Bearer sk-bench"}) as client:
            _, events = stream(client)
        assert deltas(chunks_of(events))[1:] == markdown_tokens(60, 4)
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


# --- faults that test the client's bounds (issue 12) ---------------------------------------------------------


@pytest.mark.parametrize("filler", [": keep-alive\n\n", "\n"], ids=["keep-alive-comments", "one-byte"])
def test_hang_filler_keeps_bytes_coming_but_no_content(fake_openai, client, filler):
    fake_openai.enqueue(Reply(content="one two three", hang_after=1, hang_seconds=0.5, hang_filler=filler, hang_every=0.1))
    response, events = stream(client)
    assert response.content.count(filler.encode()) >= 3
    assert "".join(deltas(chunks_of(events))) == "one " and "[DONE]" not in events


@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_single_newline_ends_each_event_with_one_line_ending(fake_openai, client, ending):
    fake_openai.enqueue(Reply(content="one two three", single_newline=True, line_ending=ending))
    response = client.post("/chat/completions", json=chat(stream=True))
    raw = response.content.decode()
    assert (ending * 2) not in raw
    lines = [line.removeprefix("data: ") for line in raw.split(ending) if line]
    assert lines[-1] == "[DONE]"
    assert "".join(deltas(chunks_of(lines))) == "one two three"


def test_huge_line_sends_one_unterminated_line_of_that_size(fake_openai, client):
    fake_openai.enqueue(Reply(content="one two", huge_line=300_000))
    response = client.post("/chat/completions", json=chat(stream=True))
    last = re.split(rb"\n", response.content)[-1]
    assert len(last) == 300_000 and last.startswith(b'data: {"choices"') and last.endswith(b"xxxx")
    assert "".join(deltas(chunks_of(sse_data(response.content[: -len(last)])))) == "one two"


def test_endless_repeats_the_tokens_while_the_client_reads(fake_openai, client):
    fake_openai.enqueue(Reply(content="again ", endless=True))
    with client.stream("POST", "/chat/completions", json=chat(stream=True)) as response:
        received = b""
        for piece in response.iter_bytes():
            received += piece
            if received.count(b'"content":"again "') >= 50:
                break
    assert received.count(b'"content":"again "') >= 50 and b"[DONE]" not in received
