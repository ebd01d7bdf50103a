"""Soak benchmark: a long batch leaves nothing behind (not in CI, nor in ./dev bench: it takes minutes).

    python bench/soak.py [--n 5000] [--jobs 2] [--sample 20]

A root is set up by setup.sh as on Gradescope (as root: the sandbox users; bubblewrap where the
machine allows it), then `batch -j JOBS` grades N submissions mixing correct ones, typical
mistakes and the adversarial corpus (examples/hostile/, one in 25). Printed:
- memory: the peak RSS of the grader's long-lived processes (the batch, its pool processes, their
  bwrap and zygotes; not the workers, which run student code) in the first and the last fifth of
  the run; target: the last no more than 10 % above the first (flat);
- file descriptors open in the pool processes, the most in the first and in the last fifth;
  target: no growth beyond what one call in flight holds (4);
- what is left once the batch has exited: processes of the run (a zygote, a worker, a pool
  process), entries in /tmp, /var/tmp and /dev/shm that were not there before; target: none;
- a sample of submissions graded again one by one with `grade --submission-id`: target: the same
  score on every test as in the batch.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run_autograder import REPO, default_setup_python, make_root  # noqa: E402

MISTAKES = ["correct", "missing_factor_2", "sign_error", "mean_loss", "relu_ge", "transposed_dW1",
            "missing_relu_mask", "jacobians_as_vectors", "float32", "column_vectors", "syntax_error",
            "exit_in_loss", "segfault_in_loss", "notebook_correct"]
HOSTILE = sorted(p.stem for p in (REPO / "examples" / "hostile").glob("*.py"))
SHARED = ("/tmp", "/var/tmp", "/dev/shm")


def build_class(folder: Path, n: int) -> None:
    honest = REPO / "examples" / "submissions" / "correct" / "two_layer_net.py"
    for i in range(n):
        target = folder / f"s{i:05d}"
        if i % 25 == 24:
            target.mkdir(parents=True)
            shutil.copy(REPO / "examples" / "hostile" / f"{HOSTILE[(i // 25) % len(HOSTILE)]}.py",
                        target / "two_layer_net.py")
            shutil.copy(honest, target / "honest.py")
        else:
            shutil.copytree(REPO / "examples" / "submissions" / MISTAKES[i % len(MISTAKES)], target,
                            ignore=shutil.ignore_patterns("__pycache__"))


def tree(pid: int) -> list[int]:
    """pid and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def grader_processes(batch_pid: int) -> list[int]:
    """The batch's long-lived processes: itself, its pool processes (its forks), their bwrap and
    zygotes. Not the workers the zygotes fork (they run student code, come and go, and share the
    zygote's pages, which summing their RSS would count again), nor a pool process's passing forks
    (kill_all's), nor what student code left behind."""
    command = _cmdline(batch_pid)
    out = [batch_pid]
    for pool in (p for p in _children(batch_pid) if _cmdline(p) == command):
        out.append(pool)
        todo = [c for c in _children(pool) if "forkserver/server/zygote.py" in _cmdline(c)]
        while todo:
            pid = todo.pop()
            if _uid(pid) != _uid(batch_pid):
                continue
            out.append(pid)
            if "bwrap" in _cmdline(pid):  # bwrap and its init inside the namespace: the zygote is below
                todo += [c for c in _children(pid) if "forkserver/server/zygote.py" in _cmdline(c)]
    return out


def _uid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(next(line for line in f if line.startswith("Uid:")).split()[1])
    except (OSError, StopIteration):
        return -1


def rss_mb(pid: int) -> float:
    try:
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0.0
    return int(line.split()[1]) / 1024


def fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--setup-python", default=default_setup_python())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # like /autograder's parents: the sandbox user must reach the venv
        root = Path(tmp) / "root"
        root.mkdir()
        print("setting up the root with setup.sh ...", flush=True)
        python = str(make_root(root, args.setup_python, (REPO / "grading.toml").read_text()))
        source = root / "source"
        folder = Path(tmp) / "class"
        build_class(folder, args.n)
        os.chmod(folder, 0o700)  # the class is the instructor's: batch copies it into a private folder
        before = {top: set(os.listdir(top)) for top in SHARED if os.path.isdir(top)}
        out = Path(tmp) / "out"
        started = time.monotonic()
        batch = subprocess.Popen([python, "-m", "autograder", "batch", str(folder), "--out", str(out), "-j",
                                  str(args.jobs)], cwd=source, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True)
        samples: list[tuple[float, float, dict[int, int]]] = []  # (time, MB of the grader's processes, fds)
        seen: set[int] = set()
        while batch.poll() is None:
            own = grader_processes(batch.pid)
            seen.update(tree(batch.pid))
            pool = [p for p in _children(batch.pid) if _cmdline(p) == _cmdline(batch.pid)]  # forks of it
            samples.append((time.monotonic() - started, sum(rss_mb(p) for p in own),
                            {p: fd_count(p) for p in pool}))
            time.sleep(0.5)
        seconds = time.monotonic() - started
        summary = batch.stdout.read().strip().splitlines()
        time.sleep(5)  # what a killed worker leaves takes a moment to go
        left = [p for p in seen if Path(f"/proc/{p}").exists() and p != os.getpid()]
        new_entries = {top: sorted(set(os.listdir(top)) - before[top]) for top in before}
        new_entries = {top: [e for e in entries if e != Path(tmp).name] for top, entries in new_entries.items()}

        rng = random.Random(0)
        sample = rng.sample(sorted(p.name for p in folder.iterdir()), min(args.sample, args.n))
        differing = []
        for sid in sample:
            single = Path(tmp) / f"{sid}.json"
            subprocess.run([python, "-m", "autograder", "grade", str(folder / sid), "--results", str(single),
                            "--submission-id", sid], cwd=source, capture_output=True, check=True)
            if _scores(single) != _scores(out / "results" / f"{sid}.json"):
                differing.append(sid)
        isolation = json.loads((out / "results" / "s00000.json").read_text())["extra_data"]["isolation"]

    fifth = max(1, len(samples) // 5)
    first = max(m for _, m, _ in samples[:fifth])
    last = max(m for _, m, _ in samples[-fifth:])
    # descriptors open in the pool processes at once (pipes of a call in flight count): the most in a
    # fifth, first against last; a leak would grow with every submission
    fds_start = max(sum(f.values()) for _, _, f in samples[:fifth])
    fds_end = max(sum(f.values()) for _, _, f in samples[-fifth:])
    ok_memory = last <= first * 1.1
    ok_fds = fds_end <= fds_start + 4  # a call's pipes or a restart in flight; a leak grows by thousands
    ok_left = not left and not any(new_entries.values())
    ok_sample = not differing
    print(f"batch   {args.n} submissions (1 in 25 hostile), -j {args.jobs}: {seconds:.0f} s, "
          f"{seconds / args.n * 1000:.1f} ms each")
    print(f"        {summary[-2] if len(summary) >= 2 else summary}")
    print(f"        isolation: {isolation}")
    print(f"memory  grader's processes: peak {first:.0f} MB in the first fifth, {last:.0f} MB in the last   "
          f"{'ok' if ok_memory else 'MISSED'}")
    print(f"fds     pool processes: at most {fds_start} open in the first fifth, {fds_end} in the last   "
          f"{'ok' if ok_fds else 'MISSED'}")
    print(f"left    processes {left or 'none'}; new in {', '.join(SHARED)}: "
          f"{ {t: e for t, e in new_entries.items() if e} or 'nothing'}   {'ok' if ok_left else 'MISSED'}")
    print(f"sample  {len(sample)} regraded one by one: {len(sample) - len(differing)} identical"
          f"{' (differing: ' + ', '.join(differing) + ')' if differing else ''}   {'ok' if ok_sample else 'MISSED'}")
    return 0 if ok_memory and ok_fds and ok_left and ok_sample else 1


def _scores(results: Path) -> list[tuple[str, float]]:
    return [(t["number"], t["score"]) for t in json.loads(results.read_text())["tests"]]


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
