"""The command line, run as a user would: python -m autograder ..."""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from .conftest import EXAMPLES, REPO, SCHEMA, alive, descendants


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_help_lists_the_commands():
    out = cli("--help")
    assert out.returncode == 0
    assert "grade" in out.stdout and "gradescope" in out.stdout
    assert cli("grade", "--help").returncode == 0


def test_usage_error_exits_2():
    assert cli("frobnicate").returncode == 2
    assert cli().returncode == 2


def test_grade_prints_a_table_and_writes_the_same_results_as_run_autograder(tmp_path, gradescope):
    results = tmp_path / "out" / "results.json"
    out = cli("grade", str(EXAMPLES / "relu_ge"), "--results", str(results), "--submission-id", "123456")
    assert out.returncode == 0, out.stderr
    assert "ReLU Jacobian dz2/dz1" in out.stdout and "FAIL" in out.stdout
    assert "Total" in out.stdout and "/ 20" in out.stdout
    local = json.loads(results.read_text())
    jsonschema.validate(local, SCHEMA)
    on_gradescope = gradescope(EXAMPLES / "relu_ge", metadata={"id": 123456}).results
    for doc in (local, on_gradescope):
        doc.pop("execution_time")
    for doc in (local, on_gradescope):  # this run uses the dev venv, the other the Gradescope runtime
        doc["extra_data"].pop("isolation")
        doc["extra_data"].pop("sandbox_uid")  # (each grader leases a sandbox user of its own)
    assert local == on_gradescope


def test_grade_a_single_file(tmp_path):
    out = cli("grade", str(EXAMPLES / "correct" / "two_layer_net.py"))
    assert out.returncode == 0 and "20/20" in out.stdout.replace(" ", "")


def test_grade_missing_path_fails_clearly():
    out = cli("grade", "no/such/folder")
    assert out.returncode == 1 and "no such file or folder" in out.stderr


def test_bad_config_fails_clearly(tmp_path):
    config = tmp_path / "grading.toml"
    config.write_text('[limits]\ncall_timeout = "fast"\n')
    out = cli("grade", str(EXAMPLES / "correct"), "--config", str(config))
    assert out.returncode == 1
    assert "limits.call_timeout must be a number" in out.stderr and "grading.toml" in out.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
@pytest.mark.slow
def test_a_killed_grade_leaves_no_process_and_a_stopped_one_no_scratch(signum, own_tmpdir):
    """grade of a submission that hangs, stopped mid-run: its zygote and workers end with it within
    seconds however it dies; SIGTERM and SIGHUP unwind it like Ctrl-C (scratch folder removed,
    exit status 128 + the signal)."""
    temporary, env = own_tmpdir
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(EXAMPLES / "hang_in_loss")], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=env)
    deadline = time.monotonic() + 30
    while not any("zygote.py" in " ".join(cmdline(p)) for p in descendants(proc.pid)):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)  # into the hanging call
    family = descendants(proc.pid)
    os.kill(proc.pid, signum)
    status = proc.wait(timeout=30)
    deadline = time.monotonic() + 5
    while alive(family) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(family)
    if signum != signal.SIGKILL:
        assert status == 128 + signum and "interrupted" in proc.stderr.read()
        assert list(temporary.iterdir()) == []  # its scratch folder is gone


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
@pytest.mark.slow
def test_grade_explains_each_failing_part_in_a_line_on_one_screen(example, short_limits):
    out = cli("grade", str(EXAMPLES / example), "--config", str(short_limits))
    assert out.returncode == 0
    assert len(out.stdout.splitlines()) <= 40 or example in TRACEBACK_EXAMPLES, out.stdout
    assert "```" not in out.stdout  # no raw Markdown without -v


# (their import error's traceback, shown in full, makes the screen longer)
TRACEBACK_EXAMPLES = {"torch_tensors", "exit_at_import", "notebook_no_functions", "syntax_error"}


def test_grade_verbose_prints_every_test_in_full():
    short, verbose = (cli("grade", str(EXAMPLES / "missing_relu_mask"), *flag).stdout for flag in ((), ("-v",)))
    assert "What went wrong" in short and "ReLU step is missing" in short
    assert len(verbose.splitlines()) > len(short.splitlines()) and "Called `backward` with:" in verbose


def test_every_option_of_every_command_says_what_it_is_for():
    from autograder.cli import build_parser

    parser = build_parser()
    for name, command in parser.commands.items():
        for action in command._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help text"


