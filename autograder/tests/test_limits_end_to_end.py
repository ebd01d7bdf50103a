"""Submission limits end to end: run_autograder in a root set up by setup.sh from a zip whose
grading.toml has a [submissions] limit, with Gradescope's metadata of previous submissions."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from autograder.config import SubmissionPolicy
from autograder.grading.limits import attempts

from .conftest import EXAMPLES, REPO, root_with_config, run_autograder

NOW = datetime(2026, 12, 7, 17, 30, tzinfo=timezone(timedelta(hours=-8)))
LIMIT = '\n[submissions]\nlimit = 2\nwindow_hours = 24\nexempt = ["ta@uni.edu"]\ndetails_for = 1\n'
KEPT_TESTS = [{"name": "Affine layer (visible cases)", "score": 1.0, "max_score": 1.0, "output": "kept"}]


@pytest.fixture(scope="module")
def limited_root():
    with root_with_config(LIMIT) as (root, _):
        yield root


def metadata(*previous: tuple[float, float, bool], email: str = "ada@uni.edu") -> dict:
    """(hours ago, score, autograder_error) per previous submission, oldest first; the latest with results."""
    listed = [{"submission_time": (NOW - timedelta(hours=h)).isoformat(), "score": score, "autograder_error": error}
              for h, score, error in previous]
    if listed:
        listed[-1]["results"] = {"score": listed[-1]["score"], "tests": KEPT_TESTS}
    return {"id": 4242, "created_at": NOW.isoformat(), "users": [{"email": email, "id": 7, "name": "Ada"}],
            "previous_submissions": listed}


def grade(root, tmp_path, example="correct", **kwargs):
    return run_autograder(tmp_path / "gs", EXAMPLES / example, source=root / "source",
                          python=str(root / "venv" / "bin" / "python"), **kwargs)


@pytest.mark.slow
def test_failed_runs_do_not_count_and_the_count_is_said_first(limited_root, tmp_path):
    run = grade(limited_root, tmp_path, metadata=metadata((30, 20.0, False), (3, 0.0, True)))  # outside; failed
    assert run.results["score"] == 20 and run.results["tests"]
    assert run.results["output"].startswith("Submissions: this is 1 of 2 in any 24 hours; 1 left.\n\n")


@pytest.mark.slow
def test_the_first_submission_of_a_window_shows_values_and_the_second_which_cases_fail(limited_root, tmp_path):
    first = grade(limited_root, tmp_path / "1", "missing_factor_2", metadata=metadata())
    second = grade(limited_root, tmp_path / "2", "missing_factor_2", metadata=metadata((2, 9.0, False)))
    assert first.results["score"] == second.results["score"] < 20  # the same grading, shown differently
    for run, in_full in ((first, True), (second, False)):
        visible = [t for t in run.results["tests"] if not t["extra_data"]["hidden"] and t["score"] < t["max_score"]]
        assert visible and all(("instead of" in t["output"]) == in_full for t in visible)
    hidden = [[t["output"] for t in run.results["tests"] if t["extra_data"]["hidden"]] for run in (first, second)]
    assert hidden[0] == hidden[1]  # hidden tests unchanged
    assert "this one shows which pass and which fail" in second.results["output"]


@pytest.mark.slow
def test_over_the_limit_the_previous_score_is_kept_and_no_student_code_runs(limited_root, tmp_path):
    # the upload would hang at import (an endless loop at the top level): it is never run
    run = grade(limited_root, tmp_path, "training_loop_at_top", metadata=metadata((5, 12.0, False), (1, 17.5, False)))
    assert run.results["score"] == 17.5 and run.results["tests"] == KEPT_TESTS
    assert run.results["extra_data"]["status"] == "over limit"
    assert run.results["output"].startswith("Submissions: you have used all 2 submissions that count in any 24 "
                                            "hours, so this submission was not graded: none of its code was run, "
                                            "and your score stays 17.5")
    assert "The next one will be graded from 2026-12-08 12:30 (UTC-08:00)" in run.results["output"]
    assert "over the submission limit: not graded" in run.log and "graded two_layer_net.py" not in run.log


@pytest.mark.slow
def test_staff_are_exempt(limited_root, tmp_path):
    run = grade(limited_root, tmp_path, metadata=metadata((5, 1, False), (2, 1, False), (1, 1, False),
                                                          email="TA@uni.edu"))
    assert run.results["score"] == 20 and run.results["output"].startswith("Submissions: no limit applies to you")


@pytest.mark.slow
@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", json.dumps({"id": 5, "created_at": "tuesday"})],
                         ids=["missing", "not JSON", "not a mapping", "no time"])
def test_missing_or_malformed_metadata_grades_as_if_no_limit_and_says_so(limited_root, tmp_path, text):
    run = grade(limited_root, tmp_path, metadata_text=text)
    assert run.results["score"] == 20
    assert run.results["output"].startswith("Submissions: the limit of 2 in any 24 hours could not be applied (")


@pytest.mark.slow
def test_grade_with_metadata_rehearses_the_policy_locally(limited_root, tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps(metadata((5, 12.0, False), (1, 17.5, False))))
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(EXAMPLES / "training_loop_at_top"),
                           "--config", str(limited_root / "source" / "grading.toml"), "--metadata",
                           str(tmp_path / "meta.json"), "--results", str(tmp_path / "r.json")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Submissions: you have used all 2 submissions that count in any 24 hours")
    assert json.loads((tmp_path / "r.json").read_text())["score"] == 17.5
    missing = subprocess.run([sys.executable, "-m", "autograder", "grade", str(EXAMPLES / "correct"), "--metadata",
                              str(tmp_path / "nope.json")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1 and "--metadata" in missing.stderr and "no such file" in missing.stderr


@pytest.mark.slow
def test_batch_applies_the_limit_from_an_exports_history(tmp_path):
    """An export's :history is each submission's earlier ones: a batch rehearses the policy on the class."""
    export = tmp_path / "export"
    histories = {"1": [("2026-12-07 12:00:00.000 -0800", 12.0), ("2026-12-07 16:00:00.000 -0800", 17.5)],
                 "2": [("2026-12-07 16:00:00.000 -0800", 9.0)], "3": []}
    lines = []
    for sid, history in histories.items():
        (export / f"submission_{sid}").mkdir(parents=True)
        (export / f"submission_{sid}" / "two_layer_net.py").write_text(
            (EXAMPLES / "correct" / "two_layer_net.py").read_text())
        lines += [f"submission_{sid}:", "  :submitters:", f"  - :name: Student {sid}", f"    :email: s{sid}@uni.edu",
                  "  :created_at: 2026-12-07 17:30:00.000 -0800", "  :score: 0.0"]
        if history:
            lines += ["  :history:"] + [f"  - :created_at: {when}\n    :score: {score}" for when, score in history]
    (export / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    config = tmp_path / "grading.toml"
    config.write_text((REPO / "grading.toml").read_text() + LIMIT)
    done = subprocess.run([sys.executable, "-m", "autograder", "batch", str(export), "--out", str(tmp_path / "out"),
                           "--config", str(config), "-j", "2"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = {sid: json.loads((tmp_path / "out" / "results" / f"{sid}.json").read_text()) for sid in histories}
    assert results["1"]["score"] == 17.5 and results["1"]["extra_data"]["status"] == "over limit"
    assert results["2"]["score"] == 20 and results["2"]["output"].startswith("Submissions: this is 2 of 2")
    assert results["3"]["score"] == 20 and results["3"]["output"].startswith("Submissions: this is 1 of 2")


@pytest.mark.slow
def test_a_run_whose_grader_died_is_marked_so_no_limit_counts_it(runtime, tmp_path):
    """run_autograder's last line of defence (the grader never started) writes a valid file marked as a
    grader error, which a later submission's limit skips."""
    died = run_autograder(tmp_path / "gs", EXAMPLES / "correct", source=runtime / "source", python="/bin/false")
    assert died.results["score"] == 0 and "stopped unexpectedly" in died.results["output"]
    later = metadata((1, 0.0, False))
    later["previous_submissions"][0]["results"] = died.results
    found = attempts(SubmissionPolicy(limit=1, window_hours=24), later)
    assert found.allowed and found.used == 0
