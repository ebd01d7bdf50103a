"""The whole Gradescope lifecycle rehearsed in a temporary root: setup.sh once, then run_autograder.

setup.sh installs the pinned runtime from the package index (network), so this is the slowest test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import EXAMPLES, REPO, run_autograder

# What an instructor uploads (README, "Upload to Gradescope"): nothing else may be needed to grade.
GRADING_FILES = ("setup.sh", "run_autograder", "requirements.txt", "grading.toml", "autograder", "reference", "tests")


@pytest.mark.slow
def test_setup_then_run_as_gradescope_does(tmp_path):
    root = tmp_path / "autograder"
    root.mkdir()
    source = root / "source"
    source.mkdir()
    for name in GRADING_FILES:
        if (REPO / name).is_dir():
            # the project's own tests stay out; tests/ at the top holds the grading tests and goes in
            ignore = shutil.ignore_patterns("__pycache__") if name == "tests" else \
                shutil.ignore_patterns("__pycache__", "tests")
            shutil.copytree(REPO / name, source / name, ignore=ignore)
        else:
            shutil.copy2(REPO / name, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER", "VIRTUAL_ENV"))}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_SETUP_PYTHON=sys._base_executable)
    setup = subprocess.run(["bash", str(REPO / "setup.sh")], env=env, capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stderr
    venv_python = root / "venv" / "bin" / "python"
    probe = subprocess.run([str(venv_python), "-c", "import torch"], capture_output=True)
    assert probe.returncode != 0, "torch must not be in the grading runtime"

    run = run_autograder(root, EXAMPLES / "relu_ge", python=None)
    assert run.failed_parts() == {"relu_jacobian", "grad.W1", "grad.b1"}
