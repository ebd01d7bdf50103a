"""The student handout: what it holds, what it must not hold, and selfcheck.py against the grader."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder.config import load_config
from autograder.diagnosis import diagnoser_for
from autograder.grading.grade import Grader, grade_submission
from autograder.grading.hidden import hidden_cases
from autograder.instructor.handout import build_handout

from .conftest import EXAMPLES, REPO

# torch_tensors is right, and selfcheck says so; the grader fails it only because torch does not fit
# its default memory limit (and Gradescope's runtime has no torch): the environment, not the code.
# Notebook examples are left out: selfcheck.py checks a .py file.
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir()
                       if p.is_dir() and p.name != "torch_tensors" and any(p.glob("*.py")))


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout") / "hw2"
    archive = build_handout(out, load_config())
    return out, archive


def selfcheck(handout_dir, target, python=sys.executable, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-I", str(handout_dir / "selfcheck.py"), str(target), *extra],
                          capture_output=True, text=True, timeout=180, cwd=handout_dir)


def test_folder_and_zip_hold_the_template_selfcheck_and_readme(handout):
    out, archive = handout
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "selfcheck.py", "two_layer_net.py"]
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["hw2/README.md", "hw2/selfcheck.py", "hw2/two_layer_net.py"]
    assert (out / "two_layer_net.py").read_text() == (REPO / "handout" / "two_layer_net.py").read_text()


def function_bodies(source: str) -> dict[str, str]:
    return {node.name: ast.dump(ast.Module(body=node.body, type_ignores=[]))
            for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)}


def test_no_reference_code_in_the_handout(handout):
    out, _ = handout
    reference = function_bodies((REPO / "reference" / "two_layer_net.py").read_text())
    for name in ("two_layer_net.py", "selfcheck.py"):
        text = (out / name).read_text()
        bodies = set(function_bodies(text).values())
        leaked = [fn for fn, body in reference.items() if body in bodies]
        assert leaked == [], f"{name} holds the reference's {leaked}"
        assert "reference" not in {n.module for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ImportFrom)}


def test_no_hidden_case_data_or_secret_in_the_handout(handout):
    out, _ = handout
    config = load_config()
    text = "\n".join((out / name).read_text() for name in ("two_layer_net.py", "selfcheck.py", "README.md"))
    assert config.secret not in text
    assert not any(name in text for name in ("hidden_cases", "hidden_bases", "relabel"))
    for submission_id in ("1", "123456", "local"):
        for case in hidden_cases(config.secret, submission_id, config.hidden_cases):
            assert repr(float(case.inputs.y[0])) not in text  # a draw of full precision in every kind of case


def test_selfcheck_needs_only_numpy_and_python_3_9(handout, runtime):
    out, _ = handout
    # the Gradescope runtime's python has numpy and no torch; -I keeps this repository out of reach
    done = selfcheck(out, EXAMPLES / "correct" / "two_layer_net.py", str(runtime / "venv" / "bin" / "python"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "torch" not in done.stdout
    vermin = subprocess.run([str(REPO / ".venv" / "bin" / "vermin"), "--no-tips", "--violations", "--target=3.9-",
                             "--eval-annotations", str(out / "selfcheck.py")], capture_output=True, text=True)
    assert vermin.returncode == 0, vermin.stdout


@pytest.mark.slow
def test_torch_is_used_as_an_extra_oracle_when_installed(handout):
    pytest.importorskip("torch")
    done = selfcheck(out := handout[0], EXAMPLES / "correct" / "two_layer_net.py")
    assert done.returncode == 0 and "torch autograd used as an extra oracle" in done.stdout
    wrong = selfcheck(out, EXAMPLES / "missing_relu_mask" / "two_layer_net.py")
    assert "torch autograd (differs from torch's gradient)" in wrong.stdout


def test_template_fails_every_part_with_a_hint(handout):
    out, _ = handout
    done = selfcheck(out, out / "two_layer_net.py")
    assert done.returncode == 1
    assert done.stdout.count("FAIL ") == 14
    assert "hint: this function is still the template's: implement it" in done.stdout
    assert "Gradescope runs more (hidden) tests" in done.stdout
    assert "0 of 14 parts pass here" in done.stdout


@pytest.mark.parametrize("example,hint", [
    ("missing_factor_2", "likely cause: Your answer is exactly half the right one: the factor 2 of dl/dy_hat"),
    ("sign_error", "likely cause: Your answer has the wrong sign"),
    ("mean_loss", "likely cause: Your answer is divided by k"),
    ("relu_ge", "Use z1 > 0, not z1 >= 0"),
    ("jacobians_as_vectors", "diagonal as a vector"),
    ("transposed_dW1", "transpose of the right one"),
    ("missing_relu_mask", "likely cause: The ReLU step is missing from your backward pass"),
    ("missing_function", "hint: define it with exactly this name"),
    ("syntax_error", "hint: fix the syntax error on line 10"),
    ("hang_in_loss", "infinite loop"),
])
def test_each_typical_mistake_gets_its_hint_once_on_one_screen(handout, runtime, example, hint):
    out, _ = handout
    done = selfcheck(out, EXAMPLES / example / "two_layer_net.py", str(runtime / "venv" / "bin" / "python"),
                     "--timeout=3")
    assert done.returncode == 1
    assert hint in done.stdout, done.stdout
    assert len(done.stdout.splitlines()) <= 40, done.stdout
    assert "skipped" not in done.stdout.replace("skipped until", "")  # no hint points at a skipped check


@pytest.fixture(scope="module")
def grader():
    with Grader(load_config(), diagnoser=diagnoser_for) as grader:
        yield grader


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_selfcheck_gives_the_graders_visible_verdicts_and_causes(handout, runtime, grader, example):
    """One evidence rule: on the same cases, the verdict and the hint a student reads before
    uploading are the grader's (one selfcheck run and one grading per example serve both)."""
    out, _ = handout
    files = sorted((EXAMPLES / example).glob("*.py"))
    done = selfcheck(out, files[0], str(runtime / "venv" / "bin" / "python"), "--json", "--timeout=3")
    checked = json.loads(done.stdout)
    report = grader.grade(EXAMPLES / example)
    assert checked["parts"] == {t.part: t.passed for t in report.tests if not t.hidden}
    assert done.returncode == (0 if all(checked["parts"].values()) else 1)
    assert checked["causes"] == {t.part: t.explanation.title for t in report.tests if t.explanation and not t.hidden}


