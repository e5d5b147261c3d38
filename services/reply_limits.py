"""The bounds on one reply (services.config.ReplyLimits) applied while it streams: its size, its tokens, its time.

An endpoint decides how much it sends and for how long; these keep a runaway model or a hostile relay from filling
the database and the readers' browsers, or from keeping a reply "streaming" forever with keep-alive comments.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Literal

from services.config import ReplyLimits, Timeouts
from services.errors import EndpointTimeout, RelayError

LimitKind = Literal["size", "tokens", "deadline"]


class ReplyLimitReached(RelayError):
    """The reply passed one of the server's limits; the text so far is kept."""

    def __init__(self, kind: LimitKind, message: str) -> None:
        super().__init__(message + " The text received until then is kept.")
        self.kind = kind

    @classmethod
    def size(cls, limits: ReplyLimits) -> ReplyLimitReached:
        return cls("size", f"Stopped: the reply passed {limits.max_bytes / 1024 / 1024:g} MB (the server's limit).")

    @classmethod
    def tokens(cls, limits: ReplyLimits) -> ReplyLimitReached:
        return cls("tokens", f"Stopped: the reply passed {limits.max_tokens:,} tokens (the server's limit).")

    @classmethod
    def deadline(cls, limits: ReplyLimits) -> ReplyLimitReached:
        return cls("deadline", f"Stopped: the reply was still going after {_duration(limits.deadline)} "
                               "(the server's limit).")


def check_reply(size: int, tokens: int, limits: ReplyLimits) -> None:
    """Raise once a reply of `size` UTF-8 bytes in `tokens` streamed pieces is past a limit."""
    if size > limits.max_bytes:
        raise ReplyLimitReached.size(limits)
    if tokens > limits.max_tokens:
        raise ReplyLimitReached.tokens(limits)


class StreamWatch:
    """Times a stream by the content it carries, not by its bytes: `: keep-alive` comments, or one byte every few
    seconds, reset httpx's read timeout on every read but not these clocks. Checked on every read."""

    def __init__(self, timeouts: Timeouts, limits: ReplyLimits, started: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._timeouts, self._limits, self._clock = timeouts, limits, clock
        self._started = clock() if started is None else started
        self._last_content: float | None = None

    def reads(self, source: Iterable[bytes]) -> Iterator[bytes]:
        for piece in source:
            self.check()
            yield piece

    def saw_content(self) -> None:
        self._last_content = self._clock()

    def check(self) -> None:
        now = self._clock()
        if now - self._started > self._limits.deadline:
            raise ReplyLimitReached.deadline(self._limits)
        if self._last_content is None:
            if now - self._started > self._timeouts.first_token:
                raise EndpointTimeout("first_token", self._timeouts.first_token)
        elif now - self._last_content > self._timeouts.idle:
            raise EndpointTimeout("idle", self._timeouts.idle)


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
