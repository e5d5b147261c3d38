"""One chat turn in an instrumented page: submit a message, follow the reply until it is whole, stalls or times out."""

from __future__ import annotations

import time
from dataclasses import dataclass

from benchmarks.answer import Answer
from benchmarks.browser import BenchPage, Probe
from benchmarks.procs import cpu_seconds

STALL_SECONDS = 15.0  # no change to the reply for this long: the page will not finish (Streamlit dropped it)
IDLE_GRACE_SECONDS = 10.0  # after the last token, how long the script may take to end its run
# Idle must last this long: a run that ends with st.rerun() is idle for a few ms before the rerun starts, and the
# rerun's frames belong to the turn.
SETTLE_SECONDS = 0.5


@dataclass(frozen=True)
class TurnResult:
    """What one page saw of one reply. Times are seconds since the submit click, on the page's clock."""

    app: str
    ended: str  # "finished", "stalled" or "timeout"
    first_s: float | None
    last_s: float | None  # the whole answer in the DOM
    tail_s: float | None  # its last words in the DOM (earlier when code blocks are still being highlighted)
    ws_bytes: int
    ws_frames: int
    browser_cpu_s: float
    probe_cpu_s: float
    server_cpu_s: float | None
    chromium_cpu_s: float  # CPU time of all Chromium processes (other pages' too, if several run at once)
    browser_cpu_parts_s: dict[str, float]  # script, layout, style recalculation (CDP Performance metrics)
    shown_fraction: float
    waited_s: float

    @property
    def finished(self) -> bool:
        return self.ended == "finished"


class Turn:
    """Started with `start()`, then `poll()` until it returns a result (several turns can be polled in turn)."""

    def __init__(self, app: str, page: BenchPage, answer: Answer, timeout_s: float, server_pid: int | None = None):
        self.app, self.page, self.answer, self.timeout_s, self.server_pid = app, page, answer, timeout_s, server_pid
        self.result: TurnResult | None = None
        self._idle_since: float | None = None

    def start(self, text: str) -> None:
        self.prepare(text)
        self.send()

    def prepare(self, text: str) -> None:
        """Everything before pressing send: counters zeroed, the probe armed, the message typed."""
        self.page.reset_traffic()
        self.page.arm(self.answer.tail, self.answer.alnum_length)
        self._cpu0 = self.page.cpu_metrics()
        self._chromium0 = self.page.chromium_cpu()
        self._server0 = cpu_seconds(self.server_pid) if self.server_pid else None
        self._started = time.monotonic()
        self.page.type_message(text)

    def send(self, at_epoch_ms: float | None = None) -> None:
        self.page.press_send(at_epoch_ms)

    def poll(self) -> TurnResult | None:
        if self.result is not None:
            return self.result
        probe = self.page.probe()
        waited = time.monotonic() - self._started
        since_change_s = (probe.now - (probe.changed_at or probe.submit_at or probe.now)) / 1000
        self._idle_since = (self._idle_since or time.monotonic()) if probe.idle else None
        settled = self._idle_since is not None and time.monotonic() - self._idle_since >= SETTLE_SECONDS
        if probe.last_at is not None and (settled or (probe.now - probe.last_at) / 1000 > IDLE_GRACE_SECONDS):
            return self._finish("finished", probe, waited)
        if probe.submit_at is not None and since_change_s > STALL_SECONDS:
            return self._finish("stalled", probe, waited)
        if waited > self.timeout_s:
            return self._finish("timeout", probe, waited)
        return None

    def _finish(self, ended: str, probe: Probe, waited: float) -> TurnResult:
        cpu = self.page.cpu_metrics()
        chromium = self.page.chromium_cpu()
        browser_cpu = {name: value - self._cpu0[name] for name, value in cpu.items()}
        server_cpu = None if self._server0 is None else cpu_seconds(self.server_pid) - self._server0
        self.page.page.wait_for_timeout(100)  # let Playwright hand over the last frame events
        traffic = self.page.traffic

        def since_submit(at: float | None) -> float | None:
            return None if at is None or probe.submit_at is None else (at - probe.submit_at) / 1000

        self.result = TurnResult(
            app=self.app,
            ended=ended,
            first_s=since_submit(probe.first_at),
            last_s=since_submit(probe.last_at),
            tail_s=since_submit(probe.tail_at),
            ws_bytes=traffic.bytes,
            ws_frames=traffic.frames,
            browser_cpu_s=browser_cpu.pop("TaskDuration"),
            probe_cpu_s=probe.probe_ms / 1000,
            server_cpu_s=server_cpu,
            chromium_cpu_s=sum(value - self._chromium0.get(pid, 0.0) for pid, value in chromium.items()),
            browser_cpu_parts_s={name.removesuffix("Duration").lower(): value for name, value in browser_cpu.items()},
            shown_fraction=self.page.shown_length() / self.answer.alnum_length,
            waited_s=waited,
        )
        return self.result


def run_turn(app: str, page: BenchPage, answer: Answer, text: str, timeout_s: float,
             server_pid: int | None = None, poll_s: float = 0.1) -> TurnResult:
    turn = Turn(app, page, answer, timeout_s, server_pid)
    turn.start(text)
    while (result := turn.poll()) is None:
        page.page.wait_for_timeout(poll_s * 1000)  # sleeps while Playwright delivers frame events
    return result
