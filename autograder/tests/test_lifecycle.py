"""The whole Gradescope lifecycle rehearsed in a temporary root: setup.sh once, then run_autograder.

The `runtime` fixture runs setup.sh (it installs the pinned runtime from the package index, so
this needs the network) on exactly the files the README tells instructors to upload.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from autograder.isolation import running_as_root

from .conftest import EXAMPLES, run_autograder


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
