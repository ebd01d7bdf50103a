"""Helpers for the project's own tests: rehearse Gradescope's run in a temporary AUTOGRADER_ROOT."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "submissions"
SCHEMA = json.loads((Path(__file__).with_name("results.schema.json")).read_text())
# What an instructor uploads (README, "Upload to Gradescope"): nothing else may be needed to grade.
GRADING_FILES = ("setup.sh", "run_autograder", "requirements.txt", "grading.toml", "autograder", "reference", "tests")


def copy_grading_files(dest: Path, config_text: str | None = None) -> Path:
    """A grader source folder as Gradescope unpacks it: the grading files only, optionally another config."""
    dest.mkdir(parents=True)
    for name in GRADING_FILES:
        if (REPO / name).is_dir():
            # the project's own tests stay out; tests/ at the top holds the grading tests and goes in
            skip = ("__pycache__",) if name == "tests" else ("__pycache__", "tests")
            shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns(*skip))
        else:
            shutil.copy2(REPO / name, dest / name)
    if config_text is not None:
        (dest / "grading.toml").write_text(config_text)
    return dest


def without_bubblewrap(config_text: str) -> str:
    assert 'bubblewrap = "auto"' in config_text
    return config_text.replace('bubblewrap = "auto"', 'bubblewrap = "off"')


def base_python() -> str:
    """A Python other users can run (the sandbox user runs the worker with it): the system one if any."""
    for candidate in ("/usr/bin/python3", sys._base_executable):
        probe = subprocess.run([candidate, "-c", "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))"],
                               capture_output=True)
        if probe.returncode == 0:
            return candidate
    raise RuntimeError("no Python 3.10+ with venv found")


@pytest.fixture(scope="session")
def runtime() -> Path:
    """A Gradescope-like root made once by setup.sh (as root when the tests are); its venv's python.

    Like /autograder on Gradescope it lies where the sandbox user can run its python. Every
    end-to-end test grades with this runtime, so they run what Gradescope runs.
    """
    root = Path(tempfile.mkdtemp(prefix="autograder-runtime-"))
    os.chmod(root, 0o755)
    # As in Gradescope's Docker, where namespaces are refused: the layers that must hold without bwrap
    # are the ones tested here; test_bubblewrap.py tests the extra layer.
    copy_grading_files(root / "source", without_bubblewrap((REPO / "grading.toml").read_text()))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER", "VIRTUAL_ENV"))}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_SETUP_PYTHON=base_python())
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           timeout=900)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    yield root
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class Run:
    results: dict
    seconds: float
    log: str

    def part_scores(self) -> dict[str, tuple[float, float]]:
        """{part id: (score, max score)} summed over the part's tests."""
        out: dict[str, list[float]] = {}
        for test in self.results["tests"]:
            (part,) = test["tags"]
            row = out.setdefault(part, [0.0, 0.0])
            row[0] += test["score"]
            row[1] += test["max_score"]
        return {part: (round(s, 4), round(m, 4)) for part, (s, m) in out.items()}

    def failed_parts(self) -> set[str]:
        return {part for part, (score, max_score) in self.part_scores().items() if score < max_score}

    def output_of(self, part: str) -> str:
        return "\n".join(t["output"] for t in self.results["tests"] if part in t["tags"])


def run_autograder(root: Path, submission: Path | None, *, source: Path, python: str | None,
                   metadata: dict | None = None, timeout: float = 120, as_user: str | None = None) -> Run:
    """Lay out root as Gradescope does (source/, submission/, metadata), run run_autograder, validate.

    python: the grader's interpreter (None: run_autograder's default, root/venv/bin/python);
    as_user: run run_autograder as this user instead of ourselves (root must be theirs to write).
    """
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "source").exists():
        (root / "source").symlink_to(source)
    shutil.copy(source / "run_autograder", root / "run_autograder")
    if submission is not None:
        if submission.is_dir():
            shutil.copytree(submission, root / "submission")
        else:
            (root / "submission").mkdir()
            shutil.copy(submission, root / "submission")
    else:
        (root / "submission").mkdir()
    (root / "submission_metadata.json").write_text(json.dumps(metadata or {"id": 123456}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER")}
    env["AUTOGRADER_ROOT"] = str(root)
    if python is not None:  # None: run_autograder's default, the venv setup.sh made
        env["AUTOGRADER_PYTHON"] = python
    command = [str(root / "run_autograder")]
    if as_user is not None:
        command = ["runuser", "-u", as_user, "--", *command]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return Run(results, seconds, proc.stdout + proc.stderr)


@pytest.fixture
def gradescope(tmp_path, runtime):
    """gradescope(submission_path, **options) -> Run: run_autograder in a fresh root per call.

    By default with the shared runtime's source and venv; `source=` and `python=` replace them.
    """
    counter = iter(range(1000))

    def run(submission: Path | None, **options) -> Run:
        options.setdefault("source", runtime / "source")
        options.setdefault("python", str(runtime / "venv" / "bin" / "python"))
        return run_autograder(tmp_path / f"root{next(counter)}", submission, **options)

    return run
