"""Self-check for the two-layer network homework: run it before you upload to Gradescope.

It runs your code as the autograder does and checks it part by part, with the same part ids:
  - each function exists, runs, returns the right shape and finite values;
  - the public test vectors (the autograder's visible cases) against their expected values;
  - your gradients against finite differences of your own forward pass and loss (and against
    torch autograd, if torch is installed);
  - the Jacobians' properties (diagonal, 0/1 entries, the value at exactly z = 0, the identity).
For a failing part it names the likely cause when that cause explains your answers on every case
(the autograder's own rule), else it says where your answers are wrong. Gradescope also runs hidden
cases on random inputs: passing here is necessary, not sufficient.

How to run it (Python 3.9+ with numpy), from a terminal in this folder:
    python selfcheck.py                       checks two_layer_net.py beside it
    python selfcheck.py homework.ipynb        checks a notebook (save it first): its code cells
    python selfcheck.py path/to/file.py --timeout 20
From inside a Jupyter or Colab notebook, in a cell of its own (save the notebook first):
    %run selfcheck.py homework.ipynb
or, with selfcheck.py beside the notebook:
    import selfcheck; selfcheck.check("homework.ipynb")
Options: --timeout SECONDS (for all the checks of one function, default 10); --json (the verdicts
as JSON, for tools); --help. Exit status: 0 when every check passes, 1 otherwise, 2 for a bad path.

Your file's top-level code runs as on the autograder: one statement at a time, so a statement that
fails (or a training loop that runs too long) is reported by its line and the rest still runs; a
plotting or progress-bar package the autograder lacks is replaced by a stand-in that does nothing.

Everything below the line "You need not read on" is the autograder's own rules, copied in, and the
public cases as data.
"""

from __future__ import annotations

import argparse
import builtins
import importlib.machinery
import importlib.metadata
import json
import multiprocessing
import os
import re
import sys
import sysconfig
import types
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.random  # (numpy loads it on first use: here, once, not in each check's process)

PARTS = [  # (part id, title, function, dict key)
    ("affine", "affine(x, W, b)", "affine", None),
    ("relu", "relu(z)", "relu", None),
    ("forward.z1", "forward: z1", "forward", "z1"),
    ("forward.z2", "forward: z2", "forward", "z2"),
    ("forward.z3", "forward: z3", "forward", "z3"),
    ("forward.y_hat", "forward: y_hat", "forward", "y_hat"),
    ("loss", "mse_loss", "mse_loss", None),
    ("relu_jacobian", "relu_jacobian", "relu_jacobian", None),
    ("output_jacobian", "output_jacobian", "output_jacobian", None),
    ("mse_grad", "mse_grad", "mse_grad", None),
    ("grad.W1", "backward: dl/dW1", "backward", "W1"),
    ("grad.b1", "backward: dl/db1", "backward", "b1"),
    ("grad.W2", "backward: dl/dW2", "backward", "W2"),
    ("grad.b2", "backward: dl/db2", "backward", "b2"),
]
CALL_TIMEOUT = 10.0  # seconds for all the checks of one function
# This handout's version: a fingerprint of the cases, tolerances and conventions it checks against.
# Your results on Gradescope carry the autograder's; if they differ, download the handout again.
FINGERPRINT = None


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float




@dataclass
class Check:
    part: str
    name: str
    passed: bool
    message: str = ""
    hint: str = ""
    skipped: bool = False
    case: int = -1  # the index in PUBLIC_CASES of a public check
    received: object = None  # its answer (nested lists), for the diagnosis


# ----------------------------------------------------------------------------------------------
# Running the student's functions (in a child process, so a crash or a hang is reported, not fatal)


