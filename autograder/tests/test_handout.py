"""The student handout: what it holds, what it must not hold, and selfcheck.py against the grader."""

from __future__ import annotations

import ast
import builtins
import dataclasses
import io
import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
import tokenize
import zipfile

import pytest

from autograder.config import load_config
from autograder.diagnosis import diagnoser_for
from autograder.grading.grade import Grader, grade_submission
from autograder.grading.hidden import hidden_cases
from autograder.instructor.handout import build_handout

from .conftest import EXAMPLES, REPO, alive, descendants

# torch_tensors is right, and selfcheck says so; the grader fails it only because torch does not fit
# its default memory limit (and Gradescope's runtime has no torch): the environment, not the code.
# Notebooks are checked as they are graded: their code cells.
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir()
                       if p.is_dir() and p.name != "torch_tensors" and (any(p.glob("*.py")) or any(p.glob("*.ipynb"))))


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout") / "hw2"
    archive = build_handout(out, quick_config())
    return out, archive


def quick_config():
    """The shipped config with a shorter import limit: the examples' top-level loops are stopped sooner,
    by the handout's selfcheck.py and the grader alike (the verdicts do not depend on it)."""
    config = load_config()
    return dataclasses.replace(config, limits=dataclasses.replace(config.limits, import_timeout=2.0))


def selfcheck(handout_dir, target, python=sys.executable, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-I", str(handout_dir / "selfcheck.py"), str(target), *extra],
                          capture_output=True, text=True, timeout=180, cwd=handout_dir)


def test_folder_and_zip_hold_the_template_selfcheck_and_readme(handout):
    out, archive = handout
    names = ["README.md", "selfcheck.py", "two_layer_net.ipynb", "two_layer_net.py"]
    assert sorted(p.name for p in out.iterdir()) == names
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == [f"hw2/{name}" for name in names]
    assert (out / "two_layer_net.py").read_text() == (REPO / "handout" / "two_layer_net.py").read_text()


def functions_of(source: str) -> dict[str, str]:
    """{name: the function's code, docstring included} of every function a source defines."""
    return {node.name: ast.dump(node) for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)}


def test_the_notebook_template_is_the_py_template_in_cells(handout):
    """Same imports and functions (docstrings included), the statement in markdown, a last cell that
    runs the self-check on it (a line the autograder skips)."""
    out, _ = handout
    notebook = json.loads((out / "two_layer_net.ipynb").read_text())
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    markdown = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    template = (out / "two_layer_net.py").read_text()
    assert functions_of("\n\n".join(code[:-1])) == functions_of(template) and len(functions_of(template)) == 8
    assert code[0] == "import numpy as np" and code[-1] == "%run selfcheck.py two_layer_net.ipynb"
    assert "Shapes: x (n,), W1 (h, n)" in markdown and "## `backward`" in markdown


def test_the_notebook_template_grades_and_self_checks_like_the_py(handout, runtime, grader, tmp_path):
    """Untouched, it fails every part as the .py does; with the correct example's function bodies in its
    cells, it earns full marks and passes every check."""
    out, _ = handout
    untouched = grader.grade(out / "two_layer_net.ipynb")
    as_py = grader.grade(out / "two_layer_net.py")
    assert untouched.score == as_py.score == 0
    verdicts = [[(t.name, t.score, t.failures) for t in report.tests] for report in (untouched, as_py)]
    assert verdicts[0] == verdicts[1]
    correct_source = (EXAMPLES / "correct" / "two_layer_net.py").read_text()
    correct = functions_of(correct_source)
    notebook = json.loads((out / "two_layer_net.ipynb").read_text())
    sources = {node.name: ast.get_source_segment(correct_source, node)
               for node in ast.parse(correct_source).body if isinstance(node, ast.FunctionDef)}
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        name = text[4:text.index("(")] if cell["cell_type"] == "code" and text.startswith("def ") else None
        if name:
            cell["source"] = sources[name].splitlines(keepends=True)
    done_path = tmp_path / "two_layer_net.ipynb"
    done_path.write_text(json.dumps(notebook))
    assert functions_of("\n\n".join("".join(c["source"]) for c in notebook["cells"]
                                     if c["cell_type"] == "code" and "%run" not in "".join(c["source"]))) == correct
    assert grader.grade(done_path).score == 20
    checked = selfcheck(out, done_path, str(runtime / "venv" / "bin" / "python"), "--json")
    assert checked.returncode == 0 and all(json.loads(checked.stdout)["parts"].values())


