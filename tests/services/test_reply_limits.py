"""Bounds on what an endpoint sends for one reply (issue 12): its size, its tokens and its time, each counted by
what a reader gets (content), not by bytes; a reply past a bound stops with its text so far kept and saved."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from db import repository
from db.models import Message
from services.chat import ChatSettings, send_message
from services.config import ReplyLimits, Timeouts
from services.params import ChatParams
from services.runtime import Runtime, start_runtime
from tests.conftest import make_settings
from tests.fake_openai import FakeOpenAI, Reply
from tests.services.replies import finished, local_user

MB = 1024 * 1024
LIMITS = ReplyLimits(max_bytes=MB // 4, max_tokens=500, deadline=120.0)
# Generous timeouts for the size and token tests (a loaded machine makes a 20 MB line slow to arrive), short ones
# for the tests of time itself.
TIMEOUTS = Timeouts(connect=10.0, first_token=30.0, idle=30.0)
TIGHT_LIMITS = ReplyLimits(max_bytes=MB // 4, max_tokens=500, deadline=4.0)
TIGHT_TIMEOUTS = Timeouts(connect=2.0, first_token=1.5, idle=1.5)


def _runtime(tmp_path: Path, database_url: str, fake_openai: FakeOpenAI, timeouts: Timeouts,
             limits: ReplyLimits) -> Iterator[Runtime]:
    settings = make_settings(tmp_path / "data", database_url, base_url=fake_openai.base_url, model="fake-gpt",
                             timeouts=timeouts, reply_limits=limits)
    rt = start_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, fake_openai: FakeOpenAI) -> Iterator[Runtime]:
    """A quarter MB and 500 tokens at most, generous timeouts."""
    yield from _runtime(tmp_path, database_url, fake_openai, TIMEOUTS, LIMITS)


@pytest.fixture
def tight_runtime(tmp_path: Path, database_url: str, fake_openai: FakeOpenAI) -> Iterator[Runtime]:
    """The same bounds, 4 s in all, 1.5 s to the first token and between."""
    yield from _runtime(tmp_path, database_url, fake_openai, TIGHT_TIMEOUTS, TIGHT_LIMITS)


def _sender(runtime: Runtime, fake_openai: FakeOpenAI) -> Callable[[Reply], Message]:
    """Send a message answered by the given Reply; returns the saved reply once its worker is done."""
    user = local_user(runtime)
    with runtime.db.read() as session:
        settings = ChatSettings(repository.config_endpoint(session, user).id, "fake-gpt")

    def send(reply: Reply) -> Message:
        fake_openai.enqueue(reply)
        return finished(runtime, send_message(runtime, user, None, "hello", settings).assistant_message_id)

    return send


@pytest.fixture
def reply_to(runtime: Runtime, fake_openai: FakeOpenAI) -> Callable[[Reply], Message]:
    return _sender(runtime, fake_openai)


@pytest.fixture
def tight_reply_to(tight_runtime: Runtime, fake_openai: FakeOpenAI) -> Callable[[Reply], Message]:
    return _sender(tight_runtime, fake_openai)


# --- size -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply(content=["start "] + ["x" * 4096] * 100),  # many ordinary pieces, 400 KB in all
        Reply(content=["start "] + ["世界" * 1000] * 60),  # Chinese: 6 KB per piece in UTF-8, 360 KB in all
        Reply(content="start ", reasoning=["thinking " * 500] * 80),  # reasoning counts too
    ],
    ids=["ascii", "chinese", "reasoning"],
)
def test_a_reply_past_the_size_cap_stops_with_its_text_kept(reply_to, reply):
    saved = reply_to(reply)
    assert saved.status == "interrupted"
    assert saved.error.startswith("Stopped: the reply passed 0.25 MB")
    assert "kept" in saved.error
    size = len(saved.content.encode()) + len((saved.reasoning or "").encode())
    assert LIMITS.max_bytes < size <= LIMITS.max_bytes + 8192  # kept up to the piece that passed the cap


def test_tool_call_arguments_count_towards_the_size_cap(reply_to):
    arguments = '{"text": "' + "y" * (MB // 2) + '"}'
    saved = reply_to(Reply(tool_calls=[{"id": "call_1", "name": "echo", "arguments": arguments}]))
    assert saved.error.startswith("Stopped: the reply passed 0.25 MB")


@pytest.mark.parametrize("line_bytes", [3 * MB, 20 * MB], ids=["3MB", "20MB"])
def test_one_huge_line_without_a_newline_is_refused_at_the_cap(reply_to, line_bytes):
    saved = reply_to(Reply(content="the start ", huge_line=line_bytes))
    assert (saved.status, saved.content) == ("interrupted", "the start ")
    assert saved.error.startswith("Stopped: the reply passed 0.25 MB")


def test_a_reply_just_under_the_cap_is_complete(reply_to):
    saved = reply_to(Reply(content=["x" * 4096] * 60))  # 240 KB < 256 KB
    assert (saved.status, saved.error, len(saved.content)) == ("complete", None, 4096 * 60)


# --- tokens ---------------------------------------------------------------------------------------------------


def test_a_reply_past_the_token_cap_stops_with_its_text_kept(reply_to):
    saved = reply_to(Reply(content="word " * 2000))
    assert saved.status == "interrupted"
    assert saved.error.startswith("Stopped: the reply passed 500 tokens")
    assert saved.content == "word " * 501


def test_an_endless_stream_stops_at_the_token_cap(reply_to):
    saved = reply_to(Reply(content="again ", endless=True))
    assert saved.status == "interrupted" and saved.error.startswith("Stopped: the reply passed 500 tokens")
    assert saved.content == "again " * 501


# --- time: content counts, bytes do not -----------------------------------------------------------------------


@pytest.mark.parametrize("filler", [": keep-alive\n\n", ": OPENROUTER PROCESSING\n\n", "\n"],
                         ids=["keep-alive", "openrouter-comment", "one-byte"])
def test_bytes_without_content_do_not_count_as_the_first_token(tight_reply_to, filler):
    saved = tight_reply_to(Reply(content="late", hang_after=0, hang_seconds=30, hang_filler=filler, hang_every=0.2))
    assert (saved.status, saved.content) == ("error", "")
    assert saved.error == "The endpoint sent no answer within 1.5 s (waiting for the first token)."


@pytest.mark.parametrize("filler", [": keep-alive\n\n", "\n"], ids=["keep-alive", "one-byte"])
def test_bytes_without_content_do_not_keep_a_started_reply_alive(tight_reply_to, filler):
    saved = tight_reply_to(Reply(content="one two three", hang_after=2, hang_seconds=30, hang_filler=filler,
                                    hang_every=0.2))
    assert (saved.status, saved.content) == ("interrupted", "one two ")
    assert saved.error == "The endpoint stopped sending for 1.5 s in the middle of the answer."


def test_a_slow_but_steady_reply_is_stopped_at_the_overall_deadline(tight_reply_to):
    saved = tight_reply_to(Reply(content="tick " * 100, rate=10))  # 10 s at 10 tokens a second; deadline 4 s
    assert saved.status == "interrupted"
    assert saved.error.startswith("Stopped: the reply was still going after 4 s")
    assert saved.content and ("tick " * 100).startswith(saved.content) and saved.content != "tick " * 100


def test_a_relay_that_separates_events_by_one_newline_gives_the_whole_reply(reply_to):
    saved = reply_to(Reply(content="one two three", single_newline=True))
    assert (saved.status, saved.content, saved.error) == ("complete", "one two three", None)


def test_a_whole_answer_past_the_size_cap_is_not_read_and_says_so(runtime, fake_openai):
    user = local_user(runtime)
    with runtime.db.read() as session:
        endpoint_id = repository.config_endpoint(session, user).id
    fake_openai.enqueue(Reply(content="z" * (MB // 2 + 100)))  # JSON of more than twice the quarter-MB cap
    settings = ChatSettings(endpoint_id, "fake-gpt", params=ChatParams(stream=False))
    saved = finished(runtime, send_message(runtime, user, None, "hello", settings).assistant_message_id)
    assert (saved.status, saved.content) == ("error", "")
    assert saved.error.startswith("The endpoint's answer passed 0.25 MB (the server's limit) and was not read.")


def test_a_whole_answer_under_the_size_cap_is_read(runtime, fake_openai):
    user = local_user(runtime)
    with runtime.db.read() as session:
        endpoint_id = repository.config_endpoint(session, user).id
    fake_openai.enqueue(Reply(content="z" * (MB // 8)))
    settings = ChatSettings(endpoint_id, "fake-gpt", params=ChatParams(stream=False))
    saved = finished(runtime, send_message(runtime, user, None, "hello", settings).assistant_message_id)
    assert (saved.status, len(saved.content)) == ("complete", MB // 8)
