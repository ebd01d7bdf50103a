"""The fork server: one zygote serves many submissions, and nothing passes from one to the next."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import textwrap
import time
from dataclasses import replace

import numpy as np
import pytest

from autograder.config import load_config
from autograder.diagnosis import diagnoser_for
from autograder.grading.grade import Grader
from autograder.sandbox.calls import Sandbox
from autograder.sandbox.forkserver import ForkServer
from autograder.sandbox.isolation import processes_of, running_as_root

from .conftest import EXAMPLES, zygotes_and_workers

HONEST = (EXAMPLES / "correct" / "two_layer_net.py").read_text()
SECRET = "zygote-test-secret-4f1c9a"


def submission(tmp_path, name: str, source: str):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "two_layer_net.py").write_text(HONEST + "\n" + textwrap.dedent(source))
    return folder


@pytest.fixture
def grader():
    with Grader(replace(load_config(), secret=SECRET), diagnoser=diagnoser_for) as grader:
        yield grader


def test_a_submission_leaves_nothing_for_the_next(grader, tmp_path):
    planter = submission(tmp_path, "planter", """
        import os, tempfile
        import numpy as np
        np.PLANTED = True                    # in its worker's memory only: the next worker is a fresh fork
        np.dot = lambda *a, **k: 0.0
        os.environ["PLANTED"] = "1"
        for folder in ("/tmp", "/var/tmp", "/dev/shm", tempfile.gettempdir()):
            try:
                open(os.path.join(folder, "planted-by-a-student"), "w").write("x")
            except OSError:
                pass
    """)
    checker = submission(tmp_path, "checker", """
        import os, tempfile
        import numpy as np
        _honest_mse_grad = mse_grad
        FOUND = [what for what, seen in [
            ("numpy state", hasattr(np, "PLANTED") or np.dot(np.ones(2), np.ones(2)) != 2.0),
            ("environment", "PLANTED" in os.environ),
            ("files", any(os.path.exists(os.path.join(f, "planted-by-a-student"))
                          for f in ("/tmp", "/var/tmp", "/dev/shm", tempfile.gettempdir()))),
        ] if seen]

        def mse_grad(y_hat, y):
            print(FOUND)
            return np.zeros_like(y_hat) if FOUND else _honest_mse_grad(y_hat, y)
    """)
    grader.grade(planter, "planter")
    report = grader.grade(checker, "checker")
    mse_grad = [t for t in report.tests if t.part == "mse_grad"]
    files_are_cleaned = grader.host.bubblewrapped or grader.host.user is not None  # else /tmp is shared: a known gap
    if files_are_cleaned:
        assert all(t.score == t.max_score for t in mse_grad), mse_grad[0].output
    else:
        assert "'numpy state'" not in mse_grad[0].output and "'environment'" not in mse_grad[0].output


SECRET_SCANNER = """
_honest_mse_loss = mse_loss
FIRST, SECOND = {first!r}, {second!r}  # the secret is never whole in this process unless it came from elsewhere
KEEP = (FIRST + SECOND) * {control}  # the positive control holds it on purpose
HITS = 0
# a worker that became the sandbox user is not dumpable, so /proc/self/mem is root's: undo that
__import__("ctypes").CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb") as mem:
    for line in maps:
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        if "r" not in line.split()[1] or end - start > 1 << 28:
            continue
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except (OSError, ValueError, OverflowError):
            continue
        at = data.find(FIRST)
        while at != -1:
            HITS += data[at + len(FIRST):at + len(FIRST) + len(SECOND)] == SECOND
            at = data.find(FIRST, at + 1)


def mse_loss(y_hat, y):
    return -_honest_mse_loss(y_hat, y) - 1.0 if HITS else _honest_mse_loss(y_hat, y)
