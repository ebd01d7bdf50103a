"""What-if regrades against an earlier batch (instructor/whatif.py): pure functions of two sets of rows."""

from __future__ import annotations

from pathlib import Path

from autograder.config import load_config
from autograder.instructor.report import render_report
from autograder.instructor.rows import Row
from autograder.instructor.whatif import compare_rows, summary_text


def rows(maximum: float, totals: dict[str, float]) -> list[Row]:
    return [Row(sid, name=sid.upper(), status="ok", total=total, max=maximum, parts={"loss": total})
            for sid, total in totals.items()]


def test_a_new_maximum_is_said_and_scores_are_compared_as_percentages_of_it():
    """20 -> 22 points: 15/20 -> 18/22 gains 6.82 percentage points; 20/20 -> 22/22 and 10/20 -> 11/22
    change nothing, though every score moved."""
    comparison = compare_rows(rows(20, {"a": 15, "b": 20, "c": 10}), rows(22, {"a": 18, "b": 22, "c": 11}),
                              Path("old"))
    assert [(c.submission_id, c.delta) for c in comparison.changes] == [("a", 6.82)]
    text = summary_text(comparison)
    assert text.startswith("The maximum changed (20 -> 22): those scores are compared as percentages of it")
    assert "1 of 3 submissions change (1 gain, 0 lose):" in text and "15/20 -> 18/22 (+6.82 % points)" in text
    page = render_report(rows(22, {"a": 18, "b": 22, "c": 11}), load_config(), comparison)
    assert "<td>15/20</td><td>18/22</td><td>+6.82 % points</td>" in page


def test_under_the_same_maximum_changes_are_in_points():
    comparison = compare_rows(rows(20, {"a": 15, "b": 20}), rows(20, {"a": 16.5, "b": 20}), Path("old"))
    assert [(c.submission_id, c.delta) for c in comparison.changes] == [("a", 1.5)]
    assert "The maximum changed" not in summary_text(comparison) and "15 -> 16.5 (+1.5)" in summary_text(comparison)