def _load(path, skip=()):
    """Your file as a module, its top-level code run as the autograder runs it (one statement at a
    time: `run`); (module, what did not run as written). skip: statements stopped in an earlier run."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    name = os.path.splitext(os.path.basename(path))[0]
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    events = run(units(path), vars(module), TOPLEVEL_SECONDS, WALL_CLOCK_FACTOR, skip)
    return module, events


def _to_array(value):
    if type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"returned a non-numeric value ({type(value).__name__})")
    return array.astype(np.float64)


def _call(module, function, *args, key=None):
    fn = getattr(module, function, None)
    if fn is None:
        raise LookupError(f"{function} is not defined in your file")
    value = fn(*[np.array(a, dtype=np.float64) for a in args])
    if key is not None:
        if not isinstance(value, dict):
            raise TypeError(f"{function} must return a dict, it returned a {type(value).__name__}")
        if key not in value:
            raise KeyError(f"the dict returned by {function} has no '{key}' entry")
        value = value[key]
    return _to_array(value)


def _arrays(case):
    return {name: np.array(v, dtype=np.float64) for name, v in case["inputs"].items()}


ARGS = {  # the arguments each function gets from a case's inputs (as the autograder gives them)
    "affine": lambda i, e: (i["x"], i["W1"], i["b1"]),
    "relu": lambda i, e: (e["z1"],),
    "forward": lambda i, e: (i["x"], i["W1"], i["b1"], i["W2"], i["b2"]),
    "mse_loss": lambda i, e: (e["y_hat"], i["y"]),
    "relu_jacobian": lambda i, e: (e["z1"],),
    "output_jacobian": lambda i, e: (e["z3"],),
    "mse_grad": lambda i, e: (e["y_hat"], i["y"]),
    "backward": lambda i, e: (i["x"], i["y"], i["W1"], i["b1"], i["W2"], i["b2"]),
}


def public_checks(module, function):
    """The public test vectors of every part computed by `function` (and the diagnostic cases,
    which only feed the diagnosis: they are not checks)."""
    checks = []
    for part, _, fn, key in PARTS:
        if fn != function:
            continue
        tol = Tolerance(*TOLERANCES[part])
        for index, case in enumerate(PUBLIC_CASES):
            inputs = _arrays(case)
            given = {name: np.array(v, dtype=np.float64) for name, v in case["given"].items()}
            name = f"{'diagnostic' if case['diagnostic'] else 'public'} case: {case['title']}"
            try:
                received = _call(module, function, *ARGS[function](inputs, given), key=key)
            except Exception as e:
                checks.append(Check(part, name, False, _error(e), _error_hint(e), case=index))
                continue
            verdict = compare(received, expected_for(case, part, received), tol)
            message = "" if verdict.passed else ", ".join(x for x in (verdict.reason, verdict.worst) if x)
            if not verdict.passed and verdict.reason == "wrong shape":
                message = verdict.detail
            checks.append(Check(part, name, verdict.passed, message, case=index, received=received.tolist()))
    return checks


def expected_for(case, part, received=None):
    """The expected answer to judge `received` against: where the course accepts two forms (a
    convention set to "either"), the one it agrees with, else the first of its shape, as the
    autograder does."""
    accepted = [np.array(a, dtype=np.float64) for a in case.get("accepted", {}).get(part, [])]
    if not accepted:
        return np.array(case["expected"][part], dtype=np.float64)
    return nearest(accepted, received, Tolerance(*TOLERANCES[part]))


def _error(e):
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _error_hint(e):
    if isinstance(e, NotImplementedError):
        return "this function is still the template's: implement it"
    if isinstance(e, LookupError) and "not defined" in str(e):
        return "define it with exactly this name and these arguments"
    if isinstance(e, ValueError) and "matmul" in str(e):
        return "the shapes do not fit: check the order of the factors and any transposes"
    if isinstance(e, NameError):
        return "a name it uses is not defined: see the top-level code listed above (an import that failed?)"
    return "the exception is raised in your code: call the function on that case's inputs to see where"


# --- checks that need no expected values ------------------------------------------------------

def _grid_inputs(seed, n=3, h=4, k=2):
    """Inputs away from the ReLU kink (|z1| >= 0.5), so finite differences are exact up to rounding."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    W1 = rng.uniform(-1, 1, (h, n))
    z = W1 @ x
    b1 = np.where(np.arange(h) % 2 == 0, 0.5 + np.abs(z), -0.5 - np.abs(z)) - z + rng.uniform(0, 0.5, h)
    return dict(x=x, W1=W1, b1=b1, W2=rng.uniform(-1, 1, (k, h)), b2=rng.uniform(-1, 1, k),
                y=rng.uniform(-1, 1, k))


