"""Many sessions at once: 20 browser contexts each streaming 2,000 tokens at 200 tok/s from one server."""

from __future__ import annotations

import re
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser

from benchmarks.answer import Answer, answer
from benchmarks.browser import BenchPage, chromium
from benchmarks.procs import cpu_seconds, start_fake, start_streamlit
from benchmarks.streaming import APPS, PROMPT
from benchmarks.turn import Turn, TurnResult, run_turn

TOKENS, RATE = 2_000, 200
# The floor: the same stream read by a page that shows nothing until it ends, then draws the answer once.
FLOOR = "floor"
TIMEOUT_S = TOKENS / RATE + 90
SUBMIT_LEAD_S = 2.0  # enough to set the timer in every page before the moment comes
LOCKED = re.compile(r"database is locked", re.I)


@dataclass
class ConcurrencyRuns:
    sessions: int
    single: dict[str, list[TurnResult]] = field(default_factory=lambda: {app: [] for app in [*APPS, FLOOR]})
    concurrent: dict[str, list[TurnResult]] = field(default_factory=lambda: {app: [] for app in [*APPS, FLOOR]})
    server_cpu_s: dict[str, float] = field(default_factory=dict)
    chromium_cpu_s: dict[str, float] = field(default_factory=dict)  # all Chromium processes, whole concurrent run
    worker_seconds: list[float] = field(default_factory=list)  # RelayChat's own record of each reply's duration
    saved_whole: int = 0  # RelayChat replies in the database equal to the fake's text
    saved_total: int = 0
    locked_lines: int = 0  # "database is locked" in RelayChat's log
    error_lines: int = 0  # ERROR / Traceback lines in RelayChat's log, for the record


def run_concurrency(sessions: int, runs: int, work_dir: Path, apps: tuple[str, ...] = (*APPS, FLOOR),
                    log: Callable[[str], None] = print) -> ConcurrencyRuns:
    results = ConcurrencyRuns(sessions)
    reply = answer(TOKENS)
    fake = start_fake(TOKENS, RATE, 4, work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    answer_file = work_dir / "answer.md"
    answer_file.write_text(reply.text)
    try:
        with chromium() as browser:
            for app in apps:
                data_dir = work_dir / f"concurrency-{app}"
                if app == FLOOR:
                    server = start_streamlit("static", data_dir, fake.base_url, work_dir,
                                             STATIC_ANSWER_FILE=str(answer_file), STATIC_AFTER_STREAM="1")
                else:
                    server = start_streamlit(APPS[app], data_dir, fake.base_url, work_dir)
                try:
                    for index in range(runs):  # the reference: one session alone on the same server
                        page = BenchPage(browser)
                        page.open(server.url)
                        results.single[app].append(run_turn(app, page, reply, PROMPT, TIMEOUT_S))
                        page.close()
                    log(f"  {app}: single session, last token {results.single[app][-1].last_s or 0:.2f} s")
                    results.concurrent[app], results.server_cpu_s[app], results.chromium_cpu_s[app] = _all_at_once(
                        browser, app, server.url, server.process.pid, sessions, reply)
                    done = sum(t.finished for t in results.concurrent[app])
                    lasts = [t.last_s for t in results.concurrent[app] if t.last_s is not None]
                    log(f"  {app}: {sessions} sessions at once: {done} finished, median last token "
                        f"{statistics.median(lasts) if lasts else float('nan'):.2f} s")
                finally:
                    server.stop()
                if app == "relaychat":
                    _check_saved(data_dir / "relaychat.db", reply.text, results)
                    server_log = server.process.log()
                    results.locked_lines = len(LOCKED.findall(server_log))
                    results.error_lines = sum(1 for line in server_log.splitlines()
                                              if " ERROR " in line or line.startswith("Traceback"))
    finally:
        fake.stop()
    return results


def _all_at_once(browser: Browser, app: str, url: str, pid: int, sessions: int, reply: Answer
                 ) -> tuple[list[TurnResult], float, float]:
    pages = [BenchPage(browser) for _ in range(sessions)]
    try:
        for page in pages:  # start every load first, then wait: the pages load in parallel
            page.page.goto(url, wait_until="commit")
        for page in pages:
            page.wait_idle()
        turns = [Turn(app, page, reply, TIMEOUT_S) for page in pages]
        for turn in turns:
            turn.prepare(PROMPT)
        cpu_before = cpu_seconds(pid)
        chromium_before = pages[0].chromium_cpu()
        # Every page presses send at the same wall-clock moment (a timer in each page): at once, not one by one.
        at_epoch_ms = (time.time() + SUBMIT_LEAD_S) * 1000
        for turn in turns:
            turn.send(at_epoch_ms)
        while not all([turn.poll() for turn in turns]):  # a list: every turn is polled each round
            pages[0].page.wait_for_timeout(200)
        chromium = pages[0].chromium_cpu()
        chromium_s = sum(value - chromium_before.get(process, 0.0) for process, value in chromium.items())
        return [turn.result for turn in turns], cpu_seconds(pid) - cpu_before, chromium_s
    finally:
        for page in pages:
            page.close()


def _check_saved(database: Path, expected: str, results: ConcurrencyRuns) -> None:
    """Every reply row must hold the whole answer, exactly (read with plain sqlite3: no app code involved)."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT content, status, duration_ms FROM messages WHERE role = 'assistant'").fetchall()
    results.saved_total = len(rows)
    results.saved_whole = sum(1 for content, status, _ in rows if content == expected and status == "complete")
    results.worker_seconds = [duration / 1000 for _, _, duration in rows if duration is not None]
