"""Headless Chromium pages instrumented for the benchmark: reply timings, websocket traffic, renderer CPU."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, WebSocket, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PROBE = (Path(__file__).with_name("probe.js")).read_text()
APP_READY = "[data-testid=stApp][data-test-connection-state=CONNECTED]"
SCRIPT_IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
PAGE_TIMEOUT_MS = 60_000
# TaskDuration is all main-thread work; the others are its parts (the rest is mostly paint and compositing).
CPU_METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Traffic:
    """Websocket frames the page received (Streamlit's deltas; compression is off, so payload ≈ wire)."""

    frames: int = 0
    bytes: int = 0

    def add(self, payload: bytes | str) -> None:
        self.frames += 1
        self.bytes += len(payload) if isinstance(payload, bytes) else len(payload.encode())


@dataclass(frozen=True)
class Probe:
    """One reading of probe.js: page-clock times in ms (None until seen) and the app's state."""

    submit_at: float | None
    first_at: float | None
    tail_at: float | None  # the last words are shown (the whole text may still be incomplete)
    last_at: float | None  # the whole text is shown
    changed_at: float | None
    now: float
    probe_ms: float  # time spent in probe.js itself: the measurement's own share of the page's CPU
    script_state: str | None
    connection: str | None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Probe:
        return cls(raw["submitAt"], raw["firstAt"], raw["tailAt"], raw["lastAt"], raw["changedAt"], raw["now"],
                   raw["checkMs"], raw["scriptState"], raw["connection"])

    @property
    def idle(self) -> bool:
        return self.script_state == "notRunning"


class BenchPage:
    """A page in its own browser context (its own Streamlit session), with traffic and CPU counters."""

    def __init__(self, browser: Browser) -> None:
        self.context: BrowserContext = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.context.add_init_script(PROBE)
        self.page: Page = self.context.new_page()
        self.traffic = Traffic()
        self.page.on("websocket", self._on_websocket)
        self._cdp = self.context.new_cdp_session(self.page)
        self._cdp.send("Performance.enable")
        self._browser_cdp = browser.new_browser_cdp_session()

    def _on_websocket(self, ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: self.traffic.add(payload))  # self.traffic is replaced on reset

    def open(self, url: str) -> float:
        """Load the app and wait until its script run ended; returns the seconds that took."""
        started = time.monotonic()
        self.page.goto(url)
        self.wait_idle()
        return time.monotonic() - started

    def open_until_shown(self, url: str, tail: str, timeout_ms: float = PAGE_TIMEOUT_MS) -> float:
        """Load `url` and wait until the last chat bubble ends with `tail` and the script is idle; returns seconds
        since navigation start, on the page's own clock (checked every animation frame)."""
        self.page.goto(url, wait_until="commit")
        handle = self.page.wait_for_function(
            "tail => window.__bench && window.__bench.lastBubbleShows(tail) && performance.now()",
            arg=tail, polling="raf", timeout=timeout_ms,
        )
        return handle.json_value() / 1000

    def wait_idle(self, timeout_ms: float = PAGE_TIMEOUT_MS) -> None:
        self.page.wait_for_selector(APP_READY, state="attached", timeout=timeout_ms)
        self.page.wait_for_selector(SCRIPT_IDLE, state="attached", timeout=timeout_ms)

    def cpu_metrics(self) -> dict[str, float]:
        """The renderer main thread's busy time so far (CDP Performance: TaskDuration) and its parts."""
        metrics = self._cdp.send("Performance.getMetrics")["metrics"]
        return {m["name"]: m["value"] for m in metrics if m["name"] in CPU_METRICS}

    def chromium_cpu(self) -> dict[int, float]:
        """CPU seconds so far of every Chromium process (browser, renderers, GPU/compositing, network), by pid.
        Unlike TaskDuration (wall time of main-thread tasks) this does not grow when the machine is busy."""
        processes = self._browser_cdp.send("SystemInfo.getProcessInfo")["processInfo"]
        return {p["id"]: p["cpuTime"] for p in processes}

    def task_seconds(self) -> float:
        return self.cpu_metrics()["TaskDuration"]

    def reset_traffic(self) -> None:
        self.page.wait_for_timeout(300)  # deliver frames still queued for Python before the count starts
        self.traffic = Traffic()

    def arm(self, tail: str, length: int) -> None:
        """Watch for a new reply ending with `tail` and holding `length` letters and digits in all."""
        self.page.evaluate("([tail, length]) => window.__bench.arm(tail, length)", [tail, length])

    def type_message(self, text: str) -> None:
        self.page.get_by_test_id("stChatInputTextArea").fill(text)

    def press_send(self, at_epoch_ms: float | None = None) -> None:
        """Press send: now, or (several pages at once) at a shared wall-clock moment, by a timer in the page."""
        if at_epoch_ms is None:
            self.page.get_by_test_id("stChatInputSubmitButton").click()
            return
        self.page.evaluate(
            """at => setTimeout(() => document.querySelector('[data-testid=stChatInputSubmitButton]').click(),
                                at - Date.now())""",
            at_epoch_ms,
        )

    def probe(self) -> Probe:
        return Probe.of(self.page.evaluate("window.__bench.read()"))

    def shown_length(self) -> int:
        return self.page.evaluate("window.__bench.shownLength()")

    def close(self) -> None:
        self.context.close()
