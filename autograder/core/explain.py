"""What grading hands a diagnoser and what it gets back: plain data and an interface.

Grading sees a failing part's answers and asks "what went wrong?"; how that is answered (the
catalogue of known mistakes, the evidence rule) lives in autograder/diagnosis/, above grading,
and reaches it only through `Diagnoser`, passed in by whoever builds the grader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .cases import Inputs

if TYPE_CHECKING:
    from ..config import Config


@dataclass(frozen=True)
class Observation:
    """A student's answer for one part on one case (received: None when the call gave none)."""

    case_id: str
    inputs: Inputs
    received: np.ndarray | None
    expected: np.ndarray
    passed: bool


@dataclass(frozen=True)
class Explanation:
    """What the student reads for a part, in a sentence or two, and the ids recorded for statistics."""

    ids: tuple[str, ...]  # catalogue ids, relation ids, "computed:<quantity>", "localised:<kind>"
    title: str  # a few words for summaries
    message: str
    # what was claimed, opaque here (diagnosis.diagnose.holds checks one on fresh inputs)
    claims: tuple[object, ...] = field(default=(), compare=False, repr=False)
    crashed: int = 0  # failing cases where the code gave no answer, which the claims do not cover


class Diagnoser(Protocol):
    def explain(self, observed: dict[str, list[Observation]]) -> dict[str, Explanation]:
        """An explanation for each part whose answers have one; {part: observations on fixed cases}."""
        ...


# Makes a grader's Diagnoser from its config, when a part first fails (a right submission never needs one).
DiagnoserFactory = Callable[["Config"], Diagnoser]