def _numerical_gradient(f, at, step=1e-2):
    """Centered differences; exact for the piecewise quadratic loss while no kink is crossed."""
    grad = np.zeros_like(at)
    for index in np.ndindex(at.shape):
        old = at[index]
        at[index] = old + step
        plus = f()
        at[index] = old - step
        minus = f()
        at[index] = old
        grad[index] = (plus - minus) / (2 * step)
    return grad


def _rel_error(a, b):
    """CS231n's relative error: max |a - b| / max(|a| + |b|, 1e-8)."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


def gradient_checks(module, function, trusted, oracle=None):
    """Your mse_grad / backward against finite differences of your own mse_loss / forward + mse_loss
    (and backward against torch's gradients, the oracle, where torch is installed)."""
    checks = []
    inputs = _grid_inputs(7)
    if function == "mse_grad":
        if "loss" not in trusted:
            return [Check("mse_grad", "finite differences of your mse_loss", True, skipped=True,
                          message="skipped until mse_loss passes its public cases")]
        y_hat, y = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -0.25])
        numerical = _numerical_gradient(lambda: float(_call(module, "mse_loss", y_hat, y)), y_hat)
        checks.append(_gradient_check(module, "mse_grad", "mse_grad", (y_hat, y), None, numerical))
    if function == "backward":
        untrusted = [name for part, name in (("forward.y_hat", "forward"), ("loss", "mse_loss"))
                     if part not in trusted]
        if untrusted:
            return [Check(p, "finite differences of your forward + mse_loss", True, skipped=True,
                          message=f"skipped until {' and '.join(untrusted)} pass their public cases") for p in
                    ("grad.W1", "grad.b1", "grad.W2", "grad.b2")]
        args = [inputs[n] for n in ("x", "y", "W1", "b1", "W2", "b2")]

        def loss():
            y_hat = _call(module, "forward", inputs["x"], inputs["W1"], inputs["b1"], inputs["W2"], inputs["b2"],
                          key="y_hat")
            return float(_call(module, "mse_loss", y_hat, inputs["y"]))

        for name in ("W1", "b1", "W2", "b2"):
            numerical = _numerical_gradient(loss, inputs[name])
            checks.append(_gradient_check(module, f"grad.{name}", "backward", args, name, numerical))
        checks += torch_checks(module, args, oracle)
    return checks


def _gradient_check(module, part, function, args, key, numerical):
    name = "finite differences of your own " + ("mse_loss" if function == "mse_grad" else "forward + mse_loss")
    try:
        analytic = _call(module, function, *args, key=key)
    except Exception as e:
        return Check(part, name, False, _error(e), _error_hint(e))
    if not only_singletons_differ(analytic.shape, numerical.shape):
        hint = " (it looks transposed)" if analytic.shape == numerical.shape[::-1] else ""
        return Check(part, name, False, f"shape {analytic.shape}, the parameter's is {numerical.shape}{hint}")
    error = _rel_error(analytic.reshape(numerical.shape), numerical)
    if error < 1e-3:
        return Check(part, name, True)
    return Check(part, name, False, f"relative error {error:.2g}, over 1e-3")


def torch_gradients(connection):
    """If torch is installed: the parameters' gradients on the grid inputs by torch autograd (an
    independent oracle), sent as lists; else None. Run in a child of its own, before any of your code,
    so that torch is never imported where your code runs (on Gradescope it may not be there)."""
    try:
        import torch
    except ImportError:
        connection.send(None)
        return
    inputs = _grid_inputs(7)
    t = {k: torch.tensor(v, requires_grad=k in ("W1", "b1", "W2", "b2")) for k, v in inputs.items()}
    z3 = t["W2"] @ torch.relu(t["W1"] @ t["x"] + t["b1"]) + t["b2"]  # (no z1 is near 0 on these inputs)
    torch.nn.functional.mse_loss(z3, t["y"], reduction=CONVENTIONS["loss"]).backward()
    connection.send({name: t[name].grad.numpy().tolist() for name in ("W1", "b1", "W2", "b2")})


def torch_checks(module, args, oracle):
    """Your backward against torch autograd's gradients (torch_gradients), where torch is installed."""
    if oracle is None:
        return []
    checks = []
    for name in ("W1", "b1", "W2", "b2"):
        try:
            analytic = _call(module, "backward", *args, key=name)
            ok = compare(analytic, np.array(oracle[name]), Tolerance(*TOLERANCES[f"grad.{name}"])).passed
        except Exception as e:
            checks.append(Check(f"grad.{name}", "torch autograd", False, _error(e)))
            continue
        checks.append(Check(f"grad.{name}", "torch autograd", ok, "" if ok else "differs from torch's gradient"))
    return checks


