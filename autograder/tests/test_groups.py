"""The wrong answers several students share (instructor/groups.py), from rows as a batch reads them."""

from __future__ import annotations

import csv

import numpy as np

from autograder.config import load_config
from autograder.core.cases import visible_cases
from autograder.grading.answer_key import expected_answers
from autograder.instructor.groups import group_words, mistake_groups, mistakes_by_student, write_mistakes_csv
from autograder.instructor.rows import Row

CONFIG = load_config()
TOLERANCES = {pid: p.tolerance for pid, p in CONFIG.parts.items()}
CASES = visible_cases()


def answers(part: str, transform) -> dict:
    """A part's answers on every visible case: the right one, transformed."""
    return {c.id: transform(np.asarray(expected_answers(c.inputs)[part], dtype=float)).tolist() for c in CASES}


def row(sid: str, parts: dict, causes: dict | None = None) -> Row:
    return Row(sid, name=f"Student {sid}", answers=parts, causes=causes or {})


HALF = {"mse_grad": answers("mse_grad", lambda a: a / 2), "grad.b2": answers("grad.b2", lambda a: a / 2)}
HALF_CAUSES = {"mse_grad": "missing factor 2", "grad.b2": "missing factor 2"}


def test_students_whose_wrong_answers_agree_form_one_group_per_mistake():
    rows = [
        row("a", HALF, HALF_CAUSES), row("b", HALF, HALF_CAUSES), row("c", HALF, HALF_CAUSES),
        # the same unnamed answer, one of them off by rounding only (within the tolerance)
        row("d", {"relu": answers("relu", lambda a: a + 0.1)}),
        row("e", {"relu": answers("relu", lambda a: a + 0.1 + 1e-9)}),
        row("f", {"relu": answers("relu", lambda a: a * 3)}),  # alone: no group
        row("g", {"loss": {c.id: "timeout" for c in CASES}}), row("h", {"loss": {c.id: "timeout" for c in CASES}}),
        row("i", {}), row("j", {}),  # correct: in no group
    ]
    groups = mistake_groups(rows, TOLERANCES, CONFIG.conventions, CONFIG.homework)
    assert [(g.students, g.parts, g.cause) for g in groups] == [
        (("a", "b", "c"), ("mse_grad", "grad.b2"), "missing factor 2"),  # one group across its parts
        (("d", "e"), ("relu",), ""),
        (("g", "h"), ("loss",), ""),
    ]
    unnamed = groups[1]
    assert unnamed.answer.startswith(f"on {CASES[0].title}: [") and "where [" in unnamed.answer
    assert groups[2].answer.startswith(f"on {CASES[0].title}: timeout, where ")
    assert group_words(groups[0]) == "3 students, mse_grad (and 1 more parts): missing factor 2"
    assert group_words(groups[1]).startswith("2 students, relu: not named: on ")
    # grades.csv's mistakes column: the named cause, else the group whose wrong answer the student shares
    said = mistakes_by_student(rows, groups, CONFIG.homework.part_ids)
    assert said["a"] == "mse_grad, grad.b2: missing factor 2"
    assert said["d"] == "relu: shared wrong answer, group 2" and said["h"] == "loss: shared wrong answer, group 3"
    assert "f" not in said and "i" not in said  # a lone unnamed answer is in f's results, not here


def test_a_group_needs_every_case_to_agree():
    differs_on_one = answers("relu", lambda a: a + 0.1)
    last = CASES[-1].id
    differs_on_one[last] = (np.asarray(differs_on_one[last]) * 2 + 1).tolist()
    rows = [row("d", {"relu": answers("relu", lambda a: a + 0.1)}), row("e", {"relu": differs_on_one})]
    assert mistake_groups(rows, TOLERANCES, CONFIG.conventions, CONFIG.homework) == []


def test_mistakes_csv_lists_every_group_with_its_students_and_keeps_their_text_text(tmp_path):
    rows = [Row("a", name="=HYPERLINK(\"x\")", answers=HALF, causes=HALF_CAUSES), row("b", HALF, HALF_CAUSES)]
    groups = mistake_groups(rows, TOLERANCES, CONFIG.conventions, CONFIG.homework)
    write_mistakes_csv(tmp_path / "mistakes.csv", groups, rows)
    with (tmp_path / "mistakes.csv").open(newline="", encoding="utf-8-sig") as f:
        lines = list(csv.DictReader(f))
    assert lines == [{"group": "1", "students": "2", "parts": "mse_grad grad.b2", "cause": "missing factor 2",
                      "answer": "", "submission_ids": "a; b", "names": "'=HYPERLINK(\"x\"); Student b"}]
