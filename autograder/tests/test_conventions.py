"""The [assignment] conventions and a [runtime] that allows torch, end to end (examples/configs/).

Each example configuration comes with a solution written for it. Graded through run_autograder
under every configuration (bubblewrap off, as in Gradescope's Docker), each solution gets full
marks under its own and loses exactly the parts where the other's conventions differ from what it
returns; graded through `grade --config` (every sandbox layer this machine allows), full marks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.config import load_config
from autograder.core.conventions import Conventions
from autograder.diagnosis import diagnoser_for
from autograder.grading.fingerprint import fingerprint
from autograder.grading.grade import grade_submission
from autograder.homeworks.two_layer_net import HOMEWORK
from autograder.instructor.bundle import build_zip, copy_grading_files
from autograder.instructor.handout import build_handout

from .conftest import EXAMPLES, EXTRA_PACKAGES, REPO, run_autograder

PART_IDS = HOMEWORK.part_ids

CONFIGS = REPO / "examples" / "configs"
NO_BUBBLEWRAP = '\n[sandbox]\nbubblewrap = "off"\n'  # as in Gradescope's Docker (the example configs say nothing)
CONVENTION_EXAMPLES = ("default", "lenient", "pytorch_style", "vectors")
# each configuration's solution (the default's is the correct example)
SOLUTION = {name: CONFIGS / name / "two_layer_net.py" for name in CONVENTION_EXAMPLES} | \
    {"default": EXAMPLES / "correct" / "two_layer_net.py"}
# What each solution returns: (jacobians, relu derivative at 0, loss), each a fixed choice.
RETURNS = {"default": Conventions("matrix", 0, "sum"), "lenient": Conventions("diagonal", 1, "sum"),
           "pytorch_style": Conventions("matrix", 0, "mean"), "vectors": Conventions("diagonal", 1, "mean")}


def parts_lost(returns: Conventions, accepted: Conventions) -> set[str]:
    """The parts a solution following `returns` fails under a config that accepts `accepted`."""
    lost = set()
    if accepted.jacobians not in ("either", returns.jacobians):
        lost |= {"relu_jacobian", "output_jacobian"}
    if accepted.relu_derivative_at_zero not in ("either", returns.relu_derivative_at_zero):
        lost |= {"relu_jacobian", "grad.W1", "grad.b1"}  # seen on the cases with z1 exactly 0
    if accepted.loss != returns.loss:
        lost |= {"loss", "mse_grad", "grad.W1", "grad.b1", "grad.W2", "grad.b2"}
    return lost


def test_each_example_config_states_what_its_solution_returns():
    for name, returns in RETURNS.items():
        accepted = load_config(CONFIGS / name / "grading.toml").conventions
        assert not parts_lost(returns, accepted), name


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    """The grading files once per example config, as Gradescope unpacks them: its grading.toml,
    bubblewrap off (graded with the shared runtime's venv)."""
    return {name: copy_grading_files(tmp_path_factory.mktemp(f"source-{name}"),
                                     (CONFIGS / name / "grading.toml").read_text() + NO_BUBBLEWRAP)
            for name in CONVENTION_EXAMPLES}


@pytest.mark.parametrize("config", CONVENTION_EXAMPLES)
def test_each_solution_loses_exactly_the_parts_its_conventions_change(config, sources, runtime, tmp_path):
    accepted = load_config(CONFIGS / config / "grading.toml").conventions
    python = str(runtime / "venv" / "bin" / "python")
    for solution in CONVENTION_EXAMPLES:
        run = run_autograder(tmp_path / solution, SOLUTION[solution],
                             source=sources[config], python=python)
        full = {t["tags"][0] for t in run.results["tests"] if t["score"] == t["max_score"]}
        lost = {part for part in PART_IDS if part not in full}
        assert lost == parts_lost(RETURNS[solution], accepted), (solution, run.results["output"])
        assert run.results["extra_data"]["mistakes"] == {} or lost, solution  # a right answer gets no diagnosis


@pytest.mark.parametrize("config", CONVENTION_EXAMPLES)
@pytest.mark.slow
def test_each_config_s_solution_gets_full_marks_with_every_sandbox_layer(config):
    """`grade --config` with the example's own settings: bubblewrap where this machine allows it."""
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", str(SOLUTION[config]),
                          "--config", str(CONFIGS / config / "grading.toml")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "FAIL" not in out.stdout, out.stdout + out.stderr
    assert "Total" in out.stdout and "20 / 20" in out.stdout.split("Total", 1)[1].splitlines()[0]


def test_a_mean_loss_titles_its_parts_with_the_division():
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", str(SOLUTION["default"]),
                          "--config", str(CONFIGS / "pytorch_style" / "grading.toml")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "Loss: mse_loss(y_hat, y) = ||y_hat - y||^2 / k" in out.stdout
    assert "Loss gradient dl/dy_hat = 2 (y_hat - y) / k" in out.stdout


@pytest.mark.slow
def test_torch_solutions_get_full_marks_where_the_config_allows_torch(packages_root, tmp_path):
    """examples/submissions/torch_tensors, the torch config's solution, in a root whose config lists torch
    (and matplotlib) as examples/configs/torch does; a numpy-only runtime refuses it by name
    (test_end_to_end.test_a_package_the_grader_lacks_is_named_with_what_it_has)."""
    assert "torch" in EXTRA_PACKAGES and 'packages = ["torch"]' in (CONFIGS / "torch" / "grading.toml").read_text()
    run = run_autograder(tmp_path / "gs", EXAMPLES / "torch_tensors", source=packages_root / "source",
                         python=str(packages_root / "venv" / "bin" / "python"))
    assert run.results["score"] == 20, run.results["output"]


@pytest.fixture(scope="module")
def handouts(tmp_path_factory) -> dict[str, Path]:
    """The handout of each example config."""
    out = {}
    for name in (*CONVENTION_EXAMPLES, "torch"):
        out[name] = tmp_path_factory.mktemp(f"handout-{name}") / "hw2"
        build_handout(out[name], load_config(CONFIGS / name / "grading.toml"))
    return out


@pytest.mark.parametrize("config", CONVENTION_EXAMPLES)
def test_selfcheck_gives_the_graders_verdicts_and_causes_under_each_config(config, handouts, runtime):
    """selfcheck.py of the config's handout and the grader under that config, on every solution:
    the same visible verdict per part and the same likely causes (an accepted convention named by
    neither; a sum named under a mean loss)."""
    settings = load_config(CONFIGS / config / "grading.toml")
    for solution in CONVENTION_EXAMPLES:
        done = subprocess.run([str(runtime / "venv" / "bin" / "python"), "-I", str(handouts[config] / "selfcheck.py"),
                               str(SOLUTION[solution]), "--json"],
                              capture_output=True, text=True, timeout=180)
        mine = json.loads(done.stdout)
        report = grade_submission(SOLUTION[solution], settings, diagnoser=diagnoser_for)
        assert mine["parts"] == {t.part: t.passed for t in report.tests if not t.hidden}, solution
        assert mine["causes"] == {t.part: t.explanation.title for t in report.tests if t.explanation and not t.hidden}
        assert done.returncode == (1 if parts_lost(RETURNS[solution], settings.conventions) else 0)
    done = subprocess.run([sys.executable, "-I", str(handouts["pytorch_style"] / "selfcheck.py"),
                           str(SOLUTION["default"])], capture_output=True, text=True, timeout=180)
    assert "likely cause: Your answer is k times the right one: the loss is the mean" in done.stdout


# The lenient config's solution (vector Jacobians, derivative 1 at 0) with one mistake each, graded
# under vector Jacobians and derivative 0 at 0: {mistake: (the edits, the words a student reads)}.
VECTOR_MISTAKES = {
    "relu_ge": ({}, "Use z1 > 0, not z1 >= 0, in dz2/dz1"),
    "missing_relu_mask": ({"(z1 >= 0)": "(z1 > 0)", 'relu_jacobian(cache["z1"]) * (W2.T @ dl_dz3)': "W2.T @ dl_dz3"},
                          "dl/dz1 = relu_jacobian(z1) * dl/dz2 (elementwise)"),
    "transposed": ({"(z1 >= 0)": "(z1 > 0)", "np.outer(dl_dz1, x)": "np.outer(x, dl_dz1)"},
                   "Your answer is the transpose of the right one"),
}


@pytest.mark.slow
def test_a_vector_course_reads_its_mistakes_in_vector_words_from_grader_and_selfcheck(tmp_path, runtime):
    """Under jacobians = "diagonal": `>=`, a missing mask and a transposed outer product are named as
    under "matrix", in words for vectors (no rows, no ^T), the same by the grader and selfcheck.py."""
    config = tmp_path / "grading.toml"
    config.write_text('[assignment]\njacobians = "diagonal"\nrelu_derivative_at_zero = 0\nloss = "sum"\n')
    settings = load_config(config)
    handout = tmp_path / "handout" / "hw2"
    build_handout(handout, settings)
    for mistake, (edits, words) in VECTOR_MISTAKES.items():
        source = SOLUTION["lenient"].read_text()
        for old, new in edits.items():
            assert old in source
            source = source.replace(old, new)
        folder = tmp_path / mistake
        folder.mkdir()
        (folder / "two_layer_net.py").write_text(source)
        report = grade_submission(folder, settings, diagnoser=diagnoser_for)
        causes = {t.part: t.explanation for t in report.tests if t.explanation and not t.hidden}
        assert causes and all(e.ids == (mistake,) for e in causes.values()), (mistake, causes)
        done = subprocess.run([str(runtime / "venv" / "bin" / "python"), "-I", str(handout / "selfcheck.py"),
                               str(folder / "two_layer_net.py")], capture_output=True, text=True, timeout=180)
        for part, explanation in causes.items():
            assert words in explanation.message and "rows" not in explanation.message, explanation.message
            assert f"likely cause: {explanation.message}" in done.stdout, (part, done.stdout)


def test_the_handout_states_the_configs_conventions_and_packages(handouts):
    template = (handouts["vectors"] / "two_layer_net.py").read_text()
    assert '"""Return the scalar ||y_hat - y||^2 / k."""' in template
    assert "its diagonal as an (h,) vector" in template and "taken as 1 (use z1 >= 0)" in template
    assert "a (k,) vector of ones" in template and "2 (y_hat - y) / k" in template
    lenient = (handouts["lenient"] / "two_layer_net.py").read_text()
    assert "(either form is accepted)" in lenient and "may be taken as\n    0 or as 1" in lenient
    readme = (handouts["pytorch_style"] / "README.md").read_text()
    assert "`l = ||y_hat - y||^2 / k`" in readme and "`dl/dy_hat = 2 (y_hat - y) / k`" in readme
    assert "It may import numpy, torch and Python's" in (handouts["torch"] / "README.md").read_text()
    assert "CONVENTIONS = {'jacobians': 'diagonal', 'relu_derivative_at_zero': 1, 'loss': 'mean'}" in \
        (handouts["vectors"] / "selfcheck.py").read_text()


def test_the_zips_smoke_test_grades_a_reference_that_follows_the_conventions(tmp_path):
    """build-zip's smoke test: the reference, staged with the config's conventions, scores full marks."""
    config = tmp_path / "grading.toml"
    config.write_text((CONFIGS / "vectors" / "grading.toml").read_text() + NO_BUBBLEWRAP)
    build_zip(tmp_path / "autograder.zip", config)  # raises SmokeTestFailed if the reference lost a point
    assert (tmp_path / "autograder.zip").is_file()


def test_pytest_checks_the_grading_tests_against_the_reference_under_a_config():
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/", "-q", "-p", "no:cacheprovider",
                           "--config", str(CONFIGS / "lenient" / "grading.toml")],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/", "-q", "-p", "no:cacheprovider", "-x",
                           "--config", str(CONFIGS / "pytorch_style" / "grading.toml"),
                           "--submission", str(SOLUTION["default"])],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "Likely cause: Your answer is k times the right one" in done.stdout, \
        done.stdout[-3000:]