def _jacobian_forms():
    """The forms the course accepts for a Jacobian: "matrix", "diagonal" or both."""
    return ("matrix", "diagonal") if CONVENTIONS["jacobians"] == "either" else (CONVENTIONS["jacobians"],)


def _form_problem(J, size, name):
    """(problem, hint) if J is in no accepted form for a Jacobian of `size` outputs, else None; and J
    as its diagonal."""
    forms = _jacobian_forms()
    if J.shape == (size, size) and "matrix" in forms:
        return None, np.diag(J), J
    if J.shape == (size,) and "diagonal" in forms:
        return None, J, np.diag(J)
    wanted = " or ".join({"matrix": f"({size}, {size})", "diagonal": f"({size},)"}[f] for f in forms)
    how = {"matrix": f"the ({name}, {name}) matrix", "diagonal": f"its diagonal as a ({name},) vector"}
    return (f"shape {J.shape} for {name} = {size}, not {wanted}",
            "return " + " or ".join(how[f] for f in forms)), None, None


def property_checks(module, function):
    """What a Jacobian must be, whatever the inputs, in the form the course asks for."""
    checks = []
    at_zero = CONVENTIONS["relu_derivative_at_zero"]
    if function == "relu_jacobian":
        z1 = np.array([-1.5, 0.0, 2.0, 0.0, 0.25])
        try:
            J = _call(module, "relu_jacobian", z1)
        except Exception as e:
            return [Check("relu_jacobian", "properties", False, _error(e), _error_hint(e))]
        problem, diagonal, matrix = _form_problem(J, 5, "h")
        problems = [problem] if problem else []
        if not problems:
            if np.any(matrix - np.diag(diagonal)):
                problems.append(("entries off the diagonal are not 0", "dz2_i/dz1_j = 0 for i != j"))
            if not np.all(np.isin(diagonal, (0.0, 1.0))):
                problems.append(("slopes other than 0 and 1", "the ReLU's slope is 0 or 1"))
            elif at_zero in (0, 1) and np.any(diagonal[[1, 3]] != at_zero):
                problems.append((f"{1 - at_zero} where z1 is exactly 0",
                                 "the derivative at exactly 0 is " + ("0: use z1 > 0" if at_zero == 0 else
                                                                      "taken as 1 here: use z1 >= 0")))
            elif at_zero == "either" and diagonal[1] != diagonal[3]:
                problems.append(("different values at the two entries where z1 is exactly 0",
                                 "take the derivative at exactly 0 as 0 or as 1, the same everywhere"))
        where = {0: "0 at z = 0", 1: "1 at z = 0", "either": "0 or 1 at z = 0"}[at_zero]
        checks.append(Check("relu_jacobian", f"properties (diagonal, 0/1, {where})", not problems,
                            "; ".join(p for p, _ in problems), "; ".join(h for _, h in problems)))
    if function == "output_jacobian":
        try:
            J = _call(module, "output_jacobian", np.array([0.5, -2.0, 3.0]))
            problem, diagonal, matrix = _form_problem(J, 3, "k")
            ok = problem is None and np.array_equal(matrix, np.eye(3))
            message = problem[0] if problem else "" if ok else "not the identity"
            checks.append(Check("output_jacobian", "properties (the identity)", ok, message,
                                "" if ok else problem[1] if problem else "y_hat = z3, so dy_hat/dz3 is the identity"))
        except Exception as e:
            checks.append(Check("output_jacobian", "properties", False, _error(e), _error_hint(e)))
    return checks


# ----------------------------------------------------------------------------------------------

GROUPS = ["affine", "relu", "forward", "mse_loss", "relu_jacobian", "output_jacobian", "mse_grad", "backward"]


def _isolate(path, allowed):
    """In a child process, before your code runs: only what the autograder has (`allowed`: the
    runtime's top-level modules) may be imported, and plots are drawn off screen."""
    os.environ["MPLBACKEND"] = "Agg"
    install_guard(allowed, os.path.dirname(os.path.abspath(path)))


