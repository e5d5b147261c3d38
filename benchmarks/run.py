"""Run issue 6's benchmark and print a table of medians per scenario.

    python -m benchmarks.run                      # everything (~15 min; seeds the history database once, ~3 min)
    python -m benchmarks.run --quick              # one run each, no 20,000-token @ 200 tok/s stream, no naive crowd
    python -m benchmarks.run --scenario 2k-200    # one scenario (repeatable): 2k-200 2k-fast 20k-200 20k-fast
                                                  # history concurrency
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import shutil
import sys
import tempfile
import time
import traceback
from datetime import datetime
from pathlib import Path

from benchmarks import procs
from benchmarks.concurrency import FLOOR, run_concurrency
from benchmarks.history import run_history
from benchmarks.report import Row, Table, render_markdown, render_text, summary, write_results
from benchmarks.streaming import SCENARIOS, run_scenario
from benchmarks.tables import concurrency_table, history_table, streaming_table

RESULTS = Path(__file__).with_name("results")
NAMES = [s.name for s in SCENARIOS] + ["history", "concurrency"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=NAMES, help="run only this one (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario; tables show medians (default 3)")
    parser.add_argument("--long-runs", type=int, default=1,
                        help="runs of the 20,000-token @ 200 tok/s scenario (100 s per client; default 1)")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions (default 20)")
    parser.add_argument("--quick", action="store_true", help="1 run each, skip the long stream and the naive crowd")
    parser.add_argument("--app-dir", type=Path, help="benchmark the app.py of another checkout (experiments)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server logs, databases)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
    if args.app_dir:
        procs.use_app_dir(args.app_dir)
    chosen = args.scenario or [n for n in NAMES if not (args.quick and n == "20k-200")]

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    work_dir = Path(tempfile.mkdtemp(prefix=f"relaychat-bench-{stamp}-"))
    tables: list[Table] = []
    raw: dict[str, object] = {
        "started": stamp, "argv": sys.argv[1:], "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "work_dir": str(work_dir), "app": _code_state(args.app_dir or procs.ROOT),
        "scenarios": {},
    }
    started = time.monotonic()
    try:
        for name in chosen:
            print(f"\n--- {name} ---", flush=True)
            began = time.monotonic()
            try:
                runs, table = _run_one(name, args, work_dir)
            except Exception as exc:  # one broken scenario must not cost the others' results
                traceback.print_exc()
                runs, table = None, Table(name, [Row("the scenario failed", f"{type(exc).__name__}: {exc}"[:200])], [])
            raw["scenarios"][name] = {"seconds": time.monotonic() - began, "runs": runs}
            tables.append(table)
            print(render_text(table), flush=True)
    finally:
        raw["seconds"] = time.monotonic() - started
        if tables:
            tables.insert(0, summary(tables))
            print(render_text(tables[0]), flush=True)
        raw["tables"] = tables
        RESULTS.mkdir(exist_ok=True)
        write_results(RESULTS / f"{stamp}.json", raw)
        (RESULTS / f"{stamp}.md").write_text("".join(render_markdown(t) + "\n" for t in tables))
        print(f"\nraw results: {RESULTS / f'{stamp}.json'}; markdown tables: {RESULTS / f'{stamp}.md'}; "
              f"total {raw['seconds'] / 60:.1f} min")
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"work folder kept: {work_dir}")
    return 0


def _run_one(name: str, args: argparse.Namespace, work_dir: Path) -> tuple[object, Table]:
    if name == "history":
        runs = run_history(args.runs, work_dir / "history", log=_log)
        return runs, history_table(runs)
    if name == "concurrency":
        apps = ("relaychat", FLOOR) if args.quick else ("relaychat", "naive", FLOOR)
        runs = run_concurrency(args.sessions, 1, work_dir / "concurrency", apps, log=_log)
        return runs, concurrency_table(runs)
    scenario = next(s for s in SCENARIOS if s.name == name)
    count = args.long_runs if scenario.long and not args.scenario else args.runs
    runs = run_scenario(scenario, max(1, count), work_dir / name, log=_log)
    return runs, streaming_table(runs)


def _code_state(folder: Path) -> dict[str, object]:
    """Which code was measured: the commit and the files changed on top of it (others edit while we measure)."""
    def git(*command: str) -> str:
        try:
            return subprocess.run(["git", *command], cwd=folder, capture_output=True, text=True).stdout.rstrip("\n")
        except OSError:
            return ""
    return {"folder": str(folder), "commit": git("rev-parse", "HEAD"),
            "changed": git("status", "--porcelain").splitlines()}


def _log(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