def test_the_fingerprint_tells_conventions_apart():
    prints = {fingerprint(load_config(CONFIGS / name / "grading.toml")) for name in CONVENTION_EXAMPLES}
    assert len(prints) == len(CONVENTION_EXAMPLES)
    assert fingerprint(load_config(CONFIGS / "default" / "grading.toml")) == fingerprint(load_config())


def half_at_zero(folder: Path) -> Path:
    """The default solution with a ReLU derivative of 0.5 where z1 is exactly 0 (neither 0 nor 1)."""
    source = SOLUTION["default"].read_text()
    half = source.replace("np.diag((z1 > 0).astype(float))",
                          "np.diag(np.where(z1 > 0, 1.0, np.where(z1 == 0, 0.5, 0.0)))")
    assert half != source
    folder.mkdir()
    (folder / "two_layer_net.py").write_text(half)
    return folder


def test_under_either_the_exact_zero_cases_still_fail_a_derivative_that_is_neither_0_nor_1(tmp_path):
    report = grade_submission(half_at_zero(tmp_path / "half"), load_config(CONFIGS / "lenient" / "grading.toml"),
                              diagnoser=diagnoser_for)
    lost = {t.part for t in report.tests if t.score < t.max_score}
    assert lost == {"relu_jacobian", "grad.W1", "grad.b1"}


