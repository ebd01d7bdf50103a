"""Benchmark: wall time of run_autograder on one submission against a floor measured in the same run,
for each homework.

    ./dev bench            (or: python bench/bench_run_autograder.py [--runs N] [--homework NAME])

The root is laid out as on Gradescope and set up by setup.sh (a venv from the system Python, the
sandbox user when run as root), so the run takes the path Gradescope's takes.
Floor: `python -c 'import numpy, pytest'` with that same interpreter, i.e. the cost of starting
the tools a pytest-based grader needs at all (the grading runtime no longer needs pytest, so the
bench installs the pinned one into the venv for the floor alone), and torch for nyu-hw1, whose
students' code imports it (the course's own tests do too). Target: median(run_autograder) <= 2.5 x
median(floor). Runs are interleaved so that machine noise hits both alike. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 2.5
sys.path.insert(0, str(REPO))
from autograder.instructor.bundle import copy_grading_files  # noqa: E402


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _pinned(package: str) -> str:
    """package==version as requirements-dev.txt pins it."""
    for line in (REPO / "requirements-dev.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split()[0]
    raise SystemExit(f"{package} is not pinned in requirements-dev.txt")


def default_setup_python() -> str:
    """A Python other users can run, as on Gradescope: the system one where there is one."""
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys._base_executable


def make_root(root: Path, setup_python: str, config_text: str | None = None) -> Path:
    """Lay out `root` as Gradescope does (source/, run_autograder) and run setup.sh in it; the venv's python."""
    os.chmod(root, 0o755)
    source = copy_grading_files(root / "source", config_text)
    os.chmod(source, 0o700)  # the reference is in it: never readable by a sandbox user
    shutil.copy(REPO / "run_autograder", root / "run_autograder")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER", "VIRTUAL_ENV"))}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_SETUP_PYTHON=setup_python)
    subprocess.run(["bash", str(source / "setup.sh")], env=env, check=True, stdout=subprocess.DEVNULL)
    return root / "venv" / "bin" / "python"


# homework -> (its config's text, None: the repository's; the submission; what its floor imports)
HOMEWORKS = {
    "two-layer-net": (None, REPO / "examples" / "submissions" / "correct", "numpy, pytest"),
    "nyu-hw1": ((REPO / "examples" / "configs" / "nyu_hw1" / "grading.toml").read_text(),
                REPO / "examples" / "configs" / "nyu_hw1" / "mlp.py", "numpy, pytest, torch"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--homework", choices=[*HOMEWORKS, "all"], default="all")
    parser.add_argument("--setup-python", default=default_setup_python(),
                        help="the Python setup.sh builds the venv from")
    args = parser.parse_args()
    names = list(HOMEWORKS) if args.homework == "all" else [args.homework]
    return max(bench(name, args) for name in names)


def bench(homework: str, args) -> int:
    config_text, submission, floor_imports = HOMEWORKS[homework]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"{homework}: setting up the root with setup.sh ...", flush=True)
        python = str(make_root(root, args.setup_python, config_text))
        if submission.is_dir():
            shutil.copytree(submission, root / "submission")
        else:
            (root / "submission").mkdir()
            shutil.copy(submission, root / "submission")
        (root / "submission_metadata.json").write_text(json.dumps({"id": 1}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER", "VIRTUAL_ENV"))}
        env.update(AUTOGRADER_ROOT=str(root))
        subprocess.run([python, "-m", "pip", "install", "-q", _pinned("pytest")], check=True, stdout=subprocess.DEVNULL)
        floor_cmd = [python, "-c", f"import {floor_imports}"]
        grade_cmd = [str(root / "run_autograder")]
        timed(floor_cmd)
        timed(grade_cmd, env, root)  # warm the file cache
        floors, grades = [], []
        for _ in range(args.runs):
            floors.append(timed(floor_cmd))
            grades.append(timed(grade_cmd, env, root))
        results = json.loads((root / "results" / "results.json").read_text())

    floor, grade = statistics.median(floors), statistics.median(grades)
    ratio = grade / floor
    print(f"floor  python -c 'import {floor_imports}'   median {floor * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"run_autograder ({homework}) on {submission.relative_to(REPO)}   median {grade * 1000:7.1f} ms  "
          f"(score {results['score']:g})")
    print(f"isolation: {results['extra_data'].get('isolation', '?')}")
    verdict = "ok" if ratio <= TARGET else "MISSED"
    print(f"ratio  {ratio:.2f}x the floor   target <= {TARGET}x   {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
