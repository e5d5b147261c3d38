"""Generations run in worker threads, outside any Streamlit script run, and write to the database.

A click, a rerun, a reload or a closed tab ends a script run, never a reply: the page only watches. The worker
saves the text at least every FLUSH_INTERVAL seconds, so a killed server loses at most that much, and a
heartbeat keeps `updated_at` fresh so other processes can tell a live stream from one whose writer died.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from db import repository
from db.engine import Database
from db.models import Message, utcnow
from services.accumulator import ReplyAccumulator, reply_from_response
from services.client import ChatCall, ChatClient, EndpointAccess
from services.config import ReplyLimits, Timeouts
from services.errors import EndpointStatusError, RelayError
from services.params import without_stream_usage
from services.reply_limits import check_reply
from services.sent_request import recorded_request

log = logging.getLogger("relaychat.generation")

FLUSH_INTERVAL = 0.5
HEARTBEAT_INTERVAL = 2.0
# A "streaming" row not saved for this long has lost its writer (the process died).
STALE_AFTER = timedelta(seconds=8)


@dataclass(frozen=True)
class GenerationJob:
    """Everything a worker needs; built by services.chat from the conversation."""

    message_id: int
    conversation_id: int
    endpoint_id: int | None
    access: EndpointAccess
    body: dict[str, Any]
    # Set on a conversation's first reply when the endpoint names a model for titles: ask it for one afterwards.
    title_body: dict[str, Any] | None = None
    # A reply continued after max_tokens cut it: the text it had, which the new words extend (one answer).
    continues: str = ""
    continues_reasoning: str = ""


@dataclass(frozen=True)
class Snapshot:
    """What the page shows of a reply while it streams (or once it ended)."""

    message_id: int
    content: str
    reasoning: str
    status: str
    error: str | None = None
    finish_reason: str | None = None
    # With n > 1, every choice's text so far, by index (choice 0 is also `content`).
    choices: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return self.status != "streaming"


class Generation:
    """One reply being produced. Thread-safe: the worker writes, pages read snapshots, anyone may stop it."""

    def __init__(self, job: GenerationJob, client: ChatClient, db: Database, limits: ReplyLimits = ReplyLimits()) -> None:
        self.job = job
        self._limits = limits
        self._client = client
        self._db = db
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._call: ChatCall | None = None  # the call being read, None while none is open
        self._last_call: ChatCall | None = None
        self._body = job.body  # the body last sent (without stream_options after a rejection)
        self._ending = False  # set by whichever of the worker and stop() saves the end first
        self._reply = ReplyAccumulator()
        self._status = "streaming"
        self._error: str | None = None
        self._started = time.monotonic()
        self._first_token_at: float | None = None
        self._answer_started_at: float | None = None  # first content after any reasoning: ends "thinking"
        self._last_flush = 0.0
        self._meta: dict[str, Any] = {}

    @property
    def message_id(self) -> int:
        return self.job.message_id

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                message_id=self.message_id,
                content=self.job.continues + self._reply.content,
                reasoning=self.job.continues_reasoning + self._reply.reasoning,
                status=self._status,
                error=self._error,
                finish_reason=self._reply.finish_reason,
                choices=self._choice_texts(),
            )

    def _choice_texts(self) -> tuple[str, ...]:
        choices = self._reply.choices
        return tuple(choices[i].content for i in sorted(choices)) if len(choices) > 1 else ()

    def stop(self) -> None:
        """End the reply now and keep what arrived; safe to call from any thread, any number of times."""
        with self._lock:  # the worker opens a call under this lock: it either sees the stop or we see its call
            self._stop.set()
            call = self._call
        if call is not None:
            call.abort()
        else:
            # Still connecting or waiting for the answer to begin, a wait httpx cannot interrupt: end the reply
            # now rather than after the first-token timeout. The worker sees the stop and saves nothing more.
            self._finish("stopped", None, self._body)

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    # --- the worker ---------------------------------------------------------------------------------------

    def run(self, on_stream_usage_rejected: Any = None) -> None:
        body = self.job.body
        status, error = "complete", None
        try:
            try:
                self._call_endpoint(body)
            except EndpointStatusError as exc:
                # Some servers reject stream_options; ask again without it, once, and remember.
                if "stream_options" not in body or not exc.rejects_stream_usage or self._reply.received_content:
                    raise
                body = self._body = without_stream_usage(body)
                # Remember only once the endpoint accepts the request without it: a 400 for another reason
                # (a bad parameter, an unknown model) must not mark the endpoint for good.
                remember = None
                if on_stream_usage_rejected is not None:
                    remember = functools.partial(on_stream_usage_rejected, self.job.endpoint_id)
                self._call_endpoint(body, on_open=remember)
            if self._stop.is_set():
                status = "stopped"
            elif not self._ended_cleanly():
                status = "interrupted"
                error = "The stream ended before the answer was complete (no finish reason and no [DONE])."
        except RelayError as exc:
            self._meta = exc.meta or self._meta  # an error's status and rate-limit headers go to its Details
            status = self._status_after_failure()
            # After Stop the connection breaks because we closed it: that is no error to show.
            error = None if status == "stopped" else str(exc)
        except Exception as exc:  # a bug must not leave the reply "streaming" forever, nor reach the page raw
            if self._stop.is_set():
                status = "stopped"
            else:
                log.exception("generation %s failed", self.message_id)
                status, error = self._status_after_failure(), f"Unexpected error while reading the answer: {exc!r}"
        finally:
            self._finish(status, error, body)

    def _call_endpoint(self, body: dict[str, Any], on_open: Callable[[], None] | None = None) -> None:
        if self._stop.is_set():
            return
        with self._client.open_chat(body) as call:
            with self._lock:
                if self._stop.is_set():
                    return
                self._call = self._last_call = call
                self._meta = call.meta
            try:
                if on_open is not None:
                    try:
                        on_open()
                    except Exception:  # bookkeeping must not cost the user the reply
                        log.exception("generation %s: on_open failed", self.message_id)
                self._read(call)
            finally:
                with self._lock:
                    self._call = None

    def _read(self, call: ChatCall) -> None:
        if call.full_response is not None:
            with self._lock:
                self._reply = reply_from_response(call.full_response)
            return  # a whole answer has no first token: its time is the total (duration_ms)
        for chunk in call.chunks(self._limits, started=self._started):
            with self._lock:
                self._reply.add(chunk)
            check_reply(self._reply.size, self._reply.pieces, self._limits)  # past a limit: ends as an error, text kept
            if self._first_token_at is None and self._reply.received_content:
                self._first_token_at = time.monotonic()
            if self._answer_started_at is None and self._reply.content:
                self._answer_started_at = time.monotonic()
            if self._stop.is_set():
                break
            if time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
                self._flush()

    def _thinking_ms(self) -> int | None:
        if not self._reply.reasoning or self._first_token_at is None:
            return None
        end = self._answer_started_at or time.monotonic()
        return round((end - self._first_token_at) * 1000)

    def _ended_cleanly(self) -> bool:
        call = self._last_call
        if call is None or call.full_response is not None:
            return True
        return call.saw_done or self._reply.finish_reason is not None

    def _status_after_failure(self) -> str:
        if self._stop.is_set():
            return "stopped"
        return "interrupted" if self._reply.received_content else "error"

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        with self._lock:
            content = self.job.continues + self._reply.content
            reasoning = self.job.continues_reasoning + self._reply.reasoning
            choices = _choices_json(self._reply) if len(self._reply.choices) > 1 else None
        try:
            with self._db.write() as session:
                repository.save_message_progress(
                    session, self.message_id, content=content, reasoning=reasoning or None, choices=choices
                )
        except Exception:  # the next flush or the final save tries again
            log.exception("saving progress of message %s failed", self.message_id)

    def _finish(self, status: str, error: str | None, body: dict[str, Any]) -> None:
        with self._lock:
            if self._ending:  # stop() already saved the end (or the worker did, just before a late stop)
                return
            self._ending = True
        reply = self._reply
        now = time.monotonic()
        usage = reply.usage
        fields = dict(
            content=self.job.continues + reply.content,
            reasoning=self.job.continues_reasoning + reply.reasoning or None,
            tool_calls=[call.to_api() for call in reply.tool_calls] or None,
            status=status,
            error=error,
            finish_reason=reply.finish_reason,
            request=recorded_request(body),
            response_meta={
                **self._meta,
                "id": reply.id,
                "model": reply.model,
                "system_fingerprint": reply.system_fingerprint,
                "thinking_ms": self._thinking_ms(),
            },
            choices=_choices_json(reply) if len(reply.choices) > 1 else None,
            chosen_index=0 if len(reply.choices) > 1 else None,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            total_tokens=usage.total_tokens if usage else None,
            time_to_first_token_ms=(
                round((self._first_token_at - self._started) * 1000) if self._first_token_at else None
            ),
            duration_ms=round((now - self._started) * 1000),
        )
        for attempt in range(5):  # the final text matters most: retry through a briefly locked database
            try:
                with self._db.write() as session:
                    repository.save_message_progress(session, self.message_id, **fields)
                break
            except Exception:
                log.exception("saving the end of message %s failed (attempt %d)", self.message_id, attempt + 1)
                time.sleep(0.2 * (attempt + 1))
        with self._lock:
            self._status, self._error = status, error
        self._finished.set()


TITLE_INSTRUCTION = (
    "Write a title of at most six words for a conversation that starts with the user's message below. "
    "Answer with the title only: no quotes, no final period."
)


def clean_title(text: str) -> str:
    """The model's title on one line, without quotes or a trailing period, at most 80 characters."""
    line = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    line = line.strip("\"'“”‘’*#` ").rstrip(".")
    return line[:80]


