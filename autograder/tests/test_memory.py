"""Every page a submission holds counts, and the grader outlives any hog (autograder/sandbox/memcg.py).

Memory no rlimit counts (files in a tmpfs, memfd files, System V shared memory) is refused or
charged to a memory cgroup of the submission's own; workers are the OOM killer's first choice. As
in a container with a memory cap (Gradescope's 768 MB), run_autograder and batch run here inside a
memory cgroup of the test's making: a hog beside honest parts changes no other grade and loses no
results file, grades.csv or report.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from autograder.config import load_config
from autograder.instructor.bundle import copy_grading_files
from autograder.sandbox.calls import Sandbox
from autograder.sandbox.forkserver import ForkServer
from autograder.sandbox.isolation import on_tmpfs, running_as_root
from autograder.sandbox.memcg import MemoryCgroup

from .conftest import EXAMPLES, REPO, run_autograder

HOSTILE = REPO / "examples" / "hostile"
HONEST = EXAMPLES / "correct" / "two_layer_net.py"
HOGS = ["tmpfs_hog", "memfd_hog", "memory_hog", "sysv_shm"]

def cgroups_here() -> bool:
    cgroup = MemoryCgroup.create(1 << 30)
    if cgroup is None:
        return False
    cgroup.remove()
    return True


CGROUPS = running_as_root() and cgroups_here()
needs_cgroups = pytest.mark.skipif(not CGROUPS, reason="no memory cgroup can be made here (not root, or not delegated)")


@pytest.fixture
def container():
    """A command prefix that runs a command inside a fresh memory cgroup capped at 1.5 GB: what a
    container's memory limit is to everything in it (the grader's own cgroups nest inside)."""
    cap = MemoryCgroup.create(1536 << 20)
    if cap is None:
        pytest.skip("no memory cgroup can be made here")
    procs = cap.folder / "cgroup.procs"
    yield ("sh", "-c", f'echo 0 > "{procs}" && exec "$@"', "sh")
    for pid in procs.read_text().split():
        subprocess.run(["kill", "-KILL", pid], capture_output=True)
    cap.remove()


def upload(attack: str, folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(HOSTILE / f"{attack}.py", folder / "two_layer_net.py")
    shutil.copy(HONEST, folder / "honest.py")
    return folder


@needs_cgroups
@pytest.mark.parametrize("layer", ["no bubblewrap", "bubblewrap"])
@pytest.mark.parametrize("attack", HOGS)
def test_a_hog_in_a_memory_capped_container_costs_only_its_own_part(attack, layer, container, runtime, tmp_path):
    if layer == "bubblewrap" and shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    source = runtime / "source" if layer == "no bubblewrap" else copy_grading_files(tmp_path / "source")
    run = run_autograder(tmp_path / "root", upload(attack, tmp_path / "upload"), source=source,
                         python=str(runtime / "venv/bin/python"), prefix=container)
    assert run.results["score"] == 19, run.results["output"]
    assert "a memory cgroup counted every page of the workers" in run.results["extra_data"]["isolation"]


@needs_cgroups
def test_a_batch_in_a_memory_capped_container_finishes_the_class(container, runtime, tmp_path):
    classroom = tmp_path / "class"
    for attack in HOGS:
        upload(attack, classroom / attack)
    shutil.copytree(EXAMPLES / "correct", classroom / "ada")
    out = tmp_path / "out"
    proc = subprocess.run([*container, str(runtime / "venv/bin/python"), "-m", "autograder", "batch", str(classroom),
                           "--out", str(out), "-j", "2", "--config", str(runtime / "source" / "grading.toml")],
                          cwd=runtime / "source", capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8-sig") as f:
        totals = {row["submission_id"]: float(row["total"]) for row in csv.DictReader(f)}
    assert totals == {"ada": 20, **{attack: 19 for attack in HOGS}}
    assert (out / "report.html").stat().st_size > 0


@needs_cgroups
def test_a_submission_cgroup_counts_tmpfs_pages_and_leaves_nothing(tmp_path):
    """A zygote in a memory cgroup: a worker it forks writing 600 MB into /dev/shm is stopped (by the
    cgroup's limit, 512 MB), and no cgroup of the grader's is left once it is removed."""
    cgroup = MemoryCgroup.create(512 << 20)
    module = tmp_path / "m.py"
    module.write_text("import os\n"
                      "def relu(z):\n"
                      "    held = 0\n"
                      "    for i in range(20):\n"
                      "        try:\n"
                      "            with open(f'/dev/shm/ag-test-hog-{os.getpid()}-{i}', 'wb') as f:\n"
                      "                f.write(b'x' * (32 << 20))\n"
                      "            held += 32\n"
                      "        except OSError:\n"
                      "            break\n"
                      "    return [held, int(open('/proc/self/oom_score_adj').read())]\n")
    server = ForkServer(tmp_path / "forkserver", memory=cgroup)
    try:
        with Sandbox(module, tmp_path / "run", load_config().limits, forkserver=server) as box:
            out = box.call("relu", [np.ones(1)])
            alive = server.student_processes()  # the worker, born in the cgroup; not the zygote
        assert server.student_processes() == []
    finally:
        server.close()
        for leftover in Path("/dev/shm").glob("ag-test-hog-*"):
            leftover.unlink()
        cgroup.remove()
    if out.status == "ok":
        held, score = out.values["return"]
        assert held < 512 and score == 1000  # refused past the limit; the OOM killer's first choice
        assert len(alive) == 1
    else:
        assert out.status == "out of memory", out
    assert not cgroup.folder.exists()
    assert not [p for p in cgroup.folder.parent.iterdir() if p.name.startswith(f"autograder-{os.getpid()}-")]


def test_workers_are_the_oom_killers_first_choice(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def relu(z):\n    return [int(open('/proc/self/oom_score_adj').read())]\n")
    with Sandbox(module, tmp_path / "run", load_config().limits) as box:
        out = box.call("relu", [np.ones(1)])
    assert out.values["return"].tolist() == [1000]


def test_a_run_says_whether_memory_was_counted_by_a_cgroup(gradescope, tmp_path):
    run = gradescope(upload("sysv_shm", tmp_path / "upload"))
    isolation = run.results["extra_data"]["isolation"]
    counted = "a memory cgroup counted every page of the workers against 512 MB" in isolation
    assert counted or "no memory cgroup" in isolation
    assert counted == CGROUPS


def test_on_tmpfs_reads_the_mount_a_path_lies_on():
    kinds = {line.split()[1]: line.split()[2] for line in Path("/proc/self/mounts").read_text().splitlines()}
    if kinds.get("/dev/shm") != "tmpfs":
        pytest.skip("/dev/shm is not a tmpfs here")
    assert on_tmpfs(Path("/dev/shm")) and on_tmpfs(Path("/dev/shm/not/made/yet"))
    assert not on_tmpfs(Path("/proc/self"))
    assert on_tmpfs(Path("/dev/shmx")) == (kinds.get("/dev") == "tmpfs")  # (beside /dev/shm, not in it)
