"""Benchmark: batch throughput and the grader's memory, against floors measured in the same run.

    ./dev bench                     (all benchmarks)
    python bench/bench_batch.py [--n 500] [--jobs 2]

1. Batch: N generated submissions (a mix of correct ones and typical mistakes from
   examples/submissions) graded by `python -m autograder batch -j JOBS`. Floor: median of
   `python -c 'import numpy'`. Target (issue 6): wall time per submission <= 0.25 x the floor.
2. Memory: peak RSS of the grading process itself (student code runs in its own process and is
   not counted) for one submission, and after grading many in one process (it must stay flat).
   Target: <= 150 MB.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MIX = ["correct", "missing_factor_2", "sign_error", "mean_loss", "relu_ge", "transposed_dW1", "missing_relu_mask",
       "jacobians_as_vectors", "float32", "column_vectors"]


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    return time.perf_counter() - started


def memory_probe(count: int) -> tuple[float, float]:
    """Peak RSS (MB) of this process after grading one submission, then after `count` more."""
    from autograder.config import load_config
    from autograder.grade import grade_submission

    config = load_config()
    grade_submission(REPO / "examples" / "submissions" / "correct", config)
    one = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for i in range(count):
        grade_submission(REPO / "examples" / "submissions" / MIX[i % len(MIX)], config, str(i))
    return one, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="submissions in the batch (the target is set for 500)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    floor = statistics.median(timed([sys.executable, "-c", "import numpy"]) for _ in range(7))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        for i in range(args.n):
            shutil.copytree(REPO / "examples" / "submissions" / MIX[i % len(MIX)], folder / f"s{i:04d}")
        wall = timed([sys.executable, "-m", "autograder", "batch", str(folder), "--out", str(Path(tmp) / "out"),
                      "-j", str(args.jobs)])
    per = wall / args.n
    ratio = per / floor
    ok_batch = ratio <= 0.25
    print(f"floor  python -c 'import numpy'      median {floor * 1000:7.1f} ms")
    print(f"batch  {args.n} submissions, -j {args.jobs}      {wall:7.1f} s, {per * 1000:.1f} ms per submission")
    print(f"ratio  {ratio:.2f}x the floor per submission   target <= 0.25x   {'ok' if ok_batch else 'MISSED'}")

    one, many = memory_probe(20)
    ok_memory = one <= 150 and many <= max(150, one * 1.1)
    print(f"memory grading process: {one:.0f} MB after 1 submission, {many:.0f} MB after 21   "
          f"target <= 150 MB and flat   {'ok' if ok_memory else 'MISSED'}")
    return 0 if ok_batch and ok_memory else 1


if __name__ == "__main__":
    sys.exit(main())