def _choices_json(reply: ReplyAccumulator) -> list[dict[str, Any]]:
    return [
        {
            "index": choice.index,
            "content": choice.content,
            "reasoning": choice.reasoning or None,
            "tool_calls": [call.to_api() for call in choice.tool_calls] or None,
            "finish_reason": choice.finish_reason,
        }
        for choice in (reply.choices[i] for i in sorted(reply.choices))
    ]


class GenerationRegistry:
    """The process-wide set of running generations, one worker thread each."""

    def __init__(self, db: Database, http: httpx.Client, timeouts: Timeouts, limits: ReplyLimits = ReplyLimits()) -> None:
        self._db = db
        self._http = http
        self._timeouts = timeouts
        self._limits = limits
        self._lock = threading.Lock()
        self._running: dict[int, Generation] = {}
        self._closed = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, name="relaychat-heartbeat", daemon=True)
        self._heartbeat.start()

    def start(self, job: GenerationJob) -> Generation:
        client = ChatClient(self._http, job.access, self._timeouts, self._limits)
        generation = Generation(job, client, self._db, self._limits)
        with self._lock:
            self._running[job.message_id] = generation
        thread = threading.Thread(
            target=self._run, args=(generation,), name=f"relaychat-generation-{job.message_id}", daemon=True
        )
        thread.start()
        return generation

    def get(self, message_id: int) -> Generation | None:
        with self._lock:
            return self._running.get(message_id)

    def running_ids(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._running)

    def stop(self, message_id: int) -> bool:
        generation = self.get(message_id)
        if generation is None:
            return False
        generation.stop()
        return True

    def close(self) -> None:
        """Stop every generation (each saves what it has) and the heartbeat."""
        self._closed.set()
        with self._lock:
            generations = list(self._running.values())
        for generation in generations:
            generation.stop()
        for generation in generations:
            generation.wait(5)

    def interrupt_orphans(self) -> int:
        """Mark "streaming" rows whose writer died as interrupted (run at start and when a page finds one)."""
        with self._db.write() as session:
            return repository.interrupt_stale_streams(
                session, older_than=utcnow() - STALE_AFTER, keep=self.running_ids()
            )

    def _run(self, generation: Generation) -> None:
        try:
            generation.run(on_stream_usage_rejected=self._remember_no_stream_usage)
        finally:
            with self._lock:
                self._running.pop(generation.message_id, None)
        job = generation.job
        if job.title_body is not None and generation.snapshot().status == "complete":
            self._name_conversation(job, job.title_body)

    def _name_conversation(self, job: GenerationJob, body: dict[str, Any]) -> None:
        """A short, cheap request for a title; on any failure the title made from the first words stays."""
        try:
            with ChatClient(self._http, job.access, self._timeouts).open_chat(body) as call:
                reply = reply_from_response(call.full_response or {})
            title = clean_title(reply.content)
            if title:
                with self._db.write() as session:
                    repository.set_generated_title(session, job.conversation_id, title)
        except Exception:  # a title is a nicety: never let it disturb the conversation
            log.warning("asking %s for a title of conversation %s failed", body.get("model"), job.conversation_id)

    def _remember_no_stream_usage(self, endpoint_id: int | None) -> None:
        if endpoint_id is None:
            return
        with self._db.write() as session:
            repository.remember_stream_usage_unsupported(session, endpoint_id)

    def _beat(self) -> None:
        while not self._closed.wait(HEARTBEAT_INTERVAL):
            ids = self.running_ids()
            if not ids:
                continue
            try:
                with self._db.write() as session:
                    repository.touch_streaming(session, ids)
            except Exception:
                log.exception("heartbeat failed")


def snapshot_of(registry: GenerationRegistry, db: Database, message_id: int) -> Snapshot | None:
    """The freshest view of a reply: live from this process's worker, else as last saved in the database."""
    generation = registry.get(message_id)
    if generation is not None:
        return generation.snapshot()
    with db.read() as session:
        message = session.get(Message, message_id)
        if message is None:
            return None
        stale = message.status == "streaming" and message.updated_at < utcnow() - STALE_AFTER
    if stale:  # its writer died (or lives in a process that stopped beating): say so instead of spinning forever
        registry.interrupt_orphans()
        return snapshot_of(registry, db, message_id)
    return Snapshot(
        message_id=message.id,
        content=message.content,
        reasoning=message.reasoning or "",
        status=message.status,
        error=message.error,
        finish_reason=message.finish_reason,
        choices=tuple(choice["content"] or "" for choice in message.choices or ()),
    )
