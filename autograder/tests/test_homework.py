"""The homework interface: the engine grades a homework it knows only through core.homework."""

from __future__ import annotations

import pytest

from autograder.config import ConfigError, parse_config
from autograder.core.homework import HOMEWORKS
from autograder.grading.grade import Grader
from autograder.grading.results import report_to_results

RIGHT = "import numpy as np\n\nclass Dot:\n    def dot(self, a, b):\n        return float(np.dot(a, b))\n"
WRONG = "class Dot:\n    def dot(self, a, b):\n        return float(sum(a))\n"
FUNCTION = "def dot(a, b):\n    return float(a @ b)\n"  # right, but not the contract: no class Dot


@pytest.fixture(params=["auto", "off"])
def toy(monkeypatch, request):
    """The toy homework's config, with every sandbox layer the machine has and with bubblewrap off."""
    monkeypatch.setitem(HOMEWORKS, "toy-dot", "autograder.tests.toy_homework")
    return parse_config({"assignment": {"homework": "toy-dot"}, "grading": {"hidden_cases": 3},
                         "parts": {"dot": {"points": 4}}, "sandbox": {"bubblewrap": request.param}})


def test_a_config_names_its_homework_and_is_checked_against_its_parts(toy):
    assert toy.homework.title == "Dot product" and toy.total_points == 4
    assert toy.student_packages == ("numpy",)
    with pytest.raises(ConfigError, match=r"unknown part id 'affine' in \[parts\]; the part ids of toy-dot are: dot"):
        parse_config({"assignment": {"homework": "toy-dot"}, "parts": {"affine": {"points": 1}}})
    with pytest.raises(ConfigError, match="unknown setting assignment.loss; allowed here: homework$"):
        parse_config({"assignment": {"homework": "toy-dot", "loss": "mean"}})


def test_the_engine_grades_a_homework_it_knows_only_through_the_interface(toy, tmp_path):
    uploads = {}
    for name, file, source in (("right", "dot.py", RIGHT), ("wrong", "dot.py", WRONG), ("renamed", "mine.py", RIGHT),
                               ("function", "dot.py", FUNCTION)):
        (tmp_path / name).mkdir()
        (tmp_path / name / file).write_text(source)
        uploads[name] = tmp_path / name
    with Grader(toy, diagnoser=None) as grader:
        reports = {name: grader.grade(folder, "7") for name, folder in uploads.items()}
        assert toy.bubblewrap == "auto" or not grader.isolation.bubblewrap
    right, wrong, renamed, function = (report_to_results(reports[n]) for n in ("right", "wrong", "renamed", "function"))
    assert right["score"] == 4 and [t["tags"] for t in right["tests"]] == [["dot"], ["dot"]]  # visible, hidden
    assert [t["max_score"] for t in right["tests"]] == [2.0, 2.0]
    assert wrong["score"] == 0
    visible = next(t for t in wrong["tests"] if "hidden" not in t["name"])
    assert "Dot product: Dot().dot(a, b)" in visible["name"]
    assert "Called `Dot` with:\n```text\na = [" in visible["output"]
    assert renamed["score"] == 4 and "No file named dot.py was uploaded, so mine.py" in renamed["output"]
    # the call reached the class through the homework's contract in the worker: a function is not it
    assert function["score"] == 0 and "defines none of the functions the autograder calls (Dot)" in function["output"]
    assert "- short vectors (n=3): Dot is not defined in your file" in function["tests"][0]["output"]
