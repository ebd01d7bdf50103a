"""The whole Gradescope lifecycle rehearsed in a temporary root: setup.sh once, then run_autograder.

The `runtime` fixture runs setup.sh (it installs the pinned runtime from the package index, so
this needs the network) on exactly the files the README tells instructors to upload.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from autograder.sandbox.isolation import running_as_root

from .conftest import EXAMPLES, run_autograder, set_up_root


def test_setup_then_run_as_gradescope_does(runtime):
    venv_python = runtime / "venv" / "bin" / "python"
    probe = subprocess.run([str(venv_python), "-c", "import torch"], capture_output=True)
    assert probe.returncode != 0, "torch must not be in the grading runtime"
    try:  # in the root setup.sh prepared, with run_autograder's default python (its venv)
        run = run_autograder(runtime, EXAMPLES / "relu_ge", source=runtime / "source", python=None)
    finally:
        shutil.rmtree(runtime / "submission", ignore_errors=True)
    assert run.failed_parts() == {"relu_jacobian", "grad.W1", "grad.b1"}
    if running_as_root():
        assert "ran as the unprivileged user ag-student" in run.results["extra_data"]["isolation"]
        assert "ran as the unprivileged user ag-student" in run.log
        assert os.stat(runtime / "source").st_mode & 0o777 == 0o700


def python310() -> str | None:
    """A Python 3.10 (Gradescope's image runs 3.10): AUTOGRADER_TEST_PYTHON310, else pyenv's, if any."""
    candidates = [os.environ.get("AUTOGRADER_TEST_PYTHON310", "")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv_root.glob("versions/3.10*/bin/python3.10"))
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys, venv; print(sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 10)":
            return candidate
    return None


@pytest.mark.skipif(python310() is None, reason="no Python 3.10 on this machine")
def test_the_lifecycle_on_python_3_10(built_zip, tmp_path):
    """setup.sh with AUTOGRADER_SETUP_PYTHON on a 3.10, then run_autograder: grading works there. A
    pyenv Python under a closed /root cannot be run by the sandbox user: setup.sh says so."""
    root = Path(tempfile.mkdtemp(prefix="autograder-py310-"))
    try:
        setup = set_up_root(root, built_zip, python310())
        version = subprocess.run([str(root / "venv" / "bin" / "python"), "--version"], capture_output=True, text=True)
        assert version.stdout.startswith("Python 3.10")
        blocked = unreadable_runtime_path_of(root / "venv" / "bin" / "python", root / "source")
        if running_as_root() and blocked:
            assert f"cannot run {root}/venv/bin/python: {blocked} is closed to other users" in setup.stderr
            assert "AUTOGRADER_SETUP_PYTHON=/usr/bin/python3" in setup.stderr
            # student code would run as root: refused, with a results.json saying why (test_fail_closed.py) ...
            run = run_autograder(root / "refused", EXAMPLES / "correct", source=root / "source",
                                 python=str(root / "venv" / "bin" / "python"))
            assert run.results["score"] == 0 and "refusing to grade" in run.results["output"]
            # ... unless allowed, as here, to rehearse grading on 3.10
            config = root / "source" / "grading.toml"
            config.write_text(config.read_text().replace("unsafe_run_as_grader = false", "unsafe_run_as_grader = true"))
        elif running_as_root():
            assert "WARNING" not in setup.stderr
        for example, score in (("correct", 20), ("relu_ge", 19), ("notebook_missing_factor_2", 10.6667)):
            run = run_autograder(root / example, EXAMPLES / example, source=root / "source",
                                 python=str(root / "venv" / "bin" / "python"))
            assert run.results["score"] == score, run.results["output"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def unreadable_runtime_path_of(python: Path, source: Path) -> str:
    """What isolation.unreadable_runtime_path() says, asked of that Python."""
    return subprocess.run([str(python), "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                           "from autograder.sandbox.isolation import unreadable_runtime_path as u; print(u() or '')",
                           str(source)], capture_output=True, text=True, check=True).stdout.strip()
