"""The adversarial corpus (examples/hostile/): each submission attacks the grader, end to end.

For every one: the score is exactly what its honest part earns (19 of 20: its `mse_loss` is the
attack, and returns a right answer only if the attack worked), results.json is valid (checked by
the runner), the run ends (within the harness's hang guard), no process of the submission survives, the grader's
files are unchanged, and nothing it planted stays behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from autograder.config import load_config
from autograder.diagnosis import diagnoser_for
from autograder.grading.grade import grade_submission
from autograder.instructor.bundle import copy_grading_files
from autograder.sandbox import bubblewrap
from autograder.sandbox.isolation import LEASES, processes_of, running_as_root
from autograder.sandbox.landlock import abi as landlock_abi

from .conftest import REPO, left_behind, run_autograder, zygotes_and_workers

HOSTILE = REPO / "examples" / "hostile"
# the honest part of every hostile submission: the correct example, beside it as honest.py
HONEST = REPO / "examples" / "submissions" / "correct" / "two_layer_net.py"
ATTACKS = sorted(p.stem for p in HOSTILE.glob("*.py"))
# the score each earns when every defence holds: 19 (its honest part) unless said here
EXPECTED = {"sys_exit_everywhere": 0, "lookahead": 15, "diagnostic_channel": 19.125}


def test_the_corpus_is_large_enough():
    assert len(ATTACKS) >= 20


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def no_process_within(uid: int, seconds: float) -> bool:
    """True once `uid` has no live process; killed processes may take a moment to leave the table
    (a pid namespace is torn down asynchronously after its init dies)."""
    deadline = time.monotonic() + seconds
    while processes_of(uid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_submission_earns_nothing_it_did_not_earn(attack, gradescope, runtime, tmp_path):
    submission = upload(attack, tmp_path / "upload")
    venv_numpy = next((runtime / "venv").glob("lib/python3*/site-packages/numpy/__init__.py"))
    before = digest(runtime / "source"), venv_numpy.read_bytes()

    run = gradescope(submission, fresh=True)  # (what this run did is checked below)

    assert run.results["score"] == EXPECTED.get(attack, 19), run.results["output"]
    assert (digest(runtime / "source"), venv_numpy.read_bytes()) == before, "grader files changed"
    assert zygotes_and_workers() == ""
    uid = run.results["extra_data"]["sandbox_uid"]
    if running_as_root() and uid is not None:
        with lease_of(uid):  # (no other grader on this machine can start a process as the user meanwhile)
            assert processes_of(uid) == []
            assert left_behind(uid) == []
            assert sysv_objects_of(uid) == []
    assert not Path("/tmp/autograder-pwned").exists()


@contextlib.contextmanager
def lease_of(uid: int, seconds: float = 120):
    """Hold the lease of the sandbox user `uid` (its lock file's flock, as a grader holds it, without
    lease_user's clearing of what the user left): once the run that used it has given it back, another
    grader on the machine (a batch beside the suite) may lease it at once and run its own student
    code as that user; holding the lease, whatever runs as the user was left behind."""
    lock = os.open(LEASES / f"{pwd.getpwuid(uid).pw_name}.lock", os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "another grader held the sandbox user throughout"
                time.sleep(0.05)
        yield
    finally:
        os.close(lock)  # (the lock goes with it)


def sysv_objects_of(uid: int) -> list[str]:
    """The System V shared memory segments, semaphore sets and message queues `uid` owns."""
    found = []
    for kind in ("shm", "sem", "msg"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        column = lines[0].split().index("uid")
        found += [f"{kind} {line.split()[1]}" for line in lines[1:] if int(line.split()[column]) == uid]
    return found


# A grader with layers taken away (as on a machine without them), run in the Gradescope-like runtime:
# its Python is one the sandbox user can run wherever this checkout lies. argv: the upload, then
# what to take away, as JSON: {"seccomp": false, "cgroup": false, "landlock": false, "bubblewrap": "off"}.
DEGRADED = """
import dataclasses, json, pathlib, sys
sys.path.insert(0, ".")
import autograder.grading.grade as grade
import autograder.sandbox.host as host
from autograder.config import load_config
from autograder.diagnosis import diagnoser_for
from autograder.grading.results import isolation_text
away = json.loads(sys.argv[2])
if away.get("seccomp") is False:
    host.available_filter = lambda **_: None
if away.get("cgroup") is False:
    host.MemoryCgroup.create = staticmethod(lambda *_: None)
if away.get("landlock") is False:
    host.landlock_abi = lambda: 0
config = dataclasses.replace(load_config(), bubblewrap=away.get("bubblewrap", "auto"))
with grade.Grader(config, diagnoser=diagnoser_for) as grader:
    report = grader.grade(pathlib.Path(sys.argv[1]), "s1")
    print(json.dumps({"passed": {part: all(r.passed for r in report.results if r.part == part)
                                 for part in {r.part for r in report.results}},
                      "loss": [r.passed for r in report.results if r.part == "loss"],
                      "score": sum(t.score for t in report.tests),
                      "isolation": isolation_text(report.isolation), "missing": list(report.missing_guarantees),
                      "uid": grader.isolation.uid}))
"""


def grade_degraded(runtime: Path, submission: Path, source: Path | None = None, **away) -> dict:
    """source: the grader's files to run from (default: the runtime's, closed as setup.sh closes them)."""
    done = subprocess.run([str(runtime / "venv" / "bin" / "python"), "-I", "-c", DEGRADED, str(submission),
                           json.dumps(away)], cwd=source or runtime / "source", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.skipif(not running_as_root(), reason="only root grades as a sandbox user whose objects it removes")
def test_without_seccomp_what_a_worker_left_in_the_kernel_is_removed(runtime, tmp_path):
    """Where seccomp is unavailable, a System V segment is made, and removed after the worker."""
    # (bubblewrap's IPC namespace would hide it)
    graded = grade_degraded(runtime, upload("sysv_shm", tmp_path / "upload"), seccomp=False, bubblewrap="off")
    # mse_loss is right only where its 256 MB segment was made: seccomp was off (a memory cgroup
    # counts the segments, and stops the worker once a few of them add up to memory_mb)
    assert any(graded["loss"]), graded
    assert "network access is not blocked" in graded["isolation"]
    assert sysv_objects_of(graded["uid"]) == []


@pytest.mark.skipif(not running_as_root(), reason="as an ordinary user without bubblewrap the grader refuses")
def test_grader_files_other_users_can_read_are_named_as_missing(runtime, tmp_path):
    """As root without bubblewrap, only the permissions keep the grader's files from student code: a
    checkout others can read (a developer's, say) lets search_disk find the reference, and the run
    says so; the runtime setup.sh closed says nothing (test_hostile_runs_say_how_they_were_isolated)."""
    open_copy = Path(tempfile.mkdtemp(prefix="autograder-open-"))
    try:
        os.chmod(open_copy, 0o755)
        source = copy_grading_files(open_copy / "source")
        subprocess.run(["chmod", "-R", "a+rX", str(source)], check=True)
        graded = grade_degraded(runtime, upload("search_disk", tmp_path / "upload"), source=source, bubblewrap="off")
    finally:
        shutil.rmtree(open_copy, ignore_errors=True)
    assert "the grader's files are readable by other users" in graded["isolation"], graded["isolation"]
    assert f"chmod 700 {source}" in graded["isolation"]


@pytest.mark.skipif(not running_as_root() or landlock_abi() < 1, reason="needs root (no bubblewrap) and Landlock")
def test_with_no_layer_to_bound_files_in_tmp_that_is_named_as_missing(runtime, tmp_path):
    """Without a memory cgroup, Landlock and bubblewrap, what a tmpfs holds is bounded by its size
    only: the run says so; with Landlock (test_without_a_memory_cgroup_no_tmpfs_...) nothing is missing."""
    honest = upload("network", tmp_path / "upload")  # (any upload: the guarantee is the grader's)
    bare = grade_degraded(runtime, honest, cgroup=False, landlock=False, bubblewrap="off")
    assert any("files of /tmp and /dev/shm is bounded by their size only" in m for m in bare["missing"]), bare
    assert grade_degraded(runtime, honest, cgroup=False, bubblewrap="off")["missing"] == []


WRITES_IN_ITS_OWN_FOLDERS = """
import os, tempfile
from honest import *
with tempfile.NamedTemporaryFile() as f:  # $TMPDIR, its own
    f.write(b"x" * 1000)
with open("notes.txt", "w") as f:  # the submission's folder
    f.write("a file beside the code")
os.makedirs("plots", exist_ok=True)
with open(os.devnull, "w") as f:
    f.write("quiet")
"""


@pytest.mark.skipif(landlock_abi() < 1, reason="this kernel has no Landlock")
@pytest.mark.parametrize("layer", ["bubblewrap", "no bubblewrap"])
def test_without_a_memory_cgroup_no_tmpfs_holds_what_the_limit_does_not_count(layer, runtime, tmp_path):
    """No cgroup counts a tmpfs's files: Landlock leaves the worker only its own folders to write in
    (on a disk), so the hog's 600 MB in /dev/shm, /tmp and /var/tmp (the machine's, or bubblewrap's
    private ones, 512 MB each) cannot be held; writing in its own folders still works."""
    bubblewrap_mode = "auto" if layer == "bubblewrap" else "off"
    graded = grade_degraded(runtime, upload("tmpfs_hog", tmp_path / "hog"), cgroup=False, bubblewrap=bubblewrap_mode)
    assert graded["score"] == 19 and not any(graded["loss"]), graded
    assert "no memory cgroup" in graded["isolation"] and "Landlock: it could write files only in its own folders" \
        in graded["isolation"], graded["isolation"]
    honest = tmp_path / "honest"
    honest.mkdir()
    (honest / "two_layer_net.py").write_text(WRITES_IN_ITS_OWN_FOLDERS)
    shutil.copy(HONEST, honest / "honest.py")
    assert grade_degraded(runtime, honest, cgroup=False, bubblewrap=bubblewrap_mode)["score"] == 20


@pytest.mark.parametrize("layer", ["bubblewrap", "no bubblewrap"])
def test_without_a_memory_cgroup_child_processes_hold_nothing_more(layer, runtime, tmp_path):
    """RLIMIT_DATA bounds one process: where no cgroup counts a worker's children, seccomp refuses
    new processes, so the hog's three children of 400 MB (1.2 GB against 512 MB) never start."""
    graded = grade_degraded(runtime, upload("fork_hog", tmp_path / "hog"), cgroup=False,
                            bubblewrap="auto" if layer == "bubblewrap" else "off")
    assert graded["score"] == 19 and not any(graded["loss"]), graded
    assert "seccomp refused it new processes" in graded["isolation"], graded["isolation"]