@pytest.mark.slow
def test_the_staff_view_and_pytest_show_a_failing_check_under_either_and_a_mean(tmp_path):
    """Both judge and show a check again: against the accepted answer the grader judged with, and
    under the configured titles."""
    half, lenient = half_at_zero(tmp_path / "half"), str(CONFIGS / "lenient" / "grading.toml")
    staff = subprocess.run([sys.executable, "-m", "autograder", "grade", str(half), "--config", lenient, "--staff"],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert staff.returncode == 0 and "Traceback" not in staff.stderr, staff.stderr[-2000:]
    assert "ReLU Jacobian dz2/dz1; hidden case" in staff.stdout and "FAIL (wrong values)" in staff.stdout
    items = subprocess.run([sys.executable, "-m", "pytest", "tests/", "-q", "-p", "no:cacheprovider",
                            "--config", lenient, "--submission", str(half), "-k", "relu_jacobian"],
                           cwd=REPO, capture_output=True, text=True, timeout=600)
    assert items.returncode == 1 and "Expected:" in items.stdout and "Error" not in items.stdout, items.stdout[-3000:]
    mean = subprocess.run([sys.executable, "-m", "autograder", "grade", str(SOLUTION["default"]), "--staff",
                           "--config", str(CONFIGS / "pytorch_style" / "grading.toml")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "\nLoss: mse_loss(y_hat, y) = ||y_hat - y||^2 / k; hidden case" in mean.stdout