@pytest.mark.parametrize("args, status, words", [
    (("grade", "examples/submissions/correct", "--bogus"), 2, "python -m autograder grade: error: unrecognized"),
    (("batch", "examples/submissions", "--out", "/tmp/x", "-j", "0"), 2, "must be 1 or more, got 0"),
    (("build-zip", "--allow-default-secret", "--out", "/nonexistent-autograder/dir/a.zip"), 1,
     "the folder /nonexistent-autograder/dir does not exist"),
    (("handout", "--out", "/nonexistent-autograder/hw"), 1, "the folder /nonexistent-autograder does not exist"),
    (("batch", "examples/submissions", "--out", "/nonexistent-autograder/out"), 1,
     "the folder /nonexistent-autograder does not exist"),
])
def test_errors_at_the_edge_are_clear_and_create_nothing(args, status, words):
    done = cli(*args)
    assert done.returncode == status and words in done.stderr, done.stderr
    assert not Path("/nonexistent-autograder").exists()


def test_a_batch_of_nothing_or_of_a_class_one_folder_deeper_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    done = cli("batch", str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and "no submission found: it is empty" in done.stderr
    assert not (tmp_path / "out").exists()  # a refused input leaves no empty --out behind
    export = tmp_path / "deep" / "export"
    for sub in ("submission_1", "submission_2"):
        (export / sub).mkdir(parents=True)
    (export / "submission_metadata.yml").write_text("{}\n")
    done = cli("batch", str(tmp_path / "deep"), "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and f"one folder deeper? Try {export}" in done.stderr
    assert not (tmp_path / "out").exists()


def test_build_zip_without_out_writes_into_the_current_folder_and_says_where(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "build-zip", "--allow-default-secret"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "autograder.zip").is_file() and f"wrote {tmp_path / 'autograder.zip'}" in done.stdout
    assert not (REPO / "autograder.zip").exists() or (REPO / "autograder.zip").stat().st_mtime < time.time() - 300


def test_output_cut_short_by_a_closed_pipe_ends_quietly():
    """`grade -v ... | head -1`: the reader closes the pipe; no traceback, exit status 141 as for any tool."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(read_end, fcntl.F_SETPIPE_SZ, 4096)  # the 10 KB of output cannot all fit: the writer must see it closed
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", "-v", str(EXAMPLES / "relu_ge")],
                            cwd=REPO, stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    assert os.read(read_end, 100).startswith(b"Graded:")
    os.close(read_end)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 128 + signal.SIGPIPE and not_warnings(stderr) == []
    # and a reader gone before anything is written (the output then waits in the buffer until the end)
    read_end, write_end = os.pipe()
    os.close(read_end)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(EXAMPLES / "relu_ge")], cwd=REPO,
                          stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert (done.returncode, not_warnings(done.stderr)) == (128 + signal.SIGPIPE, [])


def not_warnings(stderr: str) -> list[str]:
    """stderr's lines but the grader's own warnings (a checkout others can read, say, is named before
    grading): what a closed pipe must not add, a traceback above all."""
    return [line for line in stderr.splitlines() if not line.startswith("warning: ")]


def test_grade_and_batch_warn_of_a_runtime_package_not_installed_here(tmp_path):
    """matplotlib is offered to courses (requirements-student.txt) and is not in the development venv:
    a config listing it grades here as Gradescope would not, and both commands say so first."""
    if importlib.util.find_spec("matplotlib") is not None:
        pytest.skip("matplotlib is installed here")
    config = tmp_path / "grading.toml"
    config.write_text((REPO / "grading.toml").read_text() + '\n[runtime]\npackages = ["matplotlib"]\n')
    (tmp_path / "class" / "ada").mkdir(parents=True)
    shutil.copy(EXAMPLES / "correct" / "two_layer_net.py", tmp_path / "class" / "ada")
    batch = ["batch", str(tmp_path / "class"), "--out", str(tmp_path / "out")]
    for args in (["grade", str(EXAMPLES / "correct")], batch):
        done = cli(*args, "--config", str(config))
        assert done.returncode == 0, done.stderr
        warning = next(line for line in done.stderr.splitlines() if "not installed here" in line)
        assert warning.startswith("warning: student code may import matplotlib (two-layer-net, [runtime]), not "
                                  "installed here")
    assert "not installed here" not in cli("grade", str(EXAMPLES / "correct")).stderr
