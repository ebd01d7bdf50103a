"""How each part fared across the class: how many submissions earned its full points, and the parts
nearly everyone loses points on (a test that is wrong, or instructions that are unclear, look like
this before any student does)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Config
from ..grading.grade import Status
from .rows import Row

NEARLY_EVERYONE = 0.8  # of the submissions graded normally, the share losing points that flags a part
FEWEST_GRADED = 5  # a smaller class says nothing about a part


@dataclass(frozen=True)
class PartRate:
    part: str  # a part id
    full: int  # submissions with the part's full points
    submissions: int  # every submission
    failing_graded: int  # submissions graded normally (status ok) without the part's full points
    graded: int  # submissions graded normally

    @property
    def rate(self) -> float:
        return self.full / self.submissions if self.submissions else 0.0

    @property
    def nearly_everyone_fails(self) -> bool:
        return self.graded >= FEWEST_GRADED and self.failing_graded >= NEARLY_EVERYONE * self.graded


def part_rates(rows: list[Row], config: Config) -> list[PartRate]:
    """Each part's rate of full points, in the grader's order."""
    out = []
    for part, settings in config.parts.items():  # (in the homework's order)
        full = [float(r.parts.get(part, 0.0)) >= settings.points - 1e-9 for r in rows]
        graded = [f for f, r in zip(full, rows) if r.status == Status.OK]
        out.append(PartRate(part, sum(full), len(rows), graded.count(False), len(graded)))
    return out


def hard_parts(rows: list[Row], config: Config) -> list[PartRate]:
    """The parts that nearly everyone graded normally loses points on (NEARLY_EVERYONE of them, in a
    class of FEWEST_GRADED or more)."""
    return [rate for rate in part_rates(rows, config) if rate.nearly_everyone_fails]
