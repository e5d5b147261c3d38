"""Streaming scenarios: one answer streamed to RelayChat, to the naive app and to a direct httpx client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.answer import Answer, answer
from playwright.sync_api import Browser

from benchmarks.browser import BenchPage, chromium
from benchmarks.direct import DirectTiming, stream_once
from benchmarks.procs import start_fake, start_streamlit
from benchmarks.turn import TurnResult, run_turn

PROMPT = "Write a long answer with paragraphs, lists and code, please."
APPS = {"relaychat": "app.py", "naive": "naive"}


@dataclass(frozen=True)
class Targets:
    """Issue 6's targets for a scenario (None: no target on that figure)."""

    must_finish: bool = False
    ws_bytes_per_answer_byte: float | None = None
    browser_cpu_per_1k_tokens_s: float | None = None
    last_token_vs_direct: float | None = None  # ratio of times since the request
    last_token_after_direct_s: float | None = None
    first_token_after_direct_ms: float | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    tokens: int
    rate: float  # tokens per second; 0 = as fast as the endpoint sends
    targets: Targets = Targets()
    long: bool = False  # runs `--long-runs` times (default 1) instead of `--runs`
    chars_per_token: int = 4

    @property
    def title(self) -> str:
        speed = f"{self.rate:g} tok/s" if self.rate else "as fast as sent"
        return f"{self.tokens:,} tokens @ {speed}"


SCENARIOS = [
    Scenario("2k-200", 2_000, 200, Targets(
        ws_bytes_per_answer_byte=5, browser_cpu_per_1k_tokens_s=0.5, last_token_vs_direct=1.05,
        first_token_after_direct_ms=100)),
    Scenario("2k-fast", 2_000, 0),
    Scenario("20k-200", 20_000, 200, Targets(must_finish=True, last_token_vs_direct=1.05), long=True),
    Scenario("20k-fast", 20_000, 0, Targets(must_finish=True, last_token_after_direct_s=1.0,
                                            ws_bytes_per_answer_byte=5)),
]


@dataclass
class ScenarioRuns:
    scenario: Scenario
    answer_bytes: int
    direct: list[DirectTiming] = field(default_factory=list)
    turns: dict[str, list[TurnResult]] = field(default_factory=lambda: {app: [] for app in APPS})
    server_startup_s: dict[str, list[float]] = field(default_factory=lambda: {app: [] for app in APPS})
    floor: list[TurnResult] = field(default_factory=list)  # the finished answer drawn once (static_app.py)
    # The same page that first waits for the whole stream (rate-limited scenarios that are not long only)
    floor_after_stream: list[TurnResult] = field(default_factory=list)


def timeout_for(direct: DirectTiming) -> float:
    """How long a browser may take: generous, since the naive app is expected to fall far behind."""
    return direct.last_token_s * 1.5 + 60


def run_scenario(scenario: Scenario, runs: int, work_dir: Path, log: Callable[[str], None] = print) -> ScenarioRuns:
    reply = answer(scenario.tokens, scenario.chars_per_token)
    results = ScenarioRuns(scenario, reply.size_bytes)
    fake = start_fake(scenario.tokens, scenario.rate, scenario.chars_per_token, work_dir)
    try:
        with chromium() as browser:
            for index in range(runs):
                # Interleaved, so a noisy moment on the machine hits every client alike.
                direct = stream_once(fake.base_url, PROMPT)
                results.direct.append(direct)
                log(f"  run {index + 1}/{runs} direct: first {direct.first_token_s:.3f} s, "
                    f"last {direct.last_token_s:.3f} s")
                for app, script in APPS.items():
                    turn = _with_one_retry(lambda attempt: _browser_turn(
                        browser, app, script, fake.base_url, reply, timeout_for(direct),
                        work_dir / f"{scenario.name}-{app}-{index}-{attempt}", results), log)
                    results.turns[app].append(turn)
                    log(f"  run {index + 1}/{runs} {app}: {_describe(turn)}")
                floor = _floor_turn(browser, fake.base_url, reply, timeout_for(direct),
                                    work_dir / f"{scenario.name}-static-{index}")
                results.floor.append(floor)
                log(f"  run {index + 1}/{runs} the answer drawn once: browser CPU {floor.browser_cpu_s:.2f} s")
                if scenario.rate and not scenario.long:
                    floor = _floor_turn(browser, fake.base_url, reply, timeout_for(direct),
                                        work_dir / f"{scenario.name}-static-after-{index}", STATIC_AFTER_STREAM="1")
                    results.floor_after_stream.append(floor)
                    log(f"  run {index + 1}/{runs} the answer drawn once after the stream: "
                        f"browser CPU {floor.browser_cpu_s:.2f} s")
    finally:
        fake.stop()
    return results


def _with_one_retry(run: Callable[[int], TurnResult], log: Callable[[str], None]) -> TurnResult:
    """The app is edited while we measure: a page that fails to load once (a half-saved file) gets a second go."""
    try:
        return run(0)
    except Exception as exc:
        log(f"  (retrying once after: {type(exc).__name__}: {str(exc).splitlines()[0]})")
        return run(1)


def _browser_turn(browser: Browser, app: str, script: str, base_url: str, reply: Answer, timeout_s: float,
                  data_dir: Path, results: ScenarioRuns) -> TurnResult:
    # A fresh server (and database) per turn: a session the naive app lost must not weigh on the next run.
    server = start_streamlit(script, data_dir, base_url, data_dir.parent)
    results.server_startup_s[app].append(server.startup_seconds)
    page = BenchPage(browser)
    try:
        page.open(server.url)
        return run_turn(app, page, reply, PROMPT, timeout_s, server.process.pid)
    finally:
        page.close()
        server.stop()


def _floor_turn(browser: Browser, base_url: str, reply: Answer, timeout_s: float, data_dir: Path,
                **env: str) -> TurnResult:
    """The same turn on a page that draws the whole answer at once: what the browser pays for the answer alone."""
    data_dir.mkdir(parents=True, exist_ok=True)
    answer_file = data_dir / "answer.md"
    answer_file.write_text(reply.text)
    server = start_streamlit("static", data_dir, base_url, data_dir.parent, STATIC_ANSWER_FILE=str(answer_file), **env)
    page = BenchPage(browser)
    try:
        page.open(server.url)
        return run_turn("static", page, reply, PROMPT, timeout_s, server.process.pid)
    finally:
        page.close()
        server.stop()


def _describe(turn: TurnResult) -> str:
    last = f"{turn.last_s:.2f} s" if turn.last_s is not None else "—"
    first = f"{turn.first_s:.3f} s" if turn.first_s is not None else "—"
    return (f"{turn.ended} (shown {turn.shown_fraction:.0%}), first {first}, last {last}, "
            f"ws {turn.ws_bytes / 1e6:.2f} MB in {turn.ws_frames} frames, browser CPU {turn.browser_cpu_s:.2f} s, "
            f"server CPU {turn.server_cpu_s or 0:.2f} s, waited {turn.waited_s:.1f} s")
