"""The worker boundary: what student code can return or do, and what the grader makes of it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from autograder.config import default_config
from autograder.sandbox import worker
from autograder.sandbox.calls import Call, Sandbox, TopLevelOutcome

LIMITS = replace(default_config().limits, call_timeout=1.0, max_result_mb=1.0)


@pytest.fixture
def sandbox(tmp_path):
    """sandbox(source) -> a started Sandbox running `source` as two_layer_net.py."""
    boxes = []

    def make(source: str, **limits) -> Sandbox:
        folder = tmp_path / f"sub{len(boxes)}"
        folder.mkdir()
        module = folder / "two_layer_net.py"
        module.write_text(textwrap.dedent(source))
        box = Sandbox(module, tmp_path / f"run{len(boxes)}", replace(LIMITS, **limits))
        box.start()
        boxes.append(box)
        return box

    yield make
    for box in boxes:
        box.close()


def test_values_come_back_as_fresh_float64(sandbox):
    box = sandbox("""
        import numpy as np
        def f32(x): return np.asarray(x, dtype=np.float32) * 2
        def ints(x): return [1, 2, 3]
        def scalar(x): return np.float32(1.5)
        def boolean(x): return x > 0
    """)
    for name, expected in [("f32", [2.0, -4.0]), ("ints", [1, 2, 3]), ("scalar", 1.5), ("boolean", [1.0, 0.0])]:
        out = box.call(name, [np.array([1.0, -2.0])])
        value = out.values["return"]
        assert out.status == "ok" and type(value) is np.ndarray and value.dtype == np.float64
        np.testing.assert_array_equal(value, expected)


def test_student_cannot_change_the_graders_inputs(sandbox):
    box = sandbox("def relu(z):\n    z[:] = 99\n    return z\n")
    z = np.array([1.0, -1.0])
    box.call("relu", [z])
    np.testing.assert_array_equal(z, [1.0, -1.0])


@pytest.mark.parametrize("body,fragment", [
    ("return [object()]", "not numeric"),
    ("return 'abc'", "not numeric"),
    ("return [[1, 2], [3]]", "could not be turned into a numeric array"),
    ("return np.array([1 + 2j])", "not numeric"),
    ("return None", "not numeric"),
])
def test_unusable_values_are_named(sandbox, body, fragment):
    box = sandbox(f"import numpy as np\ndef relu(z):\n    {body}\n")
    out = box.call("relu", [np.ones(2)])
    assert out.status == "ok" and fragment in out.problems["return"]


def test_lying_objects_only_deliver_their_numbers(sandbox):
    box = sandbox("""
        import numpy as np
        class Liar(np.ndarray):
            def __eq__(self, other): return True
            def __array_ufunc__(self, *a, **k): return True
        def relu(z):
            return np.zeros(3).view(Liar)
    """)
    out = box.call("relu", [np.ones(3)])
    assert type(out.values["return"]) is np.ndarray
    np.testing.assert_array_equal(out.values["return"], np.zeros(3))


def test_result_over_the_size_cap_fails_that_call_only(sandbox):
    box = sandbox("import numpy as np\ndef relu(z): return np.ones(10**6)\ndef affine(x, W, b): return x\n")
    out = box.call("relu", [np.ones(2)])
    assert "too large" in out.problems["return"]
    assert box.call("affine", [np.ones(2), np.ones((2, 2)), np.ones(2)]).status == "ok"


def test_prints_are_captured_per_call_and_capped(sandbox):
    box = sandbox("def relu(z):\n    print('hello')\n    print('y' * 5000)\n    return z\n", max_output_chars=100)
    out = box.call("relu", [np.ones(1)])
    assert out.stdout.startswith("hello\n") and "characters of output cut" in out.stdout and len(out.stdout) < 200


def test_a_warning_names_the_students_file_as_a_traceback_does(sandbox):
    """Not the scratch folder's path, which differs between two gradings of the same file."""
    box = sandbox("import numpy as np\ndef relu(z):\n    return np.array(z).astype(np.float16)\n")
    out = box.call("relu", [np.array([1e6])])
    assert out.status == "ok" and out.stdout.startswith("two_layer_net.py:3: RuntimeWarning: overflow"), out.stdout
    assert "return np.array(z).astype(np.float16)" in out.stdout and str(box.module_path.parent) not in out.stdout


def test_sys_exit_in_a_call_is_an_error_not_a_crash(sandbox):
    box = sandbox("import sys\ndef relu(z): sys.exit(0)\ndef affine(x, W, b): return x\n")
    out = box.call("relu", [np.ones(1)])
    assert out.status == "error" and "sys.exit(0)" in out.said
    assert box.call("affine", [np.ones(1), np.ones((1, 1)), np.ones(1)]).status == "ok"


def test_worker_is_restarted_after_a_crash(sandbox):
    box = sandbox("import os\ndef relu(z): os._exit(7)\ndef affine(x, W, b): return W @ x + b\n")
    out = box.call("relu", [np.ones(1)])
    assert out.status == "crash" and "status 7" in out.message
    ok = box.call("affine", [np.ones(2), np.eye(2), np.ones(2)])
    assert ok.status == "ok"
    np.testing.assert_array_equal(ok.values["return"], [2.0, 2.0])


