"""What-if regrades: whose scores change against an earlier batch output, part by part.

After a fix to the config or a test, `batch INPUT --out NEW --compare OLD` grades the class again
(into a new folder) and lists who gains and who loses, by how much and in which parts, before the
class is regraded on Gradescope. Pure functions of two sets of rows (rows.Row).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .rows import Row, read_csv

EPSILON = 1e-9


@dataclass(frozen=True)
class Change:
    submission_id: str
    name: str
    before: float
    after: float
    parts: tuple[tuple[str, float, float], ...]  # (part id, before, after) of each part that changed
    max_before: float = 0.0  # the maximum score, then and now
    max_after: float = 0.0

    @property
    def max_changed(self) -> bool:
        return abs(self.max_after - self.max_before) > EPSILON and self.max_before > 0 and self.max_after > 0

    @property
    def delta(self) -> float:
        """The change in points; where the maximum changed, in percentage points of it (15/20 -> 18/22:
        +6.82), since a new maximum alone moves every score."""
        if self.max_changed:
            return round(100 * (self.after / self.max_after - self.before / self.max_before), 2)
        return round(self.after - self.before, 4)


@dataclass(frozen=True)
class Comparison:
    earlier: Path
    changes: tuple[Change, ...]  # biggest loss first, then the gains
    compared: int  # submissions in both runs
    new: tuple[str, ...]  # ids only in this run
    gone: tuple[str, ...]  # ids only in the earlier one


def read_earlier(folder: Path, part_ids: tuple[str, ...]) -> list[Row]:
    """The rows of an earlier batch's grades.csv (a column for each of `part_ids`, the homework's)."""
    path = Path(folder) / "grades.csv"
    if not path.is_file():
        raise ValueError(f"--compare {folder}: no grades.csv there (the --out folder of an earlier batch?)")
    return read_csv(path, part_ids)


def compare_rows(earlier: list[Row], now: list[Row], folder: Path) -> Comparison:
    before = {r.submission_id: r for r in earlier}
    after = {r.submission_id: r for r in now}
    changes = []
    for sid in sorted(set(before) & set(after)):
        part_ids = dict.fromkeys([*after[sid].parts, *before[sid].parts])  # (in the grader's order)
        parts = tuple((pid, float(before[sid].parts.get(pid, 0.0)), float(after[sid].parts.get(pid, 0.0)))
                      for pid in part_ids)
        changed = tuple(p for p in parts if abs(p[2] - p[1]) > EPSILON)
        total_before, total_after = float(before[sid].total), float(after[sid].total)
        change = Change(sid, after[sid].name, total_before, total_after, changed, float(before[sid].max),
                        float(after[sid].max))
        if (abs(change.delta) > 0.005) if change.max_changed else (changed or abs(change.delta) > EPSILON):
            changes.append(change)
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
    maxima = sorted({(c.max_before, c.max_after) for c in changes if c.max_changed})
    if maxima:
        lines.insert(0, "The maximum changed (" + ", ".join(f"{b:g} -> {a:g}" for b, a in maxima) + "): those "
                     "scores are compared as percentages of it, the change in percentage points.")
    width = max((len(c.submission_id) for c in changes), default=0)
    for c in changes[:most]:
        parts = ", ".join(f"{pid} {after - before:+g}" for pid, before, after in c.parts)
        scores = (f"{c.before:g}/{c.max_before:g} -> {c.after:g}/{c.max_after:g} ({c.delta:+g} % points)"
                  if c.max_changed else f"{c.before:g} -> {c.after:g} ({c.delta:+g})")
        lines.append(f"  {c.submission_id:<{width}}  {c.name[:24]:<24} {scores}  " + parts)
    if len(changes) > most:
        lines.append(f"  ... and {len(changes) - most} more (report.html lists them all)")
    return "\n".join(lines)