def test_selfcheck_reads_top_down_for_a_student(handout):
    """Its first 60 lines say what it does and how to run it (a .py, a notebook, from inside one); the
    copied rules and the data come after a line saying a student need not read on, without the
    maintainers' comments; --help prints the usage; options go anywhere."""
    out, _ = handout
    text = (out / "selfcheck.py").read_text()
    first = "\n".join(text.splitlines()[:60])
    for said in ("Self-check for the two-layer network homework", "python selfcheck.py homework.ipynb",
                 "%run selfcheck.py homework.ipynb", "selfcheck.check(", "--timeout SECONDS", "Exit status"):
        assert said in first
    banner = text.index("You need not read on: below are")
    assert banner < text.index("def compare(") and banner < text.index("def run(") < text.index("PUBLIC_CASES = [")
    rules = text[text.index("\n# ====", banner) + 100:text.index("# --- the public cases and the course's settings")]
    assert "def compare(" in rules and "def run(" in rules
    comments = [t.string for t in tokenize.generate_tokens(io.StringIO(rules).readline) if t.type == tokenize.COMMENT]
    assert comments == [], comments
    helped = subprocess.run([sys.executable, str(out / "selfcheck.py"), "--help"], capture_output=True, text=True,
                            timeout=60)
    assert helped.returncode == 0 and helped.stdout.startswith("usage: selfcheck.py")
    assert "--timeout SECONDS" in helped.stdout and "Self-check of" not in helped.stdout
    late = subprocess.run([sys.executable, str(out / "selfcheck.py"), "--timeout", "3",
                           str(EXAMPLES / "correct" / "two_layer_net.py"), "--json"], capture_output=True, text=True,
                          timeout=180)
    assert late.returncode == 0 and json.loads(late.stdout)["parts"]["affine"], late.stdout + late.stderr


def test_selfcheck_run_from_a_notebook_prints_its_report_without_exiting(handout, monkeypatch, capsys):
    """`%run selfcheck.py file` runs it as __main__ inside IPython, where a SystemExit would be printed as
    an error: there it returns after its report (simulated: IPython marks itself in builtins)."""
    out, _ = handout
    monkeypatch.setattr(builtins, "__IPYTHON__", True, raising=False)
    monkeypatch.setattr(sys, "argv", [str(out / "selfcheck.py"),
                                      str(EXAMPLES / "missing_factor_2" / "two_layer_net.py")])
    monkeypatch.syspath_prepend(str(out))
    runpy.run_path(str(out / "selfcheck.py"), run_name="__main__")  # (no SystemExit)
    assert "FAIL  mse_grad" in capsys.readouterr().out


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
    with Grader(quick_config(), diagnoser=diagnoser_for) as grader:
        yield grader


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_selfcheck_gives_the_graders_visible_verdicts_and_causes(handout, runtime, grader, example):
    """One evidence rule: on the same cases, the verdict and the hint a student reads before
    uploading are the grader's (one selfcheck run and one grading per example serve both)."""
    out, _ = handout
    files = sorted((EXAMPLES / example).glob("*.py")) + sorted((EXAMPLES / example).glob("*.ipynb"))
    done = selfcheck(out, files[0], str(runtime / "venv" / "bin" / "python"), "--json", "--timeout=3")
    checked = json.loads(done.stdout)
    report = grader.grade(EXAMPLES / example)
    assert checked["parts"] == {t.part: t.passed for t in report.tests if not t.hidden}
    assert done.returncode == (0 if all(checked["parts"].values()) else 1)
    assert checked["causes"] == {t.part: t.explanation.title for t in report.tests if t.explanation and not t.hidden}


