"""History at scale: the sidebar query, start-up, opening a 1,000-message conversation, and one new turn in it,
on a database seeded with 10,000 conversations / 1,000,000 messages (benchmarks/seed.py)."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from pathlib import Path

from playwright.sync_api import Browser
from sqlalchemy import select

from benchmarks.answer import Answer, alnum, answer
from benchmarks.browser import BenchPage, chromium
from benchmarks.procs import StreamlitApp, start_fake, start_streamlit
from benchmarks.seed import SeededHistory, cached
from benchmarks.turn import TurnResult, run_turn
from db import repository
from db.engine import Database
from db.models import Message, User

T = TypeVar("T")
REPLY_TOKENS = 50  # "a short reply"
# Searches over the seeded vocabulary (see seed.py): a word in most messages, two of them, a word in ~0.4% of
# messages, one in ~0.01%, a prefix as typed, and one that matches nothing; then Chinese, Japanese and Korean
# (substrings): a common and a rarer two-character word, a four- and a three-character one, a mixed query, a
# katakana word, a hangul word inside words with particles, one character, and two characters found nowhere.
SEARCHES = (
    "dolo", "dolo cons", "exuti", "nims", "adi", "zzzqx",
    "系统", "抽奖", "抽奖系统", "期望值", "抽奖 system", "データベース", "검색", "猫", "龘龘",
)
QUERY_REPEATS = 20
PROMPT = "One more question about this, please."
TAIL_CHARS = 40


@dataclass
class HistoryRuns:
    conversations: int
    messages: int
    long_messages: int
    sidebar_first_ms: float = 0.0
    sidebar_ms: list[float] = field(default_factory=list)
    path_first_ms: float = 0.0
    path_ms: list[float] = field(default_factory=list)
    search_ms: dict[str, list[float]] = field(default_factory=dict)  # per query, warm repeats
    search_hits: dict[str, int] = field(default_factory=dict)
    search_note: str = ""
    startup_s: dict[str, list[float]] = field(default_factory=lambda: {"relaychat": [], "naive": []})
    first_page_s: list[float] = field(default_factory=list)  # the first page after start builds the runtime
    open_s: dict[str, list[float]] = field(default_factory=lambda: {"relaychat": [], "naive": []})
    turns: dict[str, list[TurnResult]] = field(default_factory=lambda: {"relaychat": [], "naive": []})


def _timed_ms(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = action()
    return (time.perf_counter() - started) * 1000, value


def measure_queries(url: str, conversation_id: int, results: HistoryRuns) -> None:
    """Server side, the app's own queries on the seeded database: the sidebar's first page and a long path."""
    database = Database(url)
    try:
        with database.read() as session:
            user = repository.get_user(session)
            assert user is not None, "the seeded database has no local user"
        sidebar, path = [], []
        for _ in range(QUERY_REPEATS + 1):  # the first call is kept apart: it reads the file into SQLite's cache
            with database.read() as session:
                ms, page = _timed_ms(lambda: repository.list_conversations(session, user, limit=30))
                assert len(page) == 30
            sidebar.append(ms)
        for _ in range(QUERY_REPEATS + 1):
            with database.read() as session:
                conversation = repository.get_conversation(session, user, conversation_id)
                ms, _messages = _timed_ms(lambda: repository.message_path(session, conversation))
            path.append(ms)
        results.sidebar_first_ms, results.sidebar_ms = sidebar[0], sidebar[1:]
        results.path_first_ms, results.path_ms = path[0], path[1:]
        measure_search(database, user, results)
    finally:
        database.dispose()


def measure_search(database: Database, user: User, results: HistoryRuns) -> None:
    try:
        from db.search import search_messages  # being built alongside this benchmark
    except ImportError:
        results.search_note = "pending: the app has no search function yet (db.search.search_messages)"
        return
    for query in SEARCHES:
        timings = []
        for _ in range(QUERY_REPEATS // 4 + 1):
            with database.read() as session:
                ms, hits = _timed_ms(lambda: search_messages(session, user, query))
            timings.append(ms)
        results.search_ms[query] = timings[1:]  # the first one warms SQLite's page cache
        results.search_hits[query] = len(hits)


def _last_messages(url: str, conversation_id: int) -> list[dict[str, str]]:
    """The long conversation as the naive app's starting history (role + content, oldest first)."""
    database = Database(url)
    try:
        with database.read() as session:
            rows = session.execute(
                select(Message.role, Message.content).where(Message.conversation_id == conversation_id)
                .order_by(Message.id)
            ).all()
    finally:
        database.dispose()
    return [{"role": role, "content": content} for role, content in rows]


