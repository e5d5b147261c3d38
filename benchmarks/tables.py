"""Turn raw runs into the tables of medians, each figure beside its target and the naive app's."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from benchmarks.concurrency import FLOOR, ConcurrencyRuns
from benchmarks.history import HistoryRuns
from benchmarks.report import Row, Table, fmt, median
from benchmarks.streaming import ScenarioRuns
from benchmarks.turn import TurnResult

SIDEBAR_TARGET_MS = 50
SEARCH_TARGET_MS = 200
STARTUP_TARGET_S = 3
OPEN_TARGET_S = 1.5
NEW_TURN_TARGET_KB = 50
CONCURRENCY_TARGET = 1.3


def _finished(turns: list[TurnResult]) -> str:
    done = sum(t.finished for t in turns)
    text = f"{done}/{len(turns)}"
    lost = [t for t in turns if not t.finished]
    if lost:
        shown = statistics.median(t.shown_fraction for t in lost)
        text += f" ({lost[0].ended} at {shown:.0%} shown, after {statistics.median(t.waited_s for t in lost):.0f} s)"
    return text


def _check(value: float | None, limit: float | None) -> bool | None:
    if limit is None:
        return None
    return value is not None and value <= limit


def streaming_table(runs: ScenarioRuns) -> Table:
    scenario, targets = runs.scenario, runs.scenario.targets
    k_tokens = scenario.tokens / 1000
    direct = runs.direct
    relay, naive = runs.turns["relaychat"], runs.turns["naive"]

    def paired(turns: list[TurnResult], get: Callable[[TurnResult, int], float | None]) -> float | None:
        """A median over runs of a figure taken against the direct client of the same run."""
        return median(get(turn, i) if turn.finished else None for i, turn in enumerate(turns))

    def both(get: Callable[[TurnResult], float | None], unit: str = "", digits: int = 2,
             only_finished: bool = False) -> tuple[str, str, float | None]:
        def one(turns: list[TurnResult]) -> float | None:
            return median(get(t) for t in turns if t.finished or not only_finished)
        ours, theirs = one(relay), one(naive)
        return fmt(ours, unit, digits), _naive_text(naive, fmt(theirs, unit, digits), only_finished), ours

    def first_delta(turn: TurnResult, i: int) -> float | None:
        return None if turn.first_s is None else (turn.first_s - direct[i].first_token_s) * 1000

    def ratio(turn: TurnResult, i: int) -> float | None:
        return None if turn.last_s is None else turn.last_s / direct[i].last_token_s

    def after(turn: TurnResult, i: int) -> float | None:
        return None if turn.last_s is None else turn.last_s - direct[i].last_token_s

    direct_first = median(d.first_token_s for d in direct)
    direct_last = median(d.last_token_s for d in direct)
    answer_kb = runs.answer_bytes / 1000

    rows = [Row("finished in the browser", _finished(relay), _finished(naive), f"{len(direct)}/{len(direct)}",
                "finishes" if targets.must_finish else "",
                all(t.finished for t in relay) if targets.must_finish else None)]
    ours, theirs, _ = both(lambda t: t.first_s, " s", 3)
    rows.append(Row("first token visible, s after submit", ours, theirs, fmt(direct_first, " s", 3)))
    value = paired(relay, first_delta)
    rows.append(Row("first token: browser − direct client", fmt(value, " ms", 0),
                    _naive_text(naive, fmt(paired(naive, first_delta), " ms", 0), True), "",
                    _target("≤ +", targets.first_token_after_direct_ms, " ms"),
                    _check(value, targets.first_token_after_direct_ms)))
    ours, theirs, _ = both(lambda t: t.last_s, " s", 2, only_finished=True)
    rows.append(Row("last token visible, s after submit", ours, theirs, fmt(direct_last, " s", 2)))
    value = paired(relay, ratio)
    rows.append(Row("last token vs direct client", fmt(value, "×", 2),
                    _naive_text(naive, fmt(paired(naive, ratio), "×", 2), True), "1.00×",
                    _target("≤ ", targets.last_token_vs_direct, "×"), _check(value, targets.last_token_vs_direct)))
    value = paired(relay, after)
    rows.append(Row("last token: browser − direct client", fmt(value, " s", 2),
                    _naive_text(naive, fmt(paired(naive, after), " s", 2), True), "",
                    _target("≤ +", targets.last_token_after_direct_s, " s"),
                    _check(value, targets.last_token_after_direct_s)))
    ours, theirs, value = both(lambda t: t.ws_bytes / runs.answer_bytes, "", 1)
    rows.append(Row(f"websocket bytes per answer byte ({answer_kb:.1f} KB answer)", ours, theirs, "1.0",
                    _target("≤ ", targets.ws_bytes_per_answer_byte), _check(value, targets.ws_bytes_per_answer_byte)))
    ours, theirs, _ = both(lambda t: t.ws_bytes / 1e6, " MB", 2)
    rows.append(Row("websocket bytes received", ours, theirs))
    ours, theirs, _ = both(lambda t: t.ws_frames, "", 0)
    rows.append(Row("websocket frames received", ours, theirs))
    ours, theirs, value = both(lambda t: t.browser_cpu_s / k_tokens, " s", 2)
    rows.append(Row("browser CPU per 1k tokens (renderer TaskDuration)", ours, theirs, "",
                    _target("≤ ", targets.browser_cpu_per_1k_tokens_s, " s"),
                    _check(value, targets.browser_cpu_per_1k_tokens_s)))
    if runs.floor:
        rows.append(Row("  … the finished answer drawn once, on a static page (the floor)", "", "",
                        fmt(median(t.browser_cpu_s / k_tokens for t in runs.floor), " s", 2)))
    if runs.floor_after_stream:
        rows.append(Row("  … the same page showing nothing until the stream ends, then the answer", "", "",
                        fmt(median(t.browser_cpu_s / k_tokens for t in runs.floor_after_stream), " s", 2)))
    ours, theirs, _ = both(lambda t: t.chromium_cpu_s / k_tokens, " s", 2)
    rows.append(Row("Chromium CPU per 1k tokens, all processes", ours, theirs))
    ours, theirs, _ = both(lambda t: (t.server_cpu_s or 0) / k_tokens, " s", 2)
    rows.append(Row("server CPU per 1k tokens (streamlit process)", ours, theirs))
    notes = [
        f"{len(relay)} run(s); medians; each browser run against a fresh server and database; the direct client "
        "streams the same request in the same run.",
        "Unfinished runs: bytes, frames and CPU are counted until the run was given up; times are left out.",
        "The floor: benchmarks/static_app.py draws the whole answer as one st.markdown when the message is sent; "
        "its browser CPU is what drawing the answer costs any Streamlit page, streaming aside."
        + (" With STATIC_AFTER_STREAM=1 it first reads the same stream to its end, showing nothing meanwhile: what "
           "a page pays for waiting as long as the reply lasts, and then the answer." if runs.floor_after_stream else ""),
        f"The probe's own share of browser CPU: {fmt(median(t.probe_cpu_s for t in relay + naive), ' s', 3)} "
        "(median per run).",
    ]
    return Table(f"Streaming {scenario.title}", rows, notes)


def _naive_text(naive: list[TurnResult], text: str, only_finished: bool) -> str:
    if only_finished and not any(t.finished for t in naive):
        return "did not finish"
    return text


def _target(prefix: str, value: float | None, unit: str = "") -> str:
    return "" if value is None else f"{prefix}{value:g}{unit}"


def history_table(runs: HistoryRuns) -> Table:
    sidebar = median(runs.sidebar_ms)
    startup = median(runs.startup_s["relaychat"])
    opened = median(runs.open_s["relaychat"])
    new_turn = median(t.ws_bytes / 1000 for t in runs.turns["relaychat"])
    rows = [
        Row("sidebar first page (30), server side", fmt(sidebar, " ms", 1), "n/a (no stored history)", "",
            f"≤ {SIDEBAR_TARGET_MS} ms", _check(sidebar, SIDEBAR_TARGET_MS)),
    ]
    if runs.search_ms:
        per_query = {q: statistics.median(ms) for q, ms in runs.search_ms.items()}
        worst_query = max(per_query, key=per_query.get)
        rows.append(Row("search, server side: median over queries", fmt(median(per_query.values()), " ms", 1),
                        "n/a", "", f"≤ {SEARCH_TARGET_MS} ms", _check(median(per_query.values()), SEARCH_TARGET_MS)))
        rows.append(Row(f"search: slowest query ({worst_query!r})", fmt(per_query[worst_query], " ms", 1), "n/a",
                        "", f"≤ {SEARCH_TARGET_MS} ms", _check(per_query[worst_query], SEARCH_TARGET_MS)))
    else:
        rows.append(Row("search, server side", runs.search_note, "n/a", "", f"≤ {SEARCH_TARGET_MS} ms"))
    rows += [
        Row("start-up: launch → /_stcore/health", fmt(startup, " s", 2), fmt(median(runs.startup_s["naive"]), " s", 2),
            "", f"≤ {STARTUP_TARGET_S} s", _check(startup, STARTUP_TARGET_S)),
        Row("first page after start (builds the runtime)", fmt(median(runs.first_page_s), " s", 2)),
        Row(f"open the {runs.long_messages:,}-message conversation: last message shown, idle", fmt(opened, " s", 2),
            fmt(median(runs.open_s["naive"]), " s", 2), "", f"≤ {OPEN_TARGET_S} s", _check(opened, OPEN_TARGET_S)),
        Row("new message + short reply in it: websocket bytes", fmt(new_turn, " KB", 1),
            fmt(median(t.ws_bytes / 1000 for t in runs.turns["naive"]), " KB", 1), "",
            f"≤ {NEW_TURN_TARGET_KB} KB", _check(new_turn, NEW_TURN_TARGET_KB)),
        Row("  … its last token visible, s after submit",
            fmt(median(t.last_s for t in runs.turns["relaychat"]), " s", 2),
            fmt(median(t.last_s for t in runs.turns["naive"]), " s", 2)),
        Row("  … browser CPU", fmt(median(t.browser_cpu_s for t in runs.turns["relaychat"]), " s", 2),
            fmt(median(t.browser_cpu_s for t in runs.turns["naive"]), " s", 2)),
        Row(f"path of the {runs.long_messages:,}-message conversation (message_path), server side",
            fmt(median(runs.path_ms), " ms", 1)),
    ]
    notes = [
        f"{runs.conversations:,} conversations / {runs.messages:,} messages (benchmarks/seed.py); "
        f"{len(runs.startup_s['relaychat'])} run(s), medians; server-side queries: {len(runs.sidebar_ms)} warm calls.",
        "The naive app has no database: it starts every session with the same conversation loaded from JSON.",
        "Each run works on a fresh copy of the seeded database and a fresh server.",
    ]
    if runs.search_ms:
        notes.append("search queries (median ms, hits): " + ", ".join(
            f"{q!r} {statistics.median(ms):.0f} ms/{runs.search_hits[q]}" for q, ms in runs.search_ms.items()))
    return Table(f"History: {runs.messages:,} messages", rows, notes)


def concurrency_table(runs: ConcurrencyRuns) -> Table:
    def ratio(app: str) -> float | None:
        single = median(t.last_s for t in runs.single[app])
        many = median(t.last_s for t in runs.concurrent[app] if t.finished)
        return many / single if single and many else None

    relay, naive, floor = runs.concurrent["relaychat"], runs.concurrent.get("naive", []), runs.concurrent[FLOOR]
    value = ratio("relaychat")
    all_saved = runs.saved_whole == runs.saved_total and runs.saved_total > 0
    rows = [
        Row(f"{runs.sessions} sessions at once: finished", _finished(relay), _finished(naive) if naive else "not run",
            "", "all", all(t.finished for t in relay)),
        Row("median last token, s after submit", fmt(median(t.last_s for t in relay if t.finished), " s", 2),
            fmt(median(t.last_s for t in naive if t.finished), " s", 2) if naive else ""),
        Row("single session alone, last token", fmt(median(t.last_s for t in runs.single["relaychat"]), " s", 2),
            fmt(median(t.last_s for t in runs.single["naive"]), " s", 2) if runs.single["naive"] else ""),
        Row("median last token vs a single session", fmt(value, "×", 2),
            fmt(ratio("naive"), "×", 2) if naive and any(t.finished for t in naive) else
            ("did not finish" if naive else ""), "", f"≤ {CONCURRENCY_TARGET}×", _check(value, CONCURRENCY_TARGET)),
        Row("  … the floor: each page reads the same stream and draws the answer once at its end", "", "",
            fmt(ratio(FLOOR), "×", 2) if any(t.finished for t in floor) else
            ("did not finish" if floor else "not run")),
        Row("replies saved whole in the database", f"{runs.saved_whole}/{runs.saved_total}", "n/a", "",
            "all", all_saved),
        Row("'database is locked' in the server log", str(runs.locked_lines), "n/a", "", "0", runs.locked_lines == 0),
        Row("server CPU for the concurrent replies", fmt(runs.server_cpu_s.get("relaychat"), " s", 1),
            fmt(runs.server_cpu_s.get("naive"), " s", 1) if naive else ""),
        Row("Chromium CPU, all processes, whole run", fmt(runs.chromium_cpu_s.get("relaychat"), " s", 1),
            fmt(runs.chromium_cpu_s.get("naive"), " s", 1) if naive else "",
            fmt(runs.chromium_cpu_s.get(FLOOR), " s (the floor)", 1) if floor else ""),
        Row("median renderer TaskDuration per session (wall time: grows when CPU-starved)",
            fmt(median(t.browser_cpu_s for t in relay), " s", 1),
            fmt(median(t.browser_cpu_s for t in naive), " s", 1) if naive else ""),
        Row("server side: median reply duration (RelayChat's worker, from the DB)",
            fmt(median(runs.worker_seconds), " s", 2)),
    ]
    notes = [f"One server, one Chromium with {runs.sessions} contexts; 2,000 tokens at 200 tok/s each. "
             f"ERROR/Traceback lines in RelayChat's log: {runs.error_lines}.",
             "The floor (benchmarks/static_app.py with STATIC_AFTER_STREAM=1) streams nothing to the browser: what "
             f"any Streamlit page that shows this answer pays when {runs.sessions} of them run at once on this machine."]
    return Table(f"Concurrency: {runs.sessions} sessions", rows, notes)
