"""pytest runs the grading tests (autograder/instructor/pytest_plugin.py) with run_autograder's verdicts.

Every example submission, and the hostile ones that aim at the process running the tests or at what
it reports, is graded through `pytest tests/ --submission` and through run_autograder: the same
verdict for every (part, case), the same score for every test. (The plugin grades through
Grader.grade, like every driver: an attack on the sandbox's resources meets the same sandbox as in
test_hostile.py, so it is not run here again.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from autograder.config import load_config
from autograder.core.cases import visible_cases
from autograder.diagnosis import diagnoser_for
from autograder.grading.grade import TESTS_DIR, grade_submission
from autograder.grading.hidden import hidden_cases
from autograder.grading.runner import load_grading_tests
from autograder.homeworks.two_layer_net import HOMEWORK

from .conftest import EXAMPLES, REPO, without_the_lease

HOSTILE = REPO / "examples" / "hostile"
HONEST = EXAMPLES / "correct" / "two_layer_net.py"
SUBMISSION_ID = "123456"  # the gradescope fixture's submission id
PARTS_OF = {test.name.split("::")[1]: test.part for test in load_grading_tests(TESTS_DIR, HOMEWORK.part_ids)}


def run_pytest(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "tests/", "-p", "no:cacheprovider", "-q", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)


def run_pytest_in_process(*args: str) -> int:
    """`pytest tests/ ...` in this process (pytest's own runner, as pytester's runpytest_inprocess):
    what the subprocess gives, without an interpreter start per run. Its output goes to this test's
    capture; the exit status comes back. Without pytest's unraisable-exception plugin, whose five
    garbage collections at the end of each run walk this long-lived process's whole heap (a quarter
    of a run's time): it reports exceptions nothing raised, which no verdict depends on."""
    return int(pytest.main(["tests/", "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-q",
                            "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"), *args]))


def case_titles(submission_id: str) -> dict[str, str]:
    """pytest's case id -> the case's title (what results.json's outputs name)."""
    config = load_config()
    titles = {f"visible-{i:02d}-{c.id}": c.title for i, c in enumerate(visible_cases(), start=1)}
    return titles | {c.id: c.title for c in hidden_cases(config.secret, submission_id, config.hidden_cases)}


