"""Benchmark: the same submission graded many times at once gets the same score every time.

    ./dev bench          (or: python bench/bench_under_load.py [--at-once 14] [--rounds 3]
                          [--example torch_tensors] [--wall-clock-factor F])

A root laid out as on Gradescope, with examples/configs/torch's [runtime] (student code may import
torch) and the development venv's Python (which holds torch: setup.sh would install 700 MB of it).
The example is graded once alone (the floor: its per-test scores and wall time), then AT_ONCE
times at once, ROUNDS times, each run_autograder in a root of its own. On a 2-core machine, 14 at
once give each grading about a seventh of a CPU: time limits counted on the wall clock failed
there (the torch import took longer than its 10 s); limits on CPU time must not. Measured here
(2 CPUs, 28 at once): with `--wall-clock-factor 1` 20 of 28 runs got 0 (the import timed out);
with the config's factor, 28 of 28 got the floor's scores.
Target: every run's per-test scores identical to the floor's. Wall time is printed as a ratio
against the floor. `--wall-clock-factor 1` sets the backstop to the CPU limit itself, which is
what a wall-clock limit was: the bench then shows what load does to it. Exits 1 when a run differs.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from autograder.instructor.bundle import copy_grading_files  # noqa: E402


def torch_config(wall_clock_factor: float | None) -> str:
    """The repository's grading.toml with examples/configs/torch's [runtime] (and the factor, if given)."""
    text = (REPO / "grading.toml").read_text() + "\n" + (REPO / "examples/configs/torch/grading.toml").read_text()
    if wall_clock_factor is not None:
        text = text.replace("wall_clock_factor = 5.0", f"wall_clock_factor = {wall_clock_factor}", 1)
    return text


def grade(source: Path, submission: Path, root: Path, python: str) -> tuple[float, dict[str, float], float]:
    """run_autograder in a fresh root: (score, {test name: score}, wall seconds)."""
    root.mkdir()
    (root / "source").symlink_to(source)
    shutil.copy(REPO / "run_autograder", root / "run_autograder")
    shutil.copytree(submission, root / "submission")
    (root / "submission_metadata.json").write_text(json.dumps({"id": 1}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER", "VIRTUAL_ENV"))}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=python)
    started = time.perf_counter()
    subprocess.run([str(root / "run_autograder")], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    results = json.loads((root / "results" / "results.json").read_text())
    return results["score"], {t["name"]: t["score"] for t in results["tests"]}, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at-once", type=int, default=14)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--example", default="torch_tensors")
    parser.add_argument("--wall-clock-factor", type=float, default=None,
                        help="[limits] wall_clock_factor for this bench (default: the config's)")
    args = parser.parse_args()
    python = str(REPO / ".venv" / "bin" / "python")
    submission = REPO / "examples" / "submissions" / args.example

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.chmod(tmp_path, 0o755)  # the sandbox user runs the venv's python and reads the submission copy
        source = copy_grading_files(tmp_path / "source", torch_config(args.wall_clock_factor))
        os.chmod(source, 0o700)  # the reference is in it: never readable by a sandbox user
        counter = iter(range(1 << 20))

        def one(_=None):
            return grade(source, submission, tmp_path / f"root{next(counter)}", python)

        one()  # warm the file cache
        floor_score, floor_tests, floor_seconds = one()
        print(f"floor: {args.example} graded alone: score {floor_score:g} in {floor_seconds:.1f} s "
              f"({os.cpu_count()} CPUs)", flush=True)
        differing, ratios = 0, []
        for round_number in range(1, args.rounds + 1):
            with ThreadPoolExecutor(args.at_once) as pool:
                runs = list(pool.map(one, range(args.at_once)))
            scores = [score for score, _, _ in runs]
            wrong = [(score, tests) for score, tests, _ in runs if tests != floor_tests]
            differing += len(wrong)
            ratios += [seconds / floor_seconds for _, _, seconds in runs]
            wall = statistics.median(seconds for *_, seconds in runs)
            print(f"round {round_number}: {args.at_once} at once: scores {sorted(set(scores))}, "
                  f"{len(wrong)} differ from the floor's; wall {wall:.1f} s median", flush=True)
            for score, tests in wrong[:2]:
                differ = [name for name, points in tests.items() if floor_tests.get(name) != points]
                print(f"   e.g. a score of {score:g}: {len(differ)} tests differ, the first {differ[0]!r}")
            for folder in tmp_path.glob("root*"):
                shutil.rmtree(folder, ignore_errors=True)
    total = args.at_once * args.rounds
    verdict = "ok" if differing == 0 else "MISSED"
    print(f"{total - differing} of {total} runs at once gave the floor's per-test scores "
          f"(target: all)   wall {statistics.median(ratios):.1f}x the floor (median)   {verdict}")
    return 0 if differing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