def test_repeated_timeouts_stop_further_calls_of_that_function(sandbox):
    box = sandbox("def relu(z):\n    while True: pass\ndef affine(x, W, b): return x\n",
                  call_timeout=0.3, timeouts_before_skip=2)
    assert [box.call("relu", [np.ones(1)]).status for _ in range(3)] == ["timeout", "timeout", "not run"]
    assert box.call("affine", [np.ones(1), np.ones((1, 1)), np.ones(1)]).status == "ok"


def test_total_budget_is_enforced(sandbox):
    box = sandbox("def relu(z):\n    while True: pass\n", call_timeout=5, total_timeout=1.0)
    first = box.call("relu", [np.ones(1)])
    assert first.status == "timeout"
    assert box.call("relu", [np.ones(1)]).status == "not run"


def test_memory_error_is_out_of_memory(sandbox):
    box = sandbox("import numpy as np\ndef relu(z): return np.ones(1 << 34)\n", memory_mb=512)
    assert box.call("relu", [np.ones(1)]).status == "out of memory"


@pytest.mark.parametrize("megabytes, status", [(300, "ok"), (600, "out of memory")])
def test_the_memory_limit_bounds_memory_used_not_address_space(sandbox, megabytes, status):
    """600 MB of arrays, touched or not (np.empty maps without touching: counted all the same), is
    over a 512 MB limit; 300 MB is under it (and so is the address space a library maps without
    using it: test_end_to_end imports torch under 512 MB)."""
    code = (f"import numpy as np\ndef relu(z):\n    a = np.empty({megabytes} << 17)\n    a[0] = 1.0\n"
            "    return z * a[0]\n")
    box = sandbox(code, memory_mb=512, call_timeout=20)
    assert box.call("relu", [np.ones(1)]).status == status


def test_shared_memory_beyond_the_address_space_backstop_is_refused(sandbox):
    """Shared mappings are not in RLIMIT_DATA; RLIMIT_AS (1 GB above the limit) still bounds them."""
    code = ("import mmap\nimport numpy as np\ndef relu(z):\n    m = mmap.mmap(-1, 2 << 30)\n"
            "    return z\n")
    assert sandbox(code, memory_mb=512).call("relu", [np.ones(1)]).status in ("out of memory", "error")


# top-level code that keeps the statement timers' signals from arriving: only the import's limit stops it
UNSTOPPABLE = "import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPROF, signal.SIGALRM})\n"


def test_a_hanging_top_level_statement_is_stopped_and_the_rest_imported(sandbox):
    box = sandbox("def relu(z):\n    return z\nwhile True: pass\ndef affine(x, W, b):\n    return x\n",
                  import_timeout=0.5)
    report = box.import_report()
    assert report.ok and {"relu", "affine"} <= set(report.functions)
    assert [(e.line, e.outcome, e.code) for e in report.toplevel] == [(3, TopLevelOutcome.STOPPED, "while True: pass")]
    assert box.call("relu", [np.ones(1)]).status == "ok"


def test_import_that_hangs_times_out(sandbox):
    box = sandbox(UNSTOPPABLE + "while True: pass\n", import_timeout=0.5)
    report = box.import_report()
    assert not report.ok and "used more than 0.5 s of CPU time" in report.message
    assert box.call("relu", [np.ones(1)]).status == "import error"


def test_an_import_that_waits_is_stopped_by_the_wall_clock(sandbox):
    box = sandbox(UNSTOPPABLE + "import time\ntime.sleep(60)\n", import_timeout=0.2, wall_clock_factor=2)
    report = box.import_report()
    assert not report.ok and "longer than 0.4 s of wall-clock time" in report.message, report.message


@pytest.mark.parametrize("seconds, status", [(0.6, "ok"), (30, "timeout")])
@pytest.mark.slow
def test_a_call_that_sleeps_has_its_limit_times_the_wall_clock_factor(sandbox, seconds, status):
    """Sleeping uses no CPU time: 0.6 s is over a 0.3 s CPU limit of the clock but within 5 times it."""
    box = sandbox(f"import time\ndef relu(z):\n    time.sleep({seconds})\n    return z\n", call_timeout=0.3,
                  wall_clock_factor=5)
    out = box.call("relu", [np.ones(1)])
    assert out.status == status, out.message
    if status == "timeout":
        assert "no answer within 1.5 s of wall-clock time" in out.message


# spin(x): uses x[0] seconds of its own CPU time, however long the clock takes to give them
SPIN = """
import time
def spin(x):
    end = time.process_time() + float(x[0])
    while time.process_time() < end:
        pass
    return x
"""


