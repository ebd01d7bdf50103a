"""One runtime everywhere: what student code may import is the config's [runtime], not what the
grading machine has installed (autograder/sandbox/runtime.py).

The development venv holds torch and PyYAML (the grader reads exports with it), the Gradescope
runtime built by setup.sh holds neither torch nor matplotlib. A class importing torch, matplotlib
and yaml gets the same per-test scores and the same import message from `grade` (with --staff),
`batch` and the handout's selfcheck.py here as from run_autograder in a rehearsed root, under the
default config; a config listing torch gives its torch solution full marks in both.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.instructor.bundle import copy_grading_files
from autograder.sandbox.runtime import RuntimeGuard, importable_modules

from .conftest import EXAMPLES, REPO

CORRECT = (EXAMPLES / "correct" / "two_layer_net.py").read_text()
CLASS = {  # submission id -> its file
    "torch": (EXAMPLES / "torch_tensors" / "two_layer_net.py").read_text(),
    "plots": "import matplotlib.pyplot as plt\n" + CORRECT,
    "yaml": "import yaml\n" + CORRECT,
    "lazy_torch": CORRECT.replace("def mse_loss(y_hat, y):", "def mse_loss(y_hat, y):\n    import torch", 1),
    "correct": CORRECT,
}
TORCH_CONFIG = (REPO / "grading.toml").read_text() + '\n[runtime]\npackages = ["torch"]\n'


# notebooks importing what the runtime lacks (matplotlib, seaborn, tqdm, IPython, google.colab), most
# of it installed here: stand-ins in both places
NOTEBOOKS = ("notebook_colab", "notebook_vscode")


def make_class(folder: Path) -> Path:
    for name, text in CLASS.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "two_layer_net.py").write_text(text)
    for name in NOTEBOOKS:
        shutil.copytree(EXAMPLES / name, folder / name)
    return folder


def autograder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def scores(results: dict) -> dict[str, float]:
    return {t["name"]: t["score"] for t in results["tests"]}


def grade_here(submission: Path, out: Path, *options: str) -> dict:
    done = autograder("grade", str(submission), "--submission-id", "123456", "--results", str(out), "--staff",
                      *options)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class graded here (the development venv: torch and yaml installed) by grade and by batch."""
    top = tmp_path_factory.mktemp("class")
    folder = make_class(top / "class")
    by_grade = {name: grade_here(folder / name, top / f"{name}.json") for name in [*CLASS, *NOTEBOOKS]}
    done = autograder("batch", str(folder), "--out", str(top / "out"))
    assert done.returncode == 0, done.stderr
    by_batch = {name: json.loads((top / "out" / "results" / f"{name}.json").read_text())
                for name in [*CLASS, *NOTEBOOKS]}
    return folder, by_grade, by_batch


def test_the_development_venv_has_what_the_runtime_lacks():
    pytest.importorskip("torch")
    pytest.importorskip("yaml")


@pytest.mark.parametrize("name", sorted([*CLASS, *NOTEBOOKS]))
def test_grade_and_batch_here_score_as_gradescope_does(name, graded_class, gradescope):
    folder, by_grade, by_batch = graded_class
    run = gradescope(folder / name)
    assert scores(by_grade[name]) == scores(by_batch[name]) == scores(run.results)
    assert by_grade[name]["output"] == run.results["output"]
    if name in ("torch", "yaml"):  # the import fails alone; the functions that use torch fail their calls
        assert f"The package '{name}' is not available on the grader: student code may import numpy" in \
            by_grade[name]["output"]
        assert run.results["score"] == (0 if name == "torch" else 20)
    elif name == "lazy_torch":  # an import inside a function fails that function's calls only
        assert 0 < run.results["score"] < 20
    elif name == "notebook_vscode":  # its relu_jacobian is wrong; its seaborn and IPython are stood in for
        assert run.results["score"] < 20 and "seaborn is not offered by the grader" in run.results["output"]
    else:
        assert run.results["score"] == 20
    if name == "plots":  # matplotlib only draws: a stand-in takes its place
        assert "matplotlib is not offered by the grader; a stand-in that does nothing" in run.results["output"]


def test_a_config_listing_torch_lets_it_in_everywhere(tmp_path, gradescope):
    pytest.importorskip("torch")
    source = copy_grading_files(tmp_path / "source", TORCH_CONFIG)
    here = grade_here(EXAMPLES / "torch_tensors", tmp_path / "here.json", "--config", str(source / "grading.toml"))
    run = gradescope(EXAMPLES / "torch_tensors", dev_python=True, source=source)
    assert here["score"] == run.results["score"] == 20
    assert scores(here) == scores(run.results)


@pytest.mark.slow
def test_selfcheck_refuses_what_the_grader_refuses(tmp_path):
    pytest.importorskip("torch")
    handout = tmp_path / "handout"
    assert autograder("handout", "--out", str(handout)).returncode == 0
    done = subprocess.run([sys.executable, "-I", str(handout / "selfcheck.py"),
                           str(EXAMPLES / "torch_tensors" / "two_layer_net.py")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stdout.count("FAIL ") == 14 and "No module named 'torch'" in done.stdout
    assert "the package 'torch' is not available on the grader" in done.stdout


def test_the_guard_lets_in_the_runtime_the_standard_library_and_the_students_own_files(tmp_path):
    (tmp_path / "helpers.py").write_text("")
    (tmp_path / "torch").mkdir()  # a folder without __init__.py named like an installed package
    guard = RuntimeGuard(importable_modules(["numpy"]), str(tmp_path))
    for allowed in ("numpy", "json", "sys", "helpers"):
        assert guard.find_spec(allowed) is None
    assert guard.find_spec("yaml.constructor", path=["x"]) is None  # submodules follow their package
    for refused in ("yaml", "pytest", "gradescope_utils"):
        with pytest.raises(ModuleNotFoundError, match=f"No module named '{refused}'"):
            guard.find_spec(refused)
    if "sympy" in importable_modules(["torch"]):  # torch is installed here
        with pytest.raises(ModuleNotFoundError):
            guard.find_spec("torch")  # the installed package would be imported instead of that folder


def test_a_runtime_package_brings_what_it_requires():
    pytest.importorskip("torch")
    modules = importable_modules(["numpy", "torch"])
    assert {"torch", "sympy", "mpmath", "jinja2", "markupsafe", "numpy"} <= set(modules)
    assert "yaml" not in modules and "pytest" not in modules  # (torch's extras, and the grader's own)
