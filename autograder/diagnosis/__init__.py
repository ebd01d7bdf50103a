"""Explaining a failing part: the known mistakes, the network's quantities, the evidence rule.

Grading reaches this package only through the interface in core/explain.py: a driver (the command
line, batch, the pytest plugin) hands a Grader the homework's diagnoser, the two-layer-net homework's
`diagnoser_for`.
"""

from __future__ import annotations

from ..config import Config
from ..core.explain import Diagnoser


def diagnoser_for(config: Config) -> Diagnoser:
    """The Diagnoser for a grader of `config` (a core.explain.DiagnoserFactory). The catalogue and the
    evidence rule are imported here, when a part first fails, not with the package: a right
    submission never loads them (a tenth of run_autograder's start)."""
    from .diagnose import Diagnoser as CatalogueDiagnoser

    return CatalogueDiagnoser({part: p.tolerance for part, p in config.parts.items()}, config.conventions)