def pytest_verdicts(junit: Path, submission_id: str) -> dict[tuple[str, str], bool]:
    """(part, case title) -> passed, from pytest's JUnit XML report."""
    titles, verdicts = case_titles(submission_id), {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        function, _, case_id = case.get("name").partition("[")
        passed = case.find("failure") is None and case.find("error") is None
        verdicts[PARTS_OF[function], titles[case_id.rstrip("]")]] = passed
    return verdicts


def results_verdicts(results: dict, submission_id: str) -> dict[tuple[str, str], bool]:
    """(part, case title) -> passed, from a results.json (each test's failing cases, in its extra_data)."""
    titles = case_titles(submission_id)
    hidden = {title for case_id, title in titles.items() if case_id.startswith("hidden")}
    verdicts = {}
    for test in results["tests"]:
        part, extra = test["tags"][0], test["extra_data"]
        for title in hidden if extra["hidden"] else set(titles.values()) - hidden:
            verdicts[part, title] = title not in extra["failing_cases"]
    return verdicts


def upload(example: str, folder: Path) -> Path:
    """An example as Gradescope receives it: a submission folder, a hostile file with honest.py beside it."""
    source = EXAMPLES / example if (EXAMPLES / example).is_dir() else HOSTILE / example
    if source.is_dir():
        shutil.copytree(source, folder)
    else:
        folder.mkdir()
        shutil.copy(source, folder / "two_layer_net.py")
    if source.parent == HOSTILE:
        shutil.copy(HONEST, folder / "honest.py")
    return folder


EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
# attacks on the process that hosts the grading and on what it reports: pytest's own harness differs
HOSTILE_NAMES = ["append_to_grader.py", "exit_at_import.py", "fake_stdout_results.py", "import_grader_modules.py",
                 "kill_grader.py", "markdown_injection.py", "monkeypatch_frameworks.py", "os_exit_in_call.py",
                 "steer_pytest", "sys_exit_everywhere.py", "terminal_injection.py", "write_results.py"]


def test_plain_pytest_checks_the_grading_tests_against_the_reference():
    done = run_pytest()
    assert done.returncode == 0, done.stdout[-3000:]
    assert "224 passed" in done.stdout


def test_a_mistake_fails_exactly_its_items_each_naming_the_diagnosis(tmp_path):
    done = run_pytest("--submission", str(EXAMPLES / "missing_factor_2"), "--junitxml", str(tmp_path / "j.xml"),
                      "-rN")  # (no summary: under CI it repeats each message in full)
    assert done.returncode == 1
    # the runner, in this process
    report = grade_submission(EXAMPLES / "missing_factor_2", load_config(), diagnoser=diagnoser_for)
    graded = {(r.part, r.case_title): r.passed for r in report.results}
    assert pytest_verdicts(tmp_path / "j.xml", "local") == graded
    failing = sum(1 for r in report.results if not r.passed)
    assert done.stdout.count("Likely cause: Your answer is exactly half the right one") == failing  # every item
    assert "test_grad_W1[visible-01-small]" in done.stdout and "test_grad_W1[hidden-2]" in done.stdout


def test_k_selects_a_case_by_its_name_as_written(capsys):
    """`pytest -k zeros_in_z1`: the case's name as the cases and the results write it (collection only:
    nothing is graded)."""
    assert run_pytest_in_process("--collect-only", "-k", "zeros_in_z1") == 0
    items = [line for line in capsys.readouterr().out.splitlines() if "::" in line]
    assert items and all("[visible-07-zeros_in_z1]" in line for line in items), items


def test_results_option_writes_what_grade_writes(tmp_path):
    run_pytest("--submission", str(EXAMPLES / "relu_ge"), "--submission-id", "42",
               "--results", str(tmp_path / "p.json"))
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(EXAMPLES / "relu_ge"), "--submission-id", "42",
                    "--results", str(tmp_path / "g.json")], cwd=REPO, capture_output=True, check=True, timeout=120)
    mine, theirs = (json.loads((tmp_path / name).read_text()) for name in ("p.json", "g.json"))
    for doc in (mine, theirs):
        doc.pop("execution_time")
    assert without_the_lease(mine) == without_the_lease(theirs) and mine["score"] == 19


@pytest.mark.slow
def test_a_bad_submission_path_is_a_usage_error():
    done = run_pytest("--submission", "no/such/folder")
    assert done.returncode != 0 and "no such file or folder" in done.stdout + done.stderr


@pytest.mark.parametrize("example", EXAMPLE_NAMES + HOSTILE_NAMES)
def test_pytest_and_run_autograder_agree_on_every_case(example, gradescope, tmp_path, monkeypatch, short_limits):
    submission = upload(example, tmp_path / "upload")
    junit, results = tmp_path / "junit.xml", tmp_path / "results.json"
    monkeypatch.chdir(REPO)
    run_pytest_in_process("--submission", str(submission), "--submission-id", SUBMISSION_ID,
                          "--junitxml", str(junit), "--results", str(results), "--config", str(short_limits))
    # pytest runs in the development venv (torch is there, not in the Gradescope runtime): the same scores
    run = gradescope(submission)
    mine = json.loads(results.read_text())
    assert {t["name"]: t["score"] for t in mine["tests"]} == {t["name"]: t["score"] for t in run.results["tests"]}
    assert mine["score"] == run.results["score"]
    assert pytest_verdicts(junit, SUBMISSION_ID) == results_verdicts(run.results, SUBMISSION_ID)
    assert not Path("/tmp/autograder-pwned").exists()


def test_files_in_the_upload_never_steer_pytest(tmp_path, gradescope):
    submission = upload("steer_pytest", tmp_path / "upload")
    done = run_pytest("--submission", str(submission), "--results", str(tmp_path / "results.json"), "-rf")
    loss_failures = [line for line in done.stdout.splitlines()
                     if line.startswith("FAILED tests/test_loss.py::test_loss[")]
    assert len(loss_failures) == 16 and "test_everything_passes" not in done.stdout
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 19
    assert gradescope(submission).results["score"] == 19
    assert not Path("/tmp/autograder-pwned").exists()
