"""Grader.grade and what it is handed: the diagnoser reaches grading only through core.explain's
interface, made when a part first fails."""

from __future__ import annotations

from autograder.config import load_config
from autograder.core.explain import Explanation
from autograder.diagnosis import diagnoser_for
from autograder.grading.grade import Grader

from .conftest import EXAMPLES


def test_the_diagnoser_is_made_once_a_part_fails_and_only_names_causes():
    made = []

    def spy(config):
        made.append(config)
        return diagnoser_for(config)

    config = load_config()
    with Grader(config, diagnoser=spy) as grader:
        right = grader.grade(EXAMPLES / "correct")
        assert made == [] and right.score == right.max_score  # a right submission never needs one
        wrong = grader.grade(EXAMPLES / "missing_factor_2")
        again = grader.grade(EXAMPLES / "missing_factor_2")
    assert made == [config]  # made once, kept for the next submission
    named = {t.part: t.explanation for t in wrong.tests if t.explanation is not None}
    assert named and all(isinstance(e, Explanation) for e in named.values())
    assert "missing_factor_2" in named["mse_grad"].ids
    assert [t.explanation for t in again.tests] == [t.explanation for t in wrong.tests]

    with Grader(config, diagnoser=None) as grader:  # the same verdicts, no cause named
        bare = grader.grade(EXAMPLES / "missing_factor_2")
    assert [(t.name, t.score) for t in bare.tests] == [(t.name, t.score) for t in wrong.tests]
    assert all(t.explanation is None for t in bare.tests)
