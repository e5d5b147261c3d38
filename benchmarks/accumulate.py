"""What the worker spends assembling a streamed reply, against `str +=` measured in the same run.

    python -m benchmarks.accumulate              # 20,000 and 100,000 tokens of 4 characters

The worker adds every chunk to services.accumulator.ReplyAccumulator while pages take snapshots of the text (every
50 ms; here every 250 chunks). The baseline is the same accumulator with each choice's text grown by `str +=`, which
copies the whole text per chunk (CPython grows a string in place only when it is a local variable, never an
attribute), as this accumulator did before.
"""

from __future__ import annotations

import statistics
import time

from services.accumulator import Choice, ReplyAccumulator

SNAPSHOT_EVERY = 250


def chunks(tokens: int) -> list[dict]:
    return [{"choices": [{"index": 0, "delta": {"content": f"w{i % 100:02d} "}}]} for i in range(tokens)]


class StrAccumulator(ReplyAccumulator):
    """The baseline: the same accumulator with each choice's text a `str` attribute grown by `+=`."""

    def _add_delta(self, choice: Choice, delta: dict) -> None:
        content = delta.get("content")
        if isinstance(content, str) and content:
            choice.text = getattr(choice, "text", "") + content  # what `choice.content += content` did

    @property
    def content(self) -> str:
        return getattr(self.choices.get(0), "text", "")


def assembled(accumulator: type[ReplyAccumulator], stream: list[dict]) -> float:
    reply, started, held = accumulator(), time.perf_counter(), ""
    for i, chunk in enumerate(stream):
        reply.add(chunk)
        if i % SNAPSHOT_EVERY == 0:
            held = reply.content  # a snapshot: keeps the text referenced, as a page's does
    assert len(reply.content) == 4 * len(stream) and held
    return time.perf_counter() - started


def median_of(accumulator: type[ReplyAccumulator], stream: list[dict], runs: int = 3) -> float:
    return statistics.median(assembled(accumulator, stream) for _ in range(runs))


def main() -> int:
    print(f"{'tokens':>8} {'str += (baseline)':>18} {'ReplyAccumulator':>17} {'ratio':>7}")
    for tokens in (20_000, 100_000):
        stream = chunks(tokens)
        base, ours = median_of(StrAccumulator, stream), median_of(ReplyAccumulator, stream)
        print(f"{tokens:>8,} {base * 1000:>15.0f} ms {ours * 1000:>14.0f} ms {ours / base:>6.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