def upload(attack: str, folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(HOSTILE / f"{attack}.py", folder / "two_layer_net.py")
    shutil.copy(HONEST, folder / "honest.py")
    return folder


# Run as a non-root user, the grader cannot hide its files from student code, hunt detached
# processes, or stop it from signalling the grader (same user) - unless bubblewrap works here, whose
# namespaces do all that. The attacks only those defences stop are left out when it does not.
NEED_ROOT_OR_BUBBLEWRAP = {"search_disk", "import_grader_modules", "read_grader_process", "kill_grader",
                           "fork_storm", "write_results", "plant_files", "read_classmates",
                           "tmpfs_hog"}  # (the machine's /dev/shm, where no memory cgroup or tmpfs size bounds it)
BUBBLEWRAP_WORKS = bubblewrap.zygote_wrapper(Path(tempfile.gettempdir()), [], as_root=False) is not None
# under bubblewrap the "parent" read_grader_process reads is the sandbox's own init, not the grader
WITHOUT_ROOT = sorted(set(ATTACKS) - ({"read_grader_process"} if BUBBLEWRAP_WORKS else NEED_ROOT_OR_BUBBLEWRAP))
@pytest.mark.parametrize("attack", WITHOUT_ROOT)
def test_hostile_submission_graded_by_a_non_root_grader(attack, grader_user, runtime, tmp_path):
    root = Path(tempfile.mkdtemp(prefix="autograder-nonroot-"))
    try:
        # where bubblewrap cannot isolate it, student code runs as the grader's user: allowed here, to test the rest
        source = copy_grading_files(root / "source", None if BUBBLEWRAP_WORKS else (REPO / "grading.toml").read_text()
                                    .replace("unsafe_run_as_grader = false", "unsafe_run_as_grader = true"))
        # root's, readable by the grader user's group alone: a sandbox user of another test running
        # meanwhile must find no reference or classmate here (read_classmates looks in /tmp)
        subprocess.run(["chgrp", "-R", grader_user, str(source)], check=True)
        subprocess.run(["chmod", "-R", "g+rX,o-rwx", str(source)], check=True)
        before = digest(source)
        (root / "private").mkdir(mode=0o700)  # (the upload, copied by root into the grader's root, is ours)
        submission = upload(attack, root / "private" / "upload")
        os.chmod(root, 0o755)
        grader_root = root / "gs"  # the grader's AUTOGRADER_ROOT: its own, so it can write results
        grader_root.mkdir(mode=0o700)
        shutil.chown(grader_root, grader_user)
        run = run_autograder(grader_root, submission, source=source, as_user=grader_user,
                             python=str(runtime / "venv" / "bin" / "python"))
        assert run.results["score"] == EXPECTED.get(attack, 19), run.results["output"]
        isolation = run.results["extra_data"]["isolation"]
        # under bubblewrap, with seccomp refusing new processes (no cgroup for this user), nothing is missing
        assert ("MISSING" in isolation) != ("seccomp refused it new processes" in isolation and BUBBLEWRAP_WORKS), \
            isolation
        assert digest(source) == before
        assert no_process_within(pwd.getpwnam(grader_user).pw_uid, seconds=30), run.results["extra_data"]["isolation"]
    finally:
        subprocess.run(["pkill", "-KILL", "-u", grader_user], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_hostile_runs_say_how_they_were_isolated(gradescope, tmp_path):
    run = gradescope(upload("network", tmp_path / "upload"))
    isolation = run.results["extra_data"]["isolation"]
    assert "seccomp refused it network sockets" in isolation
    if running_as_root():
        assert "unprivileged user ag-student" in isolation and "MISSING" not in isolation
        # (as data too: the checks that nothing of that user is left read it)
        assert pwd.getpwuid(run.results["extra_data"]["sandbox_uid"]).pw_name.startswith("ag-student")


def link_upload(folder: Path, victim: Path) -> Path:
    """A notebook beside a two_layer_net.py that is a link to `victim` (outside the upload): staging
    once wrote the module made from the notebook through the link, as root."""
    folder.mkdir()
    shutil.copy(REPO / "examples" / "submissions" / "notebook_correct" / "homework2.ipynb", folder)
    (folder / "two_layer_net.py").symlink_to(victim)
    (folder / "missing.py").symlink_to(victim.with_name("created-by-the-upload.py"))
    return folder


def test_links_in_an_upload_change_no_file_outside_it_through_run_autograder(gradescope, tmp_path):
    victim = tmp_path / "victim.py"
    victim.write_text("precious = True\n")
    run = gradescope(link_upload(tmp_path / "upload", victim), fresh=True)
    assert run.results["score"] == 20
    assert victim.read_text() == "precious = True\n" and not (tmp_path / "created-by-the-upload.py").exists()
    assert "Not copied from your upload: missing.py (a link to" in run.results["output"]


def test_links_in_an_upload_change_no_file_outside_it_through_grade_with_every_layer(tmp_path):
    victim = tmp_path / "victim.py"
    victim.write_text("precious = True\n")
    report = grade_submission(link_upload(tmp_path / "upload", victim), load_config(), diagnoser=diagnoser_for)
    assert report.score == 20, report.output
    assert victim.read_text() == "precious = True\n" and not (tmp_path / "created-by-the-upload.py").exists()