def _fresh_copy(history: SeededHistory, data_dir: Path) -> Path:
    """A copy per run: the app writes to its database (endpoint sync, the new turn), the cache stays pristine and
    every run opens exactly the seeded conversation."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / "relaychat.db"
    shutil.copyfile(history.path, target)
    return target


def run_history(runs: int, work_dir: Path, log: Callable[[str], None] = print) -> HistoryRuns:
    history = cached(log=log)
    results = HistoryRuns(history.conversations, history.messages, history.long_messages)
    conversation_id = history.long_conversation_id
    copy_started = time.monotonic()
    database = _fresh_copy(history, work_dir / "queries")
    log(f"  copied the seeded database in {time.monotonic() - copy_started:.1f} s")
    url = f"sqlite:///{database}"
    measure_queries(url, conversation_id, results)
    log(f"  sidebar first page: {statistics.median(results.sidebar_ms):.1f} ms median "
        f"(first {results.sidebar_first_ms:.1f} ms); 1,000-message path {statistics.median(results.path_ms):.1f} ms")
    for query, timings in results.search_ms.items():
        log(f"  search {query!r}: {statistics.median(timings):.1f} ms median, {results.search_hits[query]} hits")

    messages = _last_messages(url, conversation_id)
    database.unlink()
    naive_history = work_dir / "naive-history.json"
    naive_history.write_text(json.dumps(messages))
    last_tail = alnum(messages[-1]["content"])[-TAIL_CHARS:]
    reply = answer(REPLY_TOKENS)

    fake = start_fake(REPLY_TOKENS, 0, 4, work_dir)
    try:
        with chromium() as browser:
            for index in range(runs):
                data_dir = work_dir / f"relaychat-{index}"
                database = _fresh_copy(history, data_dir)
                app = start_streamlit("app.py", data_dir, fake.base_url, work_dir, DATABASE_URL=f"sqlite:///{database}")
                try:
                    results.startup_s["relaychat"].append(app.startup_seconds)
                    first_page = BenchPage(browser)
                    results.first_page_s.append(first_page.open(app.url))
                    first_page.close()
                    _open_and_send(browser, "relaychat", f"{app.url}/?c={conversation_id}", last_tail, reply,
                                   app, results)
                finally:
                    app.stop()
                    database.unlink(missing_ok=True)  # 1 GB each
                naive = start_streamlit("naive", work_dir / f"naive-{index}", fake.base_url,
                                        work_dir, NAIVE_HISTORY_JSON=str(naive_history))
                try:
                    results.startup_s["naive"].append(naive.startup_seconds)
                    _open_and_send(browser, "naive", naive.url, last_tail, reply, naive, results)
                finally:
                    naive.stop()
                log(f"  run {index + 1}/{runs}: start-up {results.startup_s['relaychat'][-1]:.2f} s; open "
                    f"{results.open_s['relaychat'][-1]:.2f} s (naive {results.open_s['naive'][-1]:.2f} s); new turn "
                    f"{results.turns['relaychat'][-1].ws_bytes / 1e3:.1f} KB "
                    f"(naive {results.turns['naive'][-1].ws_bytes / 1e3:.1f} KB)")
    finally:
        fake.stop()
    return results


def _open_and_send(browser: Browser, app_name: str, url: str, last_tail: str, reply: Answer, app: StreamlitApp,
                   results: HistoryRuns) -> None:
    page = BenchPage(browser)
    try:
        results.open_s[app_name].append(page.open_until_shown(url, last_tail))
        results.turns[app_name].append(run_turn(app_name, page, reply, PROMPT, 60, app.process.pid))
    finally:
        page.close()
