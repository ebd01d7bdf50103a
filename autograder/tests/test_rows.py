"""A submission's row: made from results.json, written to grades.csv, read back for --compare."""

from __future__ import annotations

from autograder.homeworks.two_layer_net import HOMEWORK
from autograder.instructor.intake import Submitter
from autograder.instructor.rows import Row, from_results, read_csv, write_csv

PART_IDS = HOMEWORK.part_ids


def results(score: float, part_scores: dict[str, float], status: str = "ok") -> dict:
    return {"score": score, "execution_time": 0.5,
            "tests": [{"tags": [part], "score": points, "max_score": 2.0} for part, points in part_scores.items()],
            "extra_data": {"status": status, "mistakes": {"mse_grad": ["missing_factor_2"]}}}


def test_a_row_survives_grades_csv_but_its_text_cells_stay_text(tmp_path):
    identity = Submitter(name="=HYPERLINK(\"http://x\")", email="a@b.c", sid="+42")
    row = from_results("s1", (identity,), results(3.5, {"affine": 2.0, "mse_grad": 1.5}), PART_IDS)
    assert row.parts["affine"] == 2.0 and row.parts["mse_grad"] == 1.5 and row.parts["relu"] == 0.0
    assert row.max == 4.0 and row.mistakes == {"mse_grad": ["missing_factor_2"]} and row.status == "ok"
    write_csv(tmp_path / "grades.csv", [row, from_results("s2", (), {}, PART_IDS)], PART_IDS)
    back, empty = read_csv(tmp_path / "grades.csv", PART_IDS)
    assert back.name == "'" + identity.name and back.sid == "'+42"  # a spreadsheet shows them as text
    assert (back.submission_id, back.email, back.total, back.max, back.seconds) == ("s1", "a@b.c", 3.5, 4.0, 0.5)
    assert back.parts == row.parts and set(back.parts) == set(PART_IDS)
    assert empty == Row("s2", status="grader error", parts={pid: 0.0 for pid in PART_IDS})  # nothing: a failure