def _top_level_child(path, allowed, connection):
    """Run your file's top-level code once; send what did not run as written, or why it cannot run."""
    import io
    from contextlib import redirect_stdout

    _isolate(path, allowed)
    try:
        with redirect_stdout(io.StringIO()):
            _, events = _load(path)
        connection.send({"events": events})
    except BaseException as e:  # noqa: BLE001 - a syntax error, a notebook that cannot be read
        connection.send({"error": _error(e), "hint": _import_hint(e, path)})
    connection.close()


def _child(path, allowed, function, trusted, oracle, skip, connection):
    import io
    from contextlib import redirect_stdout

    sink = io.StringIO()  # the student's prints stay out of the report
    try:
        _isolate(path, allowed)
        with redirect_stdout(sink):
            module, _ = _load(path, skip)
            checks = public_checks(module, function) + property_checks(module, function)
            checks += gradient_checks(module, function, trusted, oracle)
    except BaseException as e:  # noqa: BLE001 - import errors and exits are the student's to see
        trace = _error(e)
        checks = [Check(p, "import and run", False, trace, _import_hint(e, path)) for p, _, fn, _ in PARTS
                  if fn == function]
    connection.send([c.__dict__ for c in checks])
    connection.close()


def _import_hint(e, path):
    if isinstance(e, SyntaxError):
        return f"fix the syntax error on line {e.lineno} first"
    if isinstance(e, NotebookError):
        return "save the notebook from Jupyter, VS Code or Colab (File > Download > .ipynb) and check that file"
    if isinstance(e, ModuleNotFoundError) and e.name:
        return (f"the package {e.name!r} is not available on the grader: your code may import "
                f"{', '.join(RUNTIME_PACKAGES)} and Python's standard library. Remove the import (and what uses it)")
    how = "run the notebook's cells from the top" if path.endswith(".ipynb") else "run `python " + \
        os.path.basename(path) + "`"
    return f"your code fails while being run: {how} to see why"


def _context():
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


def _torch_oracle(timeout=120):
    """torch autograd's gradients (torch_gradients), or None where torch is not installed or fails."""
    result, _ = _in_child(torch_gradients, (), timeout)
    return result


def _in_child(target, args, timeout):
    """What `target(*args, connection)` sends from a child process within `timeout` seconds, or
    (None, exit code) when it sends nothing: a hang (None) or a crash. The child never outlives this
    call: it is killed here whatever happens (Ctrl-C included), and dies by itself if this process
    is killed first (_watched)."""
    context = _context()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_watched, args=(os.getpid(), target, *args, send), daemon=True)
    child.start()
    send.close()
    try:
        if receive.poll(timeout):
            try:
                result = receive.recv()
                child.join(1)
                return result, 0
            except EOFError:
                pass
    finally:
        if child.is_alive():  # (SIGKILL: code that ignores SIGTERM, as an endless loop may, stops too)
            child.kill()
        child.join()
    return None, child.exitcode


def _watched(parent, target, *args):
    """In the child: run target(*args), exiting as soon as the selfcheck that started it is gone (killed,
    or its terminal closed), so an endless loop in your code never outlives it."""
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    target(*args)


def runtime_modules():
    """The top-level modules the autograder's runtime offers, as installed here (importable_modules:
    read from the installed packages' metadata, so found once a run and handed to every check)."""
    return importable_modules(RUNTIME_PACKAGES)


def run_top_level(path, timeout=CALL_TIMEOUT, allowed=None):
    """{"events": [...]} (what of your file's top-level code did not run as written: toplevel's run),
    or {"error": ..., "hint": ...} when it cannot run at all. allowed: runtime_modules()."""
    allowed = runtime_modules() if allowed is None else allowed
    result, code = _in_child(_top_level_child, (path, allowed), timeout + TOPLEVEL_SECONDS * WALL_CLOCK_FACTOR)
    if result is None:
        reason = "did not finish" if code in (None, -9) else f"the process died (exit code {code})"
        return {"error": f"running your file's top-level code {reason}", "hint": "look for code that kills the process"}
    return result


