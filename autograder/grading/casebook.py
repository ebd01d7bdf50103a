"""The cases a grader grades against, and what it keeps of them between submissions.

The grading tests and the fixed cases (visible ones, shown to students, and diagnostic ones, run
only to explain a failing part) are made once, with their plan of calls and reference answers
(runner.FixedCases) and their fingerprint; the term's hidden cases are designed once from the
secret and relabelled for each submission id.
"""

from __future__ import annotations

from ..config import Config
from ..core.cases import Case
from .fingerprint import fingerprint
from .runner import FixedCases, load_grading_tests


class CaseBook:
    def __init__(self, config: Config):
        homework = self.homework = config.homework
        self.secret = config.secret
        self.tests = load_grading_tests(homework.tests_dir, homework.part_ids)
        self.conventions = config.conventions
        self.visible = homework.visible(config.conventions)  # fixed inputs (read-only arrays): made once
        self.diagnostic = homework.diagnostic(config.conventions)
        self.fixed = FixedCases()  # the plan and reference answers of those two sets of cases
        # of the cases, tolerances and conventions: in every results.json
        self.stamp = fingerprint(config, self.visible + self.diagnostic)
        # the term's hidden problems, relabelled per upload
        self.hidden_bases = homework.hidden_bases(config.secret, config.hidden_cases)
        self._last: tuple[str, list[Case]] | None = None  # the last submission id's cases

    def cases(self, submission_id: str) -> list[Case]:
        """The visible cases, then the hidden ones of this submission id (the same objects for the
        same id asked twice in a row: the pytest plugin parametrizes with them, then grades)."""
        if self._last is None or self._last[0] != submission_id:
            self._last = (submission_id, self.visible + self.homework.hidden(self.hidden_bases, self.secret,
                                                                             submission_id, self.conventions))
        return self._last[1]
