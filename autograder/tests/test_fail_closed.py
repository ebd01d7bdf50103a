"""Where nothing isolates student code from the grader, nothing grades it unless the instructor says so.

As an ordinary user without bubblewrap (and as root with a Python the sandbox user cannot run),
student code would run with the grader's own privileges: `grade`, `batch` and `run_autograder`
refuse before any of it runs, saying why and how to fix it, unless `--unsafe-run-as-grader` or
`[sandbox] unsafe_run_as_grader = true` allows it. Run here as a second, unprivileged user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from autograder.instructor.bundle import copy_grading_files

from .conftest import EXAMPLES, GRADER_USER, REPO, run_autograder


@pytest.fixture
def place(grader_user):
    """A folder the grader user owns (outside pytest's, which only root may enter), with a source
    whose config turns bubblewrap off."""
    top = Path(tempfile.mkdtemp(prefix="autograder-failclosed-"))
    os.chmod(top, 0o755)
    folder = top / "home"
    folder.mkdir()
    text = (REPO / "grading.toml").read_text().replace('bubblewrap = "auto"', 'bubblewrap = "off"')
    source = copy_grading_files(folder / "source", text)
    shutil.copytree(EXAMPLES / "correct", folder / "upload")
    subprocess.run(["chown", "-R", grader_user, str(folder)], check=True)
    os.chmod(folder, 0o700)  # the grader user's alone: no sandbox user of a test running meanwhile reads the reference
    yield folder, source
    subprocess.run(["pkill", "-KILL", "-u", grader_user], capture_output=True)
    shutil.rmtree(top, ignore_errors=True)


def as_grader(runtime: Path, source: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", GRADER_USER, "--", str(runtime / "venv/bin/python"), "-m", "autograder",
                           *args, "--config", str(source / "grading.toml")], cwd=source, capture_output=True,
                          text=True, timeout=300)


def test_grade_refuses_then_grades_when_allowed(place, runtime):
    folder, source = place
    refused = as_grader(runtime, source, "grade", str(folder / "upload"))
    assert refused.returncode == 1 and refused.stdout == ""
    assert "refusing to grade: not running as root and without bubblewrap" in refused.stderr
    assert "install bubblewrap" in refused.stderr and "--unsafe-run-as-grader" in refused.stderr
    allowed = as_grader(runtime, source, "grade", str(folder / "upload"), "--unsafe-run-as-grader")
    assert allowed.returncode == 0 and "20 / 20" in allowed.stdout
    assert allowed.stderr.startswith("warning: the sandbox is incomplete.")  # said before grading


def test_batch_refuses_before_grading_anyone(place, runtime):
    folder, source = place
    out = folder / "out"
    refused = as_grader(runtime, source, "batch", str(folder / "upload"), "--out", str(out))
    assert refused.returncode == 1 and "refusing to grade" in refused.stderr
    assert not (out / "grades.csv").exists() and not list((out / "results").glob("*.json"))


def test_batch_allowed_says_what_is_missing_before_grading_anyone(place, runtime):
    folder, source = place
    out = folder / "upload" / "out"  # inside the class: the batch says it left it out once it looks at the class
    out.mkdir()  # (one that does not exist yet is made once the class is copied: nothing to leave out)
    subprocess.run(["chown", GRADER_USER, str(out)], check=True)
    allowed = as_grader(runtime, source, "batch", str(folder / "upload"), "--out", str(out), "--unsafe-run-as-grader")
    assert allowed.returncode == 0 and (out / "grades.csv").exists()
    assert allowed.stderr.count("the sandbox is incomplete. MISSING guarantees: ") == 1
    assert "runs as your own user" in allowed.stderr
    assert allowed.stderr.index("the sandbox is incomplete") < allowed.stderr.index("left out")


def test_run_autograder_refuses_with_a_results_json_that_says_why(place, runtime, grader_user):
    folder, source = place
    root = folder / "gs"
    root.mkdir()
    shutil.chown(root, grader_user)
    run = run_autograder(root, folder / "upload", source=source, as_user=grader_user,
                         python=str(runtime / "venv" / "bin" / "python"))
    assert run.results["score"] == 0 and run.results["tests"] == []
    assert "could not grade this submission: refusing to grade" in run.results["output"]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")
def test_with_bubblewrap_an_ordinary_user_grades_and_is_told_only_what_is_missing(place, runtime):
    folder, source = place
    config = source / "grading.toml"
    config.write_text(config.read_text().replace('bubblewrap = "off"', 'bubblewrap = "auto"'))
    proc = as_grader(runtime, source, "grade", str(folder / "upload"))
    if "refusing to grade" in proc.stderr:
        pytest.skip("bubblewrap cannot make its namespaces for an ordinary user here")
    assert proc.returncode == 0 and "20 / 20" in proc.stdout
    # bubblewrap hides the grader's files and yours; no cgroup is made for an ordinary user here, so
    # seccomp refuses new processes: no fork storm either (the sandbox user's RLIMIT_NPROC is root's)
    assert "readable" not in proc.stderr and "your files" not in proc.stderr
    assert "fork storm" not in proc.stderr and "MISSING" not in proc.stderr, proc.stderr