def run_group(path, function, trusted, timeout=CALL_TIMEOUT, oracle=None, skip=(), allowed=None):
    """All checks of one function, in a child process with a time limit. allowed: runtime_modules()."""
    parts = [p for p, _, fn, _ in PARTS if fn == function]
    allowed = runtime_modules() if allowed is None else allowed
    result, code = _in_child(_child, (path, allowed, function, trusted, oracle, skip), timeout + TOPLEVEL_SECONDS)
    if result is not None:
        return [Check(**c) for c in result]
    reason = (f"did not finish within {timeout:g} s" if code in (None, -9)
              else f"the process died (exit code {code}: a crash, or os._exit)")
    return [Check(p, "run", False, reason, "look for an infinite loop, or code that kills the process")
            for p in parts]


def _arguments(argv):
    parser = argparse.ArgumentParser(
        prog="selfcheck.py", description="Check your homework as the autograder does, before you upload it.",
        epilog="From a notebook: %run selfcheck.py homework.ipynb (save the notebook first).")
    parser.add_argument("path", nargs="?", help="your two_layer_net.py or notebook (.ipynb); default: "
                        "two_layer_net.py (or two_layer_net.ipynb) beside selfcheck.py")
    parser.add_argument("--timeout", type=float, default=CALL_TIMEOUT, metavar="SECONDS",
                        help=f"for all the checks of one function (default {CALL_TIMEOUT:g})")
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON, for tools")
    return parser.parse_args(argv)


def _default_path():
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("two_layer_net.py", "two_layer_net.ipynb"):
        if os.path.exists(os.path.join(here, name)):
            return os.path.join(here, name)
    return os.path.join(here, "two_layer_net.py")


def check(path=None, timeout=CALL_TIMEOUT):
    """Check a file (a .py or a notebook) and print the report; 0 if every check passes, else 1 (2: no
    such file). For a notebook cell: `import selfcheck; selfcheck.check("homework.ipynb")`."""
    return main([path or _default_path(), "--timeout", str(timeout)])


def main(argv):
    """The command line (argv without the program's name); the exit status."""
    try:
        options = _arguments(argv)
    except SystemExit as e:  # --help, or a usage error (already printed)
        return e.code if isinstance(e.code, int) else 2
    path = options.path or _default_path()
    if not os.path.isfile(path):
        print(terminal(f"selfcheck: {path} not found"))
        return 2
    foreign = foreign_imports(path)
    if foreign and not options.json:
        print(terminal(f"warning: your file imports {', '.join(foreign)}, which the autograder does not have (it "
                       f"has {', '.join(RUNTIME_PACKAGES)} and Python's standard library): on Gradescope that "
                       "import fails, and so does everything that uses it. Remove the import.\n"))
    allowed = runtime_modules()
    top = run_top_level(path, options.timeout, allowed)
    skip = {(e["cell"], e["line"]) for e in top.get("events", []) if e["outcome"] == "stopped"}
    checks, trusted = [], set()
    for function in GROUPS:
        oracle = _torch_oracle() if function == "backward" else None
        group = run_group(path, function, trusted, options.timeout, oracle, skip, allowed)
        checks += group
        trusted |= {p for p, _, fn, _ in PARTS if fn == function and all(c.passed for c in checks_of(group, p))}
    if options.json:
        verdicts = {p: all(c.passed for c in checks_of(checks, p)) for p, _, _, _ in PARTS}
        shown = [dict(c.__dict__, received=None) for c in checks]
        causes = {part: title for part, (title, _) in explain(checks).items()}
        print(json.dumps({"fingerprint": FINGERPRINT, "parts": verdicts, "checks": shown, "causes": causes,
                          "foreign_imports": foreign, "toplevel": top.get("events", [])}))
        return 0 if all(verdicts.values()) else 1
    return report(path, checks, top.get("events", []))


