"""Medians, the per-scenario tables (terminal and markdown) and the raw JSON."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def fmt(value: float | None, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{unit}"


@dataclass(frozen=True)
class Row:
    """One line of a scenario's table: RelayChat's median beside the naive app's and the direct client's."""

    metric: str
    relaychat: str
    naive: str = ""
    direct: str = ""
    target: str = ""
    met: bool | None = None  # None: no target for this line

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: ""}[self.met]


@dataclass(frozen=True)
class Table:
    title: str
    rows: list[Row]
    notes: list[str]


COLUMNS = ("metric", "RelayChat", "naive app", "direct client", "target", "")


def summary(tables: list[Table]) -> Table:
    """Every figure that has a target, from every scenario: the table to read first."""
    rows = [Row(f"{table.title}: {row.metric}", row.relaychat, row.naive, row.direct, row.target, row.met)
            for table in tables for row in table.rows if row.target]
    met = sum(row.met is True for row in rows)
    return Table("Targets", rows, [f"{met} of {len(rows)} targets met."])


def _cells(row: Row) -> list[str]:
    return [row.metric, row.relaychat, row.naive, row.direct, row.target, row.verdict]


def render_text(table: Table) -> str:
    lines = [[*COLUMNS], *(_cells(r) for r in table.rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    out = [f"\n== {table.title} =="]
    for index, line in enumerate(lines):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    out.extend(f"  * {note}" for note in table.notes)
    return "\n".join(out)


def render_markdown(table: Table) -> str:
    out = [f"### {table.title}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    out.extend("| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in table.rows)
    if table.notes:
        out.append("")
        out.extend(f"- {note}" for note in table.notes)
    return "\n".join(out) + "\n"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def write_results(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(payload), indent=2))
