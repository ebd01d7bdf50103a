"""The cases a grader grades against, and what it keeps of them between submissions.

The grading tests and the fixed cases (visible ones, shown to students, and diagnostic ones, run
only to explain a failing part) are made once, with their plan of calls and reference answers
(runner.FixedCases) and their fingerprint; the term's hidden cases are designed once from the
secret and relabelled for each submission id.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..core.cases import Case, diagnostic_cases, visible_cases
from .fingerprint import fingerprint
from .hidden import hidden_bases, relabel
from .runner import FixedCases, load_grading_tests


class CaseBook:
    def __init__(self, config: Config, tests_dir: Path):
        self.secret = config.secret
        self.tests = load_grading_tests(tests_dir, config.homework.part_ids)
        self.visible = visible_cases()  # fixed inputs (read-only arrays): made once
        self.diagnostic = diagnostic_cases()
        self.fixed = FixedCases()  # the plan and reference answers of those two sets of cases
        # of the cases, tolerances and conventions: in every results.json
        self.stamp = fingerprint(config, self.visible + self.diagnostic)
        self.hidden_bases = hidden_bases(config.secret, config.hidden_cases)  # the term's: relabelled per upload
        self._last: tuple[str, list[Case]] | None = None  # the last submission id's cases

    def cases(self, submission_id: str) -> list[Case]:
        """The visible cases, then the hidden ones of this submission id (the same objects for the
        same id asked twice in a row: the pytest plugin parametrizes with them, then grades)."""
        if self._last is None or self._last[0] != submission_id:
            self._last = (submission_id, self.visible + relabel(self.hidden_bases, self.secret, submission_id))
        return self._last[1]
