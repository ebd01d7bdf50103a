"""Helpers for the project's own tests: rehearse Gradescope's run in a temporary AUTOGRADER_ROOT."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "submissions"
SCHEMA = json.loads((Path(__file__).with_name("results.schema.json")).read_text())


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


def run_autograder(root: Path, submission: Path | None, *, source: Path = REPO, python: str | None = sys.executable,
                   metadata: dict | None = None, timeout: float = 120) -> Run:
    """Lay out root as Gradescope does (source/, submission/, metadata), run run_autograder, validate."""
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
    started = time.monotonic()
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return Run(results, seconds, proc.stdout + proc.stderr)


@pytest.fixture
def gradescope(tmp_path):
    """gradescope(submission_path, **options) -> Run, in a fresh temporary root per call."""
    counter = iter(range(1000))

    def run(submission: Path | None, **options) -> Run:
        return run_autograder(tmp_path / f"root{next(counter)}", submission, **options)

    return run