def foreign_imports(path):
    """The top-level packages the file imports that are neither in the grader's runtime, nor in the
    standard library (Python 3.10+ knows its list), nor files beside it, nor display-only (those get
    stand-ins). Read, never run."""
    import ast

    names = set()
    try:
        for _, filename, source in units(path):
            try:
                tree = ast.parse(source, filename)
            except (SyntaxError, ValueError):
                continue
            names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
            names |= {node.module for node in ast.walk(tree)
                      if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    except (OSError, SyntaxError, ValueError):
        return []
    standard = getattr(sys, "stdlib_module_names", None)
    if standard is None:
        return []
    here = os.path.dirname(os.path.abspath(path))
    packages = {name.split(".")[0] for name in names if not _display_only(name)}
    return sorted(n for n in packages if n not in standard and n not in RUNTIME_PACKAGES and n != "__future__"
                  and not os.path.exists(os.path.join(here, n + ".py")) and not os.path.isdir(os.path.join(here, n)))


def checks_of(checks, part):
    """The checks of a part that count (a diagnostic case only feeds the diagnosis)."""
    return [c for c in checks if c.part == part and not (c.case >= 0 and PUBLIC_CASES[c.case]["diagnostic"])]


def explain(checks):
    """{part: (title, message)}: the likely cause of a failing part, by the autograder's evidence rule,
    from your answers on the public and diagnostic cases."""
    seen_by_part, other_forms = {}, set()
    for part, _, _, _ in PARTS:
        seen, other_form = [], False
        for c in checks:
            if c.part != part or c.case < 0:
                continue
            case = PUBLIC_CASES[c.case]
            x, b1, b2 = (case["inputs"][name] for name in ("x", "b1", "b2"))
            received = None if c.received is None else np.array(c.received, dtype=np.float64)
            expected = expected_for(case, part, received)
            handout_form = np.array(case["expected"][part], dtype=np.float64)
            other_form |= expected.shape != handout_form.shape or not np.array_equal(expected, handout_form)
            seen.append(Seen(str(c.case), received, expected, c.passed,
                             np.array(case["given"]["z1"]), {"n": len(x), "h": len(b1), "k": len(b2), "1": 1},
                             np.array(case["magnitude"][part]), _answer_of(case, part),
                             {name: np.array(value, dtype=np.float64) for name, value in case["inputs"].items()}))
        # judged against the other accepted answer somewhere (a convention set to "either"): the
        # part's own claims are about the handout's form, not the one you chose, so they say nothing
        seen_by_part[part] = seen
        if other_form:
            other_forms.add(part)
    tolerances = {part: Tolerance(*TOLERANCES[part]) for part, _, _, _ in PARTS}
    with np.errstate(all="ignore"):
        found = explain_parts(seen_by_part, tolerances, _groups,
                              lambda part, claims: one_of_each(claims, CLAIMS[part]["classes"]), CONVENTIONS,
                              other_forms)
    return {part: in_words(finding) for part, finding in found.items()}


def _answer_of(case, part):
    """A claim's answer on a case: the shipped numbers, or none where it is the right answer."""
    def answer(key):
        value = case["answers"][part].get(CLAIMS[part]["classes"].get(key, key))
        return np.array(case["expected"][part] if value is None else value, dtype=np.float64)
    return answer


def _groups(part, seen, b2_right):
    data = CLAIMS[part]
    known = [known_claim(*claim) for claim in data["known"]]
    computed = [computed_claim(part, quantity, words, step, b2_right, CONVENTIONS)
                for quantity, words, step in data["computed"]]
    return [known, relation_claims(), computed, localisation_claims(part, seen, CONVENTIONS)]


def _failure(mine, cause):
    """The lines under a failing part: its likely cause, the failing public cases in a line, the other
    failing checks in a line, and a hint once (none where a cause is named: it says more)."""
    lines = [f"      likely cause: {cause[1]}"] if cause else []
    public = [c for c in mine if c.case >= 0 and not c.passed]
    if public:
        first = public[0].message.splitlines()[0] if public[0].message else ""
        lines.append(f"      x {len(public)} of {sum(1 for c in mine if c.case >= 0)} public cases fail; first: "
                     f"{public[0].name[len('public case: '):]}: {first}")
    others = [c for c in mine if c.case < 0 and not c.passed]
    if others:
        lines.append("      x " + ("also fails: " if public else "") + "; ".join(
            c.name + (f" ({c.message.splitlines()[0]})" if c.message else "") for c in others))
    hints = list(dict.fromkeys(c.hint for c in mine if c.hint and not c.passed))
    if hints and not cause:
        lines.append(f"      hint: {hints[0]}")
    return lines


def top_level_lines(events):
    """What of the file's top-level code did not run as written, a line each (as the autograder says it)."""
    if not events:
        return []
    lines = ["Top-level code that did not run as written (the autograder runs the rest, and so did this check):"]
    for e in events:
        what = event_words(e)  # (the autograder's own words: toplevel.py, copied in below)
        if e["outcome"] == "failed" and e.get("module"):
            what += (f" (the package {e['module'].split('.')[0]!r} is not available on the grader: remove the "
                     "import, and what uses it)")
        lines.append(f"  - {what}")
    if any(e["outcome"] == "stopped" and e["cell"] is None for e in events):
        lines.append("  " + MAIN_GUARD_ADVICE)
    return lines + [""]


def report(path, checks, events=()):
    """One line per part; for a failing one, its likely cause, the failing public cases in a line, the
    other failing checks in a line, and a hint once. Before them, what of the top-level code did not run."""
    print(terminal(f"Self-check of {path} (handout {FINGERPRINT})\n"))
    for line in top_level_lines(events):
        print(terminal(line))
    causes = explain(checks)
    passed_parts, said = 0, {}  # what a failing part's block says -> the first part that said it
    for part, title, _, _ in PARTS:
        mine = checks_of(checks, part)
        ok = all(c.passed for c in mine)
        passed_parts += ok
        ran = [c for c in mine if not c.skipped]
        line = f"{'PASS' if ok else 'FAIL'}  {part:<16} {title:<22} {sum(c.passed for c in ran)}/{len(ran)} checks"
        block = [] if ok else _failure(mine, causes.get(part))
        words = "\n".join(block).replace(part, "")
        if block and words in said and not words.startswith("      likely cause"):
            print(terminal(f"{line} (as {said[words]})"))  # one import error fails every part: said once
            continue
        said.setdefault(words, part)
        print(terminal("\n".join([line] + block)))  # (messages of the student's code in it: made visible)
    ran = [c for p, _, _, _ in PARTS for c in checks_of(checks, p) if not c.skipped]
    torch_note = " (torch autograd used as an extra oracle)" if any(c.name == "torch autograd" for c in checks) else ""
    print(f"\n{sum(c.passed for c in ran)} of {len(ran)} visible checks passed{torch_note}; "
          f"{passed_parts} of {len(PARTS)} parts pass here.")
    print("Gradescope runs more (hidden) tests on random inputs: passing here does not guarantee full marks.")
    return 0 if passed_parts == len(PARTS) else 1


# ==============================================================================================
# You need not read on: below are the autograder's own rules, copied in when the course built this
# handout, and the public cases and the course's settings, as data.
# ==============================================================================================

# === the comparison rule, the autograder's own (filled in by `python -m autograder handout`) ===


# === the evidence rule of diagnoses, the autograder's own (filled in likewise) ===


# === how an answer relates to the right one: rounded, reshaped, localised (filled in likewise) ===


# === across the parts: each explained after those it is built from (filled in likewise) ===


# === what makes text safe to print, the autograder's own (filled in likewise) ===

# === what your code may import, the autograder's own rule (filled in likewise) ===

# === how your file's top-level code runs, the autograder's own rule (filled in likewise) ===


# --- the public cases and the course's settings (data) ---------------------------------------
TOLERANCES = None  # part id -> (rtol, atol)
# "jacobians" ("matrix", "diagonal", "either"), "relu_derivative_at_zero" (0, 1, "either"), "loss" ("sum", "mean")
CONVENTIONS = None
RUNTIME_PACKAGES = None  # what your code may import besides Python's standard library
TOPLEVEL_SECONDS = None  # CPU seconds for your file's top-level code, as on the autograder
WALL_CLOCK_FACTOR = None  # wall-clock seconds allowed per CPU second, for code that waits
# part id -> the likely causes a diagnosis may name ("known", "computed") and which are the same ("classes")
CLAIMS = None
# The public test vectors: the autograder's visible cases (then the diagnostic ones, which only feed
# the diagnosis): inputs, expected values, and each likely cause's answer on the case
PUBLIC_CASES = None


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
        sys.stdout.flush()  # here, not at exit, where a closed pipe could only be complained about
    except BrokenPipeError:  # `python selfcheck.py | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 141
    if not hasattr(builtins, "__IPYTHON__"):  # (in a notebook, `%run` would print a SystemExit for it)
        sys.exit(status)
