"""The homework interface: the engine grades a homework it knows only through core.homework."""

from __future__ import annotations

import json
import subprocess

import pytest

from autograder.config import ConfigError, parse_config
from autograder.core.homework import HOMEWORKS

from .conftest import REPO

RIGHT = "import numpy as np\n\nclass Dot:\n    def dot(self, a, b):\n        return float(np.dot(a, b))\n"
WRONG = "class Dot:\n    def dot(self, a, b):\n        return float(sum(a))\n"
FUNCTION = "def dot(a, b):\n    return float(a @ b)\n"  # right, but not the contract: no class Dot
TOY = {"assignment": {"homework": "toy-dot"}, "grading": {"hidden_cases": 3}, "parts": {"dot": {"points": 4}}}


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(HOMEWORKS, "toy-dot", "autograder.tests.toy_homework")
    return TOY


def test_a_config_names_its_homework_and_is_checked_against_its_parts(toy):
    config = parse_config(toy)
    assert config.homework.title == "Dot product" and config.total_points == 4
    assert config.student_packages == ("numpy",)
    with pytest.raises(ConfigError, match=r"unknown part id 'affine' in \[parts\]; the part ids of toy-dot are: dot"):
        parse_config({"assignment": {"homework": "toy-dot"}, "parts": {"affine": {"points": 1}}})
    with pytest.raises(ConfigError, match="unknown setting assignment.loss; allowed here: homework$"):
        parse_config({"assignment": {"homework": "toy-dot", "loss": "mean"}})


# The toy homework graded as run_autograder grades, in the Gradescope-like runtime (its Python is one
# the sandbox user can run wherever this checkout lies). argv: the checkout, the config (JSON), the
# uploads ({name: folder}, JSON); prints {name: results.json}.
GRADE_TOY = """
import json, pathlib, sys
sys.path.insert(0, sys.argv[1])
from autograder.core.homework import HOMEWORKS
HOMEWORKS["toy-dot"] = "autograder.tests.toy_homework"
from autograder.config import parse_config
from autograder.grading.grade import Grader
from autograder.grading.results import report_to_results
with Grader(parse_config(json.loads(sys.argv[2])), diagnoser=None) as grader:
    graded = {name: report_to_results(grader.grade(pathlib.Path(folder), "7"))
              for name, folder in json.loads(sys.argv[3]).items()}
print(json.dumps(graded))
"""


@pytest.mark.parametrize("layer", ["auto", "off"])
def test_the_engine_grades_a_homework_it_knows_only_through_the_interface(runtime, layer, tmp_path):
    """With every sandbox layer the machine has, and with bubblewrap off (as in Gradescope's Docker)."""
    uploads = {}
    for name, file, source in (("right", "dot.py", RIGHT), ("wrong", "dot.py", WRONG), ("renamed", "mine.py", RIGHT),
                               ("function", "dot.py", FUNCTION)):
        (tmp_path / name).mkdir()
        (tmp_path / name / file).write_text(source)
        uploads[name] = str(tmp_path / name)
    config = dict(TOY, sandbox={"bubblewrap": layer})
    done = subprocess.run([str(runtime / "venv" / "bin" / "python"), "-I", "-c", GRADE_TOY, str(REPO),
                           json.dumps(config), json.dumps(uploads)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    graded = json.loads(done.stdout.splitlines()[-1])
    right, wrong, renamed, function = (graded[n] for n in ("right", "wrong", "renamed", "function"))
    assert ("bubblewrap: no network" in right["extra_data"]["isolation"]) <= (layer == "auto")
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


def test_a_homework_without_a_handout_of_its_own_hands_out_its_template(toy, tmp_path, capsys):
    from autograder.cli import main

    config = tmp_path / "grading.toml"
    config.write_text('[assignment]\nhomework = "toy-dot"\n')
    assert main(["handout", "--config", str(config), "--out", str(tmp_path / "hw")]) == 0
    assert [p.name for p in (tmp_path / "hw").iterdir()] == ["dot.py"]
    assert "class Dot" in (tmp_path / "hw" / "dot.py").read_text()
    assert "toy-dot has no self-check or README for students yet" in capsys.readouterr().err