@pytest.mark.slow
def test_cpu_time_is_counted_from_the_previous_answer_across_a_batch(sandbox):
    """Each call of a batch gets its own limit: ten calls of 0.15 s of CPU each pass a 0.3 s limit
    however long they wait their turn, one of 0.6 s does not."""
    box = sandbox(SPIN, call_timeout=0.3)
    outcomes = box.call_many([Call("spin", (np.array([0.15]),))] * 10 + [Call("spin", (np.array([0.6]),))])
    assert [o.status for o in outcomes] == ["ok"] * 10 + ["timeout"]
    assert "more than 0.3 s of CPU time" in outcomes[-1].message


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
@pytest.mark.slow
def test_a_call_gets_the_same_verdict_on_a_cpu_shared_with_busy_processes(sandbox):
    """The worker pinned to one CPU with four processes spinning there, each in a session of its own
    (the scheduler shares a CPU between sessions first), gets about a fifth of it: a call of 0.2 s of
    CPU time then takes about 1 s of the clock, and passes its 0.5 s limit all the same."""
    mine = os.sched_getaffinity(0)
    cpu = min(mine)
    hogs = [subprocess.Popen([sys.executable, "-c", f"import os\nos.sched_setaffinity(0, {{{cpu}}})\nwhile True: pass"],
                             start_new_session=True) for _ in range(4)]
    try:
        os.sched_setaffinity(0, {cpu})  # the sandbox's own zygote, and its workers, inherit it
        box = sandbox(SPIN, call_timeout=0.5, wall_clock_factor=20)
        box.import_report()
        assert box.call("spin", [np.array([0.2])]).status == "ok"
        assert box.call("spin", [np.array([0.8])]).status == "timeout"
    finally:
        os.sched_setaffinity(0, mine)
        for hog in hogs:
            hog.kill()
            hog.wait()


def test_worker_sees_only_the_submission_folder_and_a_scrubbed_environment(sandbox, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_SECRET", "x")  # set before the worker starts: it must not inherit it
    box = sandbox("""
        import os, sys
        def relu(z):
            import numpy as np
            here = os.path.dirname(os.path.abspath(__file__))
            grader_on_path = any(os.path.exists(os.path.join(p, 'autograder', 'config.py')) for p in sys.path)
            return np.array([float(sys.path[0] == here), float(grader_on_path),
                             float('AUTOGRADER_SECRET' in os.environ), float(len(os.environ))])
    """)
    first_is_submission, grader_on_path, secret_seen, n_env = box.call("relu", [np.ones(1)]).values["return"]
    assert first_is_submission == 1 and grader_on_path == 0 and secret_seen == 0 and n_env < 12


def test_a_call_spoiled_by_a_process_an_earlier_call_forked_is_retried_in_a_fresh_worker(sandbox):
    box = sandbox("""
        import json, os, struct, time
        import numpy as np

        def relu(z):  # leaves a child behind that writes a forged answer into the reply pipe later
            if os.fork() == 0:
                time.sleep(0.3)
                header = json.dumps({"id": 999, "status": "ok", "names": [], "problems": {}, "arrays": []}).encode()
                os.write(4, struct.pack(">II", len(header), 0) + header)
                os._exit(0)
            return z

        def affine(x, W, b):
            time.sleep(0.6)  # the forged answer arrives while the grader waits for this one
            return W @ x + b
    """)
    first, second = box.call_many([Call("relu", (np.ones(2),)), Call("affine", (np.ones(1), np.eye(1), np.ones(1)))])
    assert first.status == "ok"
    assert second.status == "ok" and second.values["return"].tolist() == [2.0]


def test_a_worker_whose_grader_has_gone_exits_without_a_word(tmp_path):
    """A worker that answers after the grader gave up on it (an earlier call of its batch ran out of
    memory) must not print a BrokenPipeError into the output the student is shown."""
    module = tmp_path / "two_layer_net.py"
    module.write_text("def relu(z): return z\n")
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(worker.__file__).parent)!r})
        import worker
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        os.close(response_r)  # the grader is gone
        worker.main(["worker.py", str(request_r), str(response_w), {str(module)!r}, "1000", "1000000", "-", "-",
                     "8", "5"])
        print("the worker went on after a broken pipe")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_timeouts_count_against_a_function_whatever_its_variant(tmp_path):
    """A worker contract's call names ("spin/1", "spin/2") are variants of one function: a function
    that hangs costs its two strikes, not two for each variant (nyu-hw1 has 27 of them)."""
    from autograder.sandbox.forkserver import ForkServer

    contract = tmp_path / "contract.py"
    contract.write_text("def resolve(module, name):\n    return getattr(module, name.partition('/')[0], None)\n")
    (tmp_path / "sub").mkdir()
    module = tmp_path / "sub" / "two_layer_net.py"
    module.write_text("def spin(z):\n    while True: pass\n")
    box = Sandbox(module, tmp_path / "run", replace(LIMITS, call_timeout=0.3, timeouts_before_skip=2),
                  forkserver=ForkServer(tmp_path / "zygote", contract=contract))
    try:
        box.start()
        statuses = [box.call(f"spin/{variant}", [np.ones(1)]) for variant in range(4)]
        assert [s.status for s in statuses] == ["timeout", "timeout", "not run", "not run"]
        assert "not run: spin already timed out" in statuses[3].message
    finally:
        box.close()
        box.forkserver.close()
