"""ChatClient against the fake endpoint: the models list, streamed and whole replies, and every way a call fails."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from services.accumulator import ReplyAccumulator, reply_from_response
from services.client import ChatCall, ChatClient, EndpointAccess, make_http_client
from services.config import Timeouts
from services.errors import (
    EndpointConnectionError,
    EndpointReportedError,
    EndpointStatusError,
    EndpointTimeout,
    ProtocolError,
)
from tests.fake_openai import FakeOpenAI, Reply

TIMEOUTS = Timeouts(connect=1, first_token=0.5, idle=0.5)
CONTENT = "héllo 世界 🎉 déjà"  # multi-byte characters, cut anywhere by one-byte reads


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with make_http_client(TIMEOUTS) as client:
        yield client


@pytest.fixture
def client(http: httpx.Client, fake_openai: FakeOpenAI) -> ChatClient:
    return ChatClient(http, EndpointAccess(fake_openai.base_url), TIMEOUTS)


def client_at(http: httpx.Client, base_url: str, api_key: str | None = None) -> ChatClient:
    return ChatClient(http, EndpointAccess(base_url, api_key), TIMEOUTS)


def body(*, stream: bool = True, **extra: object) -> dict:
    return {"model": "fake-gpt", "messages": [{"role": "user", "content": "hi"}], **({"stream": True} if stream else {}), **extra}


def read_stream(client: ChatClient, **extra: object) -> tuple[ReplyAccumulator, ChatCall]:
    """Open a streamed chat and feed every chunk to an accumulator."""
    reply = ReplyAccumulator()
    with client.open_chat(body(**extra)) as call:
        for chunk in call.chunks():
            reply.add(chunk)
    return reply, call


def failure(client: ChatClient, *, stream: bool = True) -> Exception:
    """The error a chat call ends in, whether raised on opening or while reading."""
    with pytest.raises(Exception) as caught:
        with client.open_chat(body(stream=stream)) as call:
            list(call.chunks())
    return caught.value


# --- the models list ------------------------------------------------------------------------------------------


def test_list_models_returns_sorted_ids(client, fake_openai):
    fake_openai.models = ["zeta-1", "alpha-2", "mid-3"]
    assert client.list_models() == ["alpha-2", "mid-3", "zeta-1"]


def test_list_models_with_a_wrong_key_explains_and_quotes_the_endpoint(http, fake_openai):
    fake_openai.api_key = "sk-right-key-1234"
    with pytest.raises(EndpointStatusError) as caught:
        client_at(http, fake_openai.base_url, "sk-wrong-key-9999").list_models()
    message = str(caught.value)
    assert caught.value.status == 401
    assert "API key" in message
    assert "Incorrect API key provided" in message  # the endpoint's own words


def test_a_key_quoted_back_by_the_endpoint_is_shown_masked(http, fake_openai):
    key = "sk-secret-value-4321"
    fake_openai.enqueue(Reply(status=401, error_body={"error": {"message": f"Bad key {key}", "type": "auth"}}))
    error = failure(client_at(http, fake_openai.base_url, key))
    assert key not in str(error) and key not in error.endpoint_message
    assert "Bad key sk-…4321" in str(error)


def test_a_header_secret_quoted_back_by_the_endpoint_is_shown_masked(http, fake_openai):
    secret = "relay-header-secret-9876"
    fake_openai.enqueue(Reply(status=403, error_body={"error": {"message": f"Bad X-Api-Key {secret}; try 1"}}))
    access = EndpointAccess(fake_openai.base_url, "sk-secret-value-4321", {"X-Api-Key": secret, "X-Version": "1"})
    error = failure(ChatClient(http, access, TIMEOUTS))
    assert secret not in str(error) and secret not in error.endpoint_message
    assert "Bad X-Api-Key rel…9876; try 1" in str(error)


def test_list_models_without_a_models_route_is_a_404_naming_the_url(client, fake_openai):
    fake_openai.models = None
    with pytest.raises(EndpointStatusError) as caught:
        client.list_models()
    assert caught.value.status == 404
    assert "404 Not Found" in str(caught.value)
    assert fake_openai.base_url + "/models" in str(caught.value)


# --- streamed and whole replies -------------------------------------------------------------------------------

SHAPES = {
    "crlf": dict(line_ending="\r\n"),
    "cr": dict(line_ending="\r"),
    "no-space-after-colon": dict(space_after_colon=False),
    "keepalive-comments": dict(keepalive=True),
    "one-byte-reads": dict(split_bytes=1),
    "coalesced": dict(coalesce=True),
    "null-content-first": dict(null_content_first=True),
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_stream_shapes_accumulate_to_the_scripted_content(http, fake_openai, shape):
    # The first-token and idle clocks count content, not bytes: one-byte reads of a whole chunk may take longer
    # than TIMEOUTS' half second on a busy machine, so these shapes get the time a slow relay would.
    client = ChatClient(http, EndpointAccess(fake_openai.base_url), Timeouts(connect=1, first_token=10, idle=10))
    fake_openai.enqueue(Reply(content=CONTENT, **shape))
    reply, call = read_stream(client)
    assert reply.content == CONTENT
    assert reply.finish_reason == "stop"
    assert call.saw_done


def test_stream_usage_chunk_is_read(client, fake_openai):
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    fake_openai.enqueue(Reply(content="one two three four", usage=usage))
    reply, _ = read_stream(client, stream_options={"include_usage": True})
    assert reply.content == "one two three four"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (3, 4, 7)


def test_stream_without_done_is_reported(client, fake_openai):
    fake_openai.enqueue(Reply(content="no end marker", send_done=False))
    reply, call = read_stream(client)
    assert reply.content == "no end marker"
    assert not call.saw_done


def test_whole_reply_is_parsed(client, fake_openai):
    fake_openai.enqueue(Reply(content=CONTENT, id="chatcmpl-42"))
    with client.open_chat(body(stream=False)) as call:
        assert list(call.chunks()) == []
        full = call.full_response
    reply = reply_from_response(full)
    assert (reply.content, reply.finish_reason, reply.id) == (CONTENT, "stop", "chatcmpl-42")
    assert reply.usage is not None and reply.usage.total_tokens is not None


# --- HTTP error statuses --------------------------------------------------------------------------------------

STATUSES = {  # status: (words of our explanation, retryable)
    400: ("rejected the request as invalid", False),
    401: ("API key", False),
    403: ("refused access", False),
    404: ("404 Not Found", False),
    429: ("rate limiting", True),
    500: ("server error (500)", True),
    503: ("server error (503)", True),
}


@pytest.mark.parametrize("status", STATUSES)
def test_error_status_explains_and_quotes_the_endpoint(client, fake_openai, status):
    said = f"Something specific went wrong (fake {status})"
    fake_openai.enqueue(Reply(status=status, error_body={"error": {"message": said, "type": "x", "code": None}}))
    error = failure(client)
    words, retryable = STATUSES[status]
    assert isinstance(error, EndpointStatusError) and error.status == status
    assert words in str(error)
    assert said in str(error)
    assert error.retryable is retryable
    if status == 404:
        assert fake_openai.base_url + "/chat/completions" in str(error)


def test_html_error_page_from_a_proxy(client, fake_openai):
    page = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
    fake_openai.enqueue(Reply(status=502, html=page))
    error = failure(client)
    assert isinstance(error, EndpointStatusError) and error.status == 502
    assert "502 Bad Gateway" in str(error) and "proxy" in str(error)
    assert error.retryable


def test_html_page_with_status_200_points_at_v1(client, fake_openai):
    fake_openai.enqueue(Reply(html="<!DOCTYPE html><html><body>Sign in</body></html>"))
    error = failure(client)
    assert isinstance(error, ProtocolError)
    assert "HTML page" in str(error) and "/v1" in str(error)


def test_base_url_without_v1_gets_an_explanation(http, fake_openai):
    error = failure(client_at(http, fake_openai.base_url.removesuffix("/v1")))
    assert isinstance(error, ProtocolError)
    assert "HTML page (status 404)" in str(error) and "/v1" in str(error)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_error_object_with_status_200(client, fake_openai, stream):
    fake_openai.enqueue(Reply(error_object_200={"error": {"message": "Model is still loading", "code": "loading"}}))
    error = failure(client, stream=stream)
    assert isinstance(error, EndpointReportedError)
    assert "Model is still loading" in str(error)


# --- failures in the middle of a stream -----------------------------------------------------------------------


def test_error_event_mid_stream_comes_after_the_earlier_chunks(client, fake_openai):
    fake_openai.enqueue(Reply(content="one two three four", error_after=2))
    reply = ReplyAccumulator()
    with pytest.raises(EndpointReportedError) as caught:
        with client.open_chat(body()) as call:
            for chunk in call.chunks():
                reply.add(chunk)
    assert reply.content == "one two "
    assert "The model is overloaded (fake)" in str(caught.value)


def test_dropped_connection_mid_stream(client, fake_openai):
    fake_openai.enqueue(Reply(content="one two three four", drop_after=2, delay=0.2))
    error = failure(client)
    assert isinstance(error, EndpointConnectionError) and not isinstance(error, EndpointTimeout)
    assert "broke in the middle" in str(error)


# --- no answer at all -----------------------------------------------------------------------------------------


def test_connection_refused(http):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = failure(client_at(http, f"http://127.0.0.1:{port}/v1"))
    assert type(error) is EndpointConnectionError
    assert "connection was refused" in str(error) and f"127.0.0.1:{port}" in str(error)


def test_unknown_host(http):
    error = failure(client_at(http, "http://nonexistent.invalid/v1"))
    assert type(error) is EndpointConnectionError
    assert "Could not find the host nonexistent.invalid" in str(error)


# --- timeouts -------------------------------------------------------------------------------------------------


def test_no_headers_in_time_is_a_first_token_timeout(client, fake_openai):
    fake_openai.enqueue(Reply(headers_delay=5))
    error = failure(client)
    assert isinstance(error, EndpointTimeout) and error.phase == "first_token"
    assert "no answer within 0.5 s" in str(error)


def test_silence_mid_stream_is_an_idle_timeout(client, fake_openai):
    fake_openai.enqueue(Reply(content="one two three four five", hang_after=3))
    reply = ReplyAccumulator()
    with pytest.raises(EndpointTimeout) as caught:
        with client.open_chat(body()) as call:
            for chunk in call.chunks():
                reply.add(chunk)
    assert caught.value.phase == "idle"
    assert reply.content == "one two three "
    assert "stopped sending for 0.5 s" in str(caught.value)


def test_silence_after_the_headers_is_a_first_token_timeout(client, fake_openai):
    fake_openai.enqueue(Reply(content="late", first_token_delay=5))
    error = failure(client)
    assert isinstance(error, EndpointTimeout) and error.phase == "first_token"
    assert "waiting for the first token" in str(error)