def test_grade_notes_a_selfcheck_from_another_handout(handout, tmp_path):
    out, _ = handout
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(EXAMPLES / "correct" / "two_layer_net.py", upload)
    shutil.copy(out / "selfcheck.py", upload)  # the current handout: nothing to say
    notes = grade_submission(upload, load_config(), diagnoser=diagnoser_for).notes
    assert not any("another version of the handout" in n for n in notes)
    (upload / "selfcheck.py").write_text('FINGERPRINT = "0123456789ab"\n')
    notes = grade_submission(upload, load_config(), diagnoser=diagnoser_for).notes
    assert any("selfcheck.py from another version of the handout (fingerprint 0123456789ab" in n for n in notes)


def test_selfcheck_warns_about_an_import_the_grader_lacks(handout, runtime, tmp_path):
    out, _ = handout
    python = str(runtime / "venv" / "bin" / "python")
    plots = tmp_path / "two_layer_net.py"
    plots.write_text("import matplotlib.pyplot as plt\n" + (EXAMPLES / "correct" / "two_layer_net.py").read_text())
    warned = selfcheck(out, plots, python, "--timeout=3").stdout
    assert "warning: your file imports matplotlib, which the autograder does not have (it has numpy" in warned
    assert json.loads(selfcheck(out, plots, python, "--json", "--timeout=3").stdout)["foreign_imports"] == \
        ["matplotlib"]
    quiet = selfcheck(out, EXAMPLES / "correct" / "two_layer_net.py", python).stdout
    assert "warning" not in quiet


def test_selfcheck_piped_into_a_reader_that_stops_ends_quietly(handout):
    """`python selfcheck.py | head -1`: no traceback when the reader has gone, exit status 141."""
    out, _ = handout
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    done = subprocess.run([sys.executable, "-I", str(out / "selfcheck.py"),
                           str(EXAMPLES / "missing_factor_2" / "two_layer_net.py")],
                          stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=180)
    os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")
