"""The staff view: every hidden case of a submission id as Gradescope graded it, for staff only."""

from __future__ import annotations

import json
import subprocess
import sys

from autograder.homeworks.two_layer_net import PARTS

from .conftest import EXAMPLES, REPO, without_the_lease
from .test_pytest_plugin import results_verdicts


def grade(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_staff_view_shows_each_hidden_case_as_gradescope_graded_it(gradescope, tmp_path):
    submission = EXAMPLES / "missing_relu_mask"
    done = grade(str(submission), "--submission-id", "123456", "--staff", "--results", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stderr
    staff = done.stdout[done.stdout.index("Hidden cases, as graded for this submission id (staff only):"):]
    blocks = [line for line in staff.splitlines() if line.endswith(("PASS", ")")) and "; hidden case" in line]
    assert len(blocks) == 14 * 4
    assert staff.count("Called `backward` with:") == 16  # each gradient's 4 hidden cases, passing ones too
    assert "likely cause (from the visible cases): The ReLU step is missing" in staff
    # the same verdicts as run_autograder gave for this id
    on_gradescope = results_verdicts(gradescope(submission).results, "123456")
    titles = {p.title: p.id for p in PARTS}
    shown = {}
    for part, title in on_gradescope:
        if title.startswith("hidden case"):
            line = next(b for b in blocks if b.startswith(f"{next(t for t, i in titles.items() if i == part)}; "
                                                          f"{title}: "))
            shown[part, title] = line.endswith(": PASS")
    assert len(shown) == 14 * 4
    assert shown == {key: passed for key, passed in on_gradescope.items() if key[1].startswith("hidden case")}


def test_the_students_results_stay_the_students_and_the_staff_copy_goes_beside(tmp_path):
    submission = str(EXAMPLES / "missing_relu_mask")
    grade(submission, "--submission-id", "7", "--staff", "--results", str(tmp_path / "with.json"))
    grade(submission, "--submission-id", "7", "--results", str(tmp_path / "without.json"))
    with_staff, without, copy = (without_the_lease(json.loads((tmp_path / name).read_text()))
                                 for name in ("with.json", "without.json", "with.staff.json"))
    for doc in (with_staff, without, copy):
        doc.pop("execution_time")
    assert with_staff == without and "Staff view" not in json.dumps(without)
    assert copy["score"] == without["score"] and copy["extra_data"]["staff_copy"] is True
    hidden = [t for t in copy["tests"] if "hidden cases" in t["name"] and t["tags"] == ["grad.W1"]][0]
    assert "**Staff view:**" in hidden["output"] and "Called `backward` with:" in hidden["output"]
