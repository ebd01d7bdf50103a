"""What a class's results say beyond each score, gathered once for the report and the terminal: the
parts nearly everyone loses points on (items.py) and, for staff only, the integrity signals
(integrity.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .integrity import RareAnswer, SameSource
from .items import PartRate


@dataclass(frozen=True)
class Insight:
    hard: list[PartRate] = field(default_factory=list)  # parts nearly everyone graded loses points on
    rare: list[RareAnswer] = field(default_factory=list)  # staff only: wrong answers two or three share
    same: list[SameSource] = field(default_factory=list)  # staff only: identical files

    @property
    def for_staff(self) -> int:
        """How many integrity signals there are."""
        return len(self.rare) + len(self.same)