"""


def test_the_worker_memory_holds_no_secret(grader, tmp_path):
    """Workers are forks of the zygote: had it been a fork of the grader, they would hold the config."""
    def loss_score(control: bool) -> float:
        source = SECRET_SCANNER.format(first=SECRET[:10].encode(), second=SECRET[10:].encode(), control=int(control))
        report = grader.grade(submission(tmp_path, f"scanner{int(control)}", source), "scanner")
        return sum(t.score for t in report.tests if t.part == "loss")

    assert loss_score(control=True) == 0  # the scan finds the secret when it is there
    assert loss_score(control=False) == 1


def test_a_zygote_killed_from_outside_is_replaced(grader):
    assert grader.grade(EXAMPLES / "correct").score == 20
    os.killpg(grader.host.forkserver._proc.pid, signal.SIGKILL)
    assert grader.grade(EXAMPLES / "correct").score == 20
    # what was left of the killed one (bubblewrap's process around its zygote, in a process group of
    # its own) dies with its parent, a moment later: nothing of it stays behind
    deadline = time.monotonic() + 5
    while zygotes_and_workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert zygotes_and_workers() == ""


@pytest.mark.slow
def test_closing_the_grader_leaves_no_zygote():
    with Grader(load_config(), diagnoser=diagnoser_for) as grader:
        grader.grade(EXAMPLES / "hang_in_loss")
        assert "zygote.py" in zygotes_and_workers(below=os.getpid())  # what the tests look for is there
    assert zygotes_and_workers(below=os.getpid()) == "" and zygotes_and_workers() == ""


KILLER = """
import os, signal
os.kill(-1, signal.SIGKILL)  # every process of its own user: in a shared user's batch, the neighbours too
"""
SLOW_HONEST = HONEST + """
import time
_fast_backward = backward

def backward(*args):
    time.sleep(0.05)
    return _fast_backward(*args)
"""


def test_in_a_batch_as_root_a_submission_cannot_kill_its_neighbours(runtime, tmp_path):
    """Each pool process grades as a sandbox user of its own: kill(-1) reaches only the killer."""
    if not running_as_root():
        pytest.skip("sandbox users need root")
    folder = tmp_path / "class"
    for i in range(6):
        (folder / f"s{i}").mkdir(parents=True)
        (folder / f"s{i}" / "two_layer_net.py").write_text(KILLER if i % 2 else SLOW_HONEST)
    out = tmp_path / "out"
    run = subprocess.run([str(runtime / "venv" / "bin" / "python"), "-m", "autograder", "batch", str(folder),
                          "--out", str(out), "-j", "2"], cwd=runtime / "source", capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    csv = (out / "grades.csv").read_text().splitlines()
    totals = {line.split(",")[0]: line.split(",")[5] for line in csv[1:]}
    assert {totals[f"s{i}"] for i in (0, 2, 4)} == {"20.0"}, csv
    assert {totals[f"s{i}"] for i in (1, 3, 5)} == {"0.0"}, csv


@pytest.mark.parametrize("kind", [socket.SOCK_SEQPACKET, socket.SOCK_DGRAM], ids=["seqpacket", "datagram (macOS)"])
def test_the_control_socket_kinds_serve_and_stop(tmp_path, kind):
    module = tmp_path / "two_layer_net.py"
    module.write_text(HONEST)
    server = ForkServer(tmp_path / "forkserver", control_socket=kind)
    with Sandbox(module, tmp_path / "run", load_config().limits, forkserver=server) as box:
        assert box.call("relu", [np.array([-1.0, 2.0])]).values["return"].tolist() == [0.0, 2.0]
    assert "zygote.py" in zygotes_and_workers(below=os.getpid())
    zygote = server._proc
    server.close()  # the zygote leaves on being told to, not killed after close's 2 s of grace
    assert zygote.returncode == 0 and zygotes_and_workers(below=os.getpid()) == ""


def test_emptying_the_private_tmp_leaves_what_is_mounted_there(grader, tmp_path):
    """With bubblewrap the scratch folder (under /tmp) is mounted inside the zygote's private /tmp:
    emptying that /tmp between submissions must leave it, and the files of the grader in it, alone."""
    if not grader.host.bubblewrapped:
        pytest.skip("no bubblewrap layer here")
    zygote_code = grader.host.forkserver.code_dir / "zygote.py"
    assert str(zygote_code).startswith("/tmp/") and zygote_code.exists()
    planted = submission(tmp_path, "planter", """
        try:
            open("/tmp/planted-by-a-student", "w").write("x")
        except OSError:  # /tmp is root's in there: only the grader's own user may write it
            pass
    """)
    for _ in range(2):
        assert grader.grade(planted).score == 20
        assert zygote_code.exists(), "the zygote emptied the grader's scratch folder"


def test_what_a_submission_leaves_running_is_killed_whatever_python_the_grader_runs(grader, tmp_path):
    """A detached sleeper left by the submission is killed after it as the sandbox user would kill
    it: by a fork of the grader, so it works even where that user could not run the grader's Python
    outside bubblewrap (a pyenv under /root): it once failed there with PermissionError."""
    leaver = submission(tmp_path, "leaver", """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
    """)
    for _ in range(2):
        report = grader.grade(leaver)
        assert report.score == 20, report.output
    if grader.host.user is not None:
        assert processes_of(grader.host.user.uid) == []