def test_a_notebook_with_22_mb_of_saved_plots_is_checked_as_it_is_graded(handout, runtime, grader, tmp_path):
    """Saved outputs are not code: the grader and selfcheck.py both take the cells' code alone."""
    out, _ = handout
    notebook = json.loads((EXAMPLES / "notebook_colab" / "HW_two_layer_net.ipynb").read_text())
    plot = notebook["cells"][-1]["outputs"][0]["data"]
    plot["image/png"] = plot["image/png"] * (22 * 2**20 // len(plot["image/png"]) + 1)
    path = tmp_path / "two_layer_net.ipynb"
    path.write_text(json.dumps(notebook))
    report = grader.grade(path)
    checked = json.loads(selfcheck(out, path, str(runtime / "venv" / "bin" / "python"), "--json").stdout)
    assert report.score == 20 and checked["parts"] == {t.part: t.passed for t in report.tests if not t.hidden}
    assert all(checked["parts"].values())


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
    """scipy is not on the grader: warned. matplotlib only draws: a stand-in takes its place, as on the
    grader, so no warning and every part passes (the stand-in is reported)."""
    out, _ = handout
    python = str(runtime / "venv" / "bin" / "python")
    correct = (EXAMPLES / "correct" / "two_layer_net.py").read_text()
    scipy = tmp_path / "scipy" / "two_layer_net.py"
    scipy.parent.mkdir()
    scipy.write_text("from scipy.special import expit\n" + correct)
    warned = selfcheck(out, scipy, python, "--timeout=3").stdout
    assert "warning: your file imports scipy, which the autograder does not have (it has numpy" in warned
    assert json.loads(selfcheck(out, scipy, python, "--json", "--timeout", "3").stdout)["foreign_imports"] == ["scipy"]
    plots = tmp_path / "plots" / "two_layer_net.py"
    plots.parent.mkdir()
    plots.write_text("import matplotlib.pyplot as plt\n" + correct)
    drawn = json.loads(selfcheck(out, plots, python, "--json").stdout)
    assert drawn["foreign_imports"] == [] and all(drawn["parts"].values())
    assert [(e["line"], e["outcome"], e["module"]) for e in drawn["toplevel"]] == [(1, "stand-in", "matplotlib")]
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


@pytest.mark.slow
def test_selfcheck_killed_leaves_no_child_running_the_students_endless_loop(handout, tmp_path):
    """A student's selfcheck killed outright (its terminal closed, a kill -9) while a child runs an
    endless loop that ignores SIGTERM (hang_in_loss): the child stops by itself."""
    handout, _ = handout
    proc = subprocess.Popen([sys.executable, "-I", str(handout / "selfcheck.py"),
                             str(EXAMPLES / "hang_in_loss" / "two_layer_net.py"), "--timeout", "600"],
                            cwd=handout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not any(_spinning(pid) for pid in descendants(proc.pid)):  # the loop's child, busy
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        children = descendants(proc.pid)
        proc.kill()  # the selfcheck alone, not its group
        proc.wait()
        deadline = time.monotonic() + 60
        while alive(children):
            assert time.monotonic() < deadline, f"still running: {alive(children)}"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # (whatever is left, should the test fail)


def _spinning(pid: int) -> bool:
    """Whether the process has used a second of CPU time (the endless loop, not a start-up)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") > 1.0


@pytest.mark.slow
@pytest.mark.parametrize("example", ["training_loop_at_top", "notebook_vscode", "notebook_correct"])
def test_selfcheck_says_what_of_the_top_level_did_not_run_in_the_graders_words(handout, runtime, grader, example):
    """The lines a student reads about statements stopped, failed or stood in for are the grader's own
    (toplevel.event_words, copied into selfcheck.py), line for line."""
    out, _ = handout
    path = next(p for p in sorted((EXAMPLES / example).iterdir()) if p.suffix in (".py", ".ipynb"))
    printed = selfcheck(out, path, str(runtime / "venv" / "bin" / "python"), "--timeout=3").stdout.splitlines()
    graded = [line for line in grader.grade(EXAMPLES / example).output.splitlines()
              if line.startswith(("- line ", "- cell "))]
    assert graded and [line.strip() for line in printed if line.startswith(("  - line ", "  - cell "))] == graded
