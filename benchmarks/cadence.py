"""How often the live view may update, measured: renderer CPU for one streamed answer at several cadences.

    python -m benchmarks.cadence                 # 2,000 tokens at 200 tok/s, 2 runs per cadence
    python -m benchmarks.cadence --runs 3

Each cadence streams the same answer through ui.live.follow_live on a bare page (benchmarks/cadence_app.py),
so the figures are the live view's own cost; "drawn once" is the finished answer as one st.markdown (the floor).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchmarks.answer import answer
from benchmarks.browser import BenchPage, chromium
from benchmarks.procs import start_streamlit
from benchmarks.turn import run_turn

APP = Path(__file__).with_name("cadence_app.py")
# (tail interval in seconds, characters of finished blocks that leave the tail at once); None: the static page
CADENCES = [(0.1, 0), (0.25, 0), (0.3, 400), (0.5, 600), (1.0, 600), (3.0, 1_000_000), None]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=200)
    args = parser.parse_args()
    reply = answer(args.tokens, 4)
    print(f"{'cadence':<28} {'renderer CPU per 1k tokens':>27} {'websocket bytes per answer byte':>32} {'updates':>8}")
    with tempfile.TemporaryDirectory() as work, chromium() as browser:
        answer_file = Path(work) / "answer.md"
        answer_file.write_text(reply.text)
        for cadence in CADENCES:
            cpu, size, frames = [], [], []
            for run in range(args.runs):
                data_dir = Path(work) / f"run-{len(cpu)}-{cadence}-{run}"
                if cadence is None:
                    server = start_streamlit("static", data_dir, "http://127.0.0.1:9/v1", Path(work),
                                             STATIC_ANSWER_FILE=str(answer_file))
                else:
                    server = start_streamlit(str(APP), data_dir, "http://127.0.0.1:9/v1", Path(work),
                                             CADENCE_TAIL_INTERVAL=str(cadence[0]), CADENCE_FREEZE_CHARS=str(cadence[1]),
                                             CADENCE_TOKENS=str(args.tokens), CADENCE_RATE=str(args.rate))
                page = BenchPage(browser)
                try:
                    page.open(server.url)
                    turn = run_turn("cadence", page, reply, "Stream the answer", args.tokens / args.rate * 2 + 60)
                finally:
                    page.close()
                    server.stop()
                cpu.append(turn.browser_cpu_s / (args.tokens / 1000))
                size.append(turn.ws_bytes / len(reply.text.encode()))
                frames.append(turn.ws_frames)
            label = "drawn once (static page)" if cadence is None else f"tail every {cadence[0]:g} s, blocks ≥{cadence[1]:,}"
            print(f"{label:<28} {statistics.median(cpu):>25.2f} s {statistics.median(size):>32.1f} "
                  f"{statistics.median(frames):>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
