"""What-if regrades: whose scores change against an earlier batch output, part by part.

After a fix to the config or a test, `batch INPUT --out NEW --compare OLD` grades the class again
(into a new folder) and lists who gains and who loses, by how much and in which parts, before the
class is regraded on Gradescope. Pure functions of two sets of rows (rows.Row).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.parts import PART_IDS
from .rows import Row, read_csv

EPSILON = 1e-9


@dataclass(frozen=True)
class Change:
    submission_id: str
    name: str
    before: float
    after: float
    parts: tuple[tuple[str, float, float], ...]  # (part id, before, after) of each part that changed

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 4)


@dataclass(frozen=True)
class Comparison:
    earlier: Path
    changes: tuple[Change, ...]  # biggest loss first, then the gains
    compared: int  # submissions in both runs
    new: tuple[str, ...]  # ids only in this run
    gone: tuple[str, ...]  # ids only in the earlier one


def read_earlier(folder: Path) -> list[Row]:
    """The rows of an earlier batch's grades.csv."""
    path = Path(folder) / "grades.csv"
    if not path.is_file():
        raise ValueError(f"--compare {folder}: no grades.csv there (the --out folder of an earlier batch?)")
    return read_csv(path)


def compare_rows(earlier: list[Row], now: list[Row], folder: Path) -> Comparison:
    before = {r.submission_id: r for r in earlier}
    after = {r.submission_id: r for r in now}
    changes = []
    for sid in sorted(set(before) & set(after)):
        parts = tuple((pid, float(before[sid].parts.get(pid, 0.0)), float(after[sid].parts.get(pid, 0.0)))
                      for pid in PART_IDS)
        changed = tuple(p for p in parts if abs(p[2] - p[1]) > EPSILON)
        total_before, total_after = float(before[sid].total), float(after[sid].total)
        if changed or abs(total_after - total_before) > EPSILON:
            changes.append(Change(sid, after[sid].name, total_before, total_after, changed))
    changes.sort(key=lambda c: (c.delta, c.submission_id))
    return Comparison(Path(folder), tuple(changes), len(set(before) & set(after)),
                      tuple(sorted(set(after) - set(before))), tuple(sorted(set(before) - set(after))))


def summary_text(comparison: Comparison, most: int = 20) -> str:
    """A few lines for the terminal: counts, then who changes and where."""
    changes = comparison.changes
    gains, losses = sum(c.delta > 0 for c in changes), sum(c.delta < 0 for c in changes)
    lines = [f"Against {comparison.earlier}: {len(changes)} of {comparison.compared} submissions change "
             f"({gains} gain, {losses} lose)"
             + (f"; {len(comparison.new)} new, {len(comparison.gone)} no longer there"
                if comparison.new or comparison.gone else "") + ("." if not changes else ":")]
    width = max((len(c.submission_id) for c in changes), default=0)
    for c in changes[:most]:
        parts = ", ".join(f"{pid} {after - before:+g}" for pid, before, after in c.parts)
        lines.append(f"  {c.submission_id:<{width}}  {c.name[:24]:<24} {c.before:g} -> {c.after:g} ({c.delta:+g})  "
                     + parts)
    if len(changes) > most:
        lines.append(f"  ... and {len(changes) - most} more (report.html lists them all)")
    return "\n".join(lines)

