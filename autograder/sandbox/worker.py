"""The sandboxed worker: imports the student's module and calls its functions on request.

Runs in its own process, forked by the zygote (zygote.py) for calls.py, never inside the
grader; it can also run as a script (below). It reads request frames (each a batch of calls) on
one pipe and answers each call on another (protocol.py); the student's prints are captured per
call and sent back as text, capped.
Everything it returns is untrusted: the grader re-checks every array it receives and computes
every score itself.

Usage: python -I worker.py REQUEST_FD RESPONSE_FD MODULE_PATH MAX_OUTPUT_CHARS MAX_RESULT_BYTES IMPORTABLE
WRITABLE TOPLEVEL_SECONDS WALL_CLOCK_FACTOR [SECCOMP_HEX]
Imports only the standard library and numpy (protocol.py, seccomp.py, runtime.py, landlock.py and
toplevel.py are loaded by file path; so is contract.py, where the homework has one: how a call's name
reaches the submission, for a contract other than module-level functions). MODULE_PATH: a .py file or
a notebook, whose top-level code is run one statement at a time within TOPLEVEL_SECONDS of CPU time
(toplevel.py). IMPORTABLE: the top-level modules besides the standard library and the submission's own
files that it may import, comma-separated ("-": whatever is installed; runtime.py). WRITABLE: a JSON
list of the folders beneath which it may write files ("-": anywhere its user may; landlock.py). With
SECCOMP_HEX, that filter is installed. All of it before the submission is imported.
"""

import importlib.machinery
import importlib.util
import io
import json
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SUBMISSION_DIR = ""  # set by main(): stripped from traceback paths, which then read "two_layer_net.py"


_LOADED = {}
_times = os.times  # bound before student code runs, which may replace os.times (it would gain only
# time up to the wall-clock backstop: the grader reads the CPU time itself, from the zygote)


def _load(name):
    """protocol.py, seccomp.py, runtime.py, landlock.py or toplevel.py, loaded by file path (once per process)."""
    if name not in _LOADED:
        spec = importlib.util.spec_from_file_location(f"_autograder_{name}", os.path.join(HERE, f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _LOADED[name] = module
    return _LOADED[name]


def preload():
    """Load what main() needs before any submission exists (the zygote calls this once)."""
    _load("protocol")
    _load("seccomp")
    _load("runtime")
    _load("landlock")
    _load("toplevel")
    _contract()


def _contract():
    """The homework's contract.py (its resolve(module, name): what a call of `name` runs, None where the
    submission lacks it), where the grader shipped one; None: a call names a module-level function."""
    return _load("contract") if os.path.exists(os.path.join(HERE, "contract.py")) else None


class CappedText(io.TextIOBase):
    """A text stream keeping the first `limit` characters and counting the rest."""

    def __init__(self, limit):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def reset(self):
        """Forget what was written (the submission's top level is run again: toplevel.run)."""
        self.parts, self.size, self.dropped = [], 0, 0

    def text(self):
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n... [{self.dropped} more characters of output cut]"
        return out


def _student_traceback(exc):
    """The traceback text without the worker's own frames (which call the student's function, or refuse
    an import outside the runtime: runtime.py) or the import system's, so that it reads as where the
    student runs the file, chained exceptions included."""
    def own(filename):
        return os.path.dirname(os.path.abspath(filename)) == HERE or filename.startswith("<frozen importlib")

    shown = traceback.TracebackException.from_exception(exc)
    todo, seen = [shown], set()
    while todo:
        part = todo.pop()
        if part is None or id(part) in seen:
            continue
        seen.add(id(part))
        part.stack = traceback.StackSummary.from_list([f for f in part.stack if not own(f.filename)])
        todo += [part.__cause__, part.__context__]
    text = "".join(shown.format())
    if SUBMISSION_DIR:
        text = text.replace(SUBMISSION_DIR + os.sep, "")
    return text[-4000:]


def _warn_relatively():
    """Warnings name the submission's files as tracebacks do ("two_layer_net.py:35: RuntimeWarning"): the
    scratch folder's path differs from one grading to the next, and the student never saw it."""
    import linecache
    import warnings

    plain = warnings.formatwarning

    def formatwarning(message, category, filename, lineno, line=None):
        if line is None:  # (read from the file's real path)
            line = linecache.getline(filename, lineno)
        if SUBMISSION_DIR and str(filename).startswith(SUBMISSION_DIR + os.sep):
            filename = filename[len(SUBMISSION_DIR) + 1:]
        return plain(message, category, filename, lineno, line)

    warnings.formatwarning = formatwarning


def _describe_error(exc):
    if isinstance(exc, SyntaxError):
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        code = (exc.text or "").rstrip("\n")
        return {"type": type(exc).__name__, "message": f"{exc.msg} ({where})", "line": exc.lineno,
                "traceback": f"{type(exc).__name__}: {exc.msg} at {where}\n    {code}"}
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = f"the code called sys.exit({exc.code!r})"
    elif isinstance(exc, NotImplementedError) and not message:
        message = "not implemented yet"
    described = {"type": type(exc).__name__, "message": message[:500], "traceback": _student_traceback(exc)}
    if isinstance(exc, ModuleNotFoundError) and isinstance(exc.name, str):
        described["module"] = exc.name[:200]  # the module not found, as data (the runtime guard names it too)
    return described


def _to_array(value, np, max_bytes):
    """(spec-ready ndarray, None) or (None, (kind, detail)) for one returned value: the grader words
    the kind itself ("unconvertible", "not numeric", "too large"); the detail is shown as code."""
    kind = type(value)
    if kind.__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        # a torch tensor: converted through its own methods, without importing torch here
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except Exception as e:  # ragged lists, objects that refuse conversion
        return None, ("unconvertible", f"{type(e).__name__}: {str(e)[:200]}")
    if array.dtype.kind not in "fiub" or array.dtype.hasobject:
        return None, ("not numeric", f"a value of type {kind.__name__} (array dtype {array.dtype})")
    if array.nbytes > max_bytes:
        return None, ("too large", f"{array.nbytes} bytes, shape {array.shape}; the cap is {max_bytes} bytes")
    return array, None


def main(argv):
    request_fd, response_fd = int(argv[1]), int(argv[2])
    module_path, max_chars, max_bytes = argv[3], int(argv[4]), int(argv[5])
    global SUBMISSION_DIR
    SUBMISSION_DIR = os.path.dirname(os.path.abspath(module_path))
    _warn_relatively()
    protocol = _load("protocol")
    if argv[7] != "-":  # files written only in its own folders (a tmpfs elsewhere would hold uncounted memory)
        _load("landlock").restrict(json.loads(argv[7]))
    toplevel_seconds, wall_clock_factor = float(argv[8]), float(argv[9])
    if len(argv) > 10:  # refuse network sockets to everything from here on (and to all children)
        _load("seccomp").install(bytes.fromhex(argv[10]))
    import numpy as np

    contract = _contract()  # (before student code runs)
    if argv[6] != "-":  # the course's runtime, not this machine's: what Gradescope's image would import
        _load("runtime").install_guard(argv[6].split(",") if argv[6] else [], SUBMISSION_DIR)

    def send(header, arrays=()):
        specs, payload = protocol.encode_arrays(list(arrays))
        header["arrays"] = specs
        # the CPU time used so far: the grader counts the next call's from here (calls.py)
        used = _times()
        header["cpu"] = used.user + used.system + used.children_user + used.children_system
        try:
            protocol.write_all(response_fd, protocol.pack_frame(header, payload))
        except BrokenPipeError:  # the grader has given up on this worker: nobody is left to tell
            os._exit(0)

    # The student's folder is the only non-library entry of sys.path, as for `python two_layer_net.py`.
    sys.path.insert(0, os.path.dirname(module_path))
    sys.argv = [module_path]
    name = os.path.splitext(os.path.basename(module_path))[0]
    capture = CappedText(max_chars)
    toplevel = _load("toplevel")
    try:
        spec = importlib.machinery.ModuleSpec(name, None, origin=module_path)
        spec.has_location = True  # (so the module has its __file__)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = capture
        try:
            # one statement at a time: one that fails or runs on is reported, the rest still runs
            events = toplevel.run(toplevel.units(module_path), vars(module), toplevel_seconds, wall_clock_factor,
                                  restart=capture.reset)
        finally:
            sys.stdout, sys.stderr = old
    except BaseException as e:  # SystemExit and KeyboardInterrupt included: report, never die silently
        send({"status": "import_error", "error": _describe_error(e), "stdout": capture.text()})
        return 0
    functions = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")][:200]
    send({"status": "ready", "stdout": capture.text(), "functions": functions, "toplevel": events[:100]})

    while True:
        # A request holds a batch of calls, read in full before any student code runs; each call's
        # answer goes back as soon as it is ready, so the grader times every call on its own.
        frame = protocol.read_frame_blocking(request_fd)
        if frame is None:
            return 0
        header, payload = frame
        arrays = protocol.decode_arrays(header["arrays"], payload, max_bytes=1 << 30)
        for call in header["calls"]:
            args, arrays = arrays[:call["nargs"]], arrays[call["nargs"]:]
            reply, results = _call(module, call["function"], call.get("keys"), args, np, max_chars, max_bytes,
                                   contract)
            reply["id"] = call["id"]  # lets the grader tell this answer from anything student code wrote
            send(reply, results)


def _call(module, function, keys, args, np, max_chars, max_bytes, contract=None):
    """Call module.function(*args) (or what the homework's contract resolves `function` to); return
    (header, arrays) describing what it gave back."""
    if contract is None:
        fn = getattr(module, function, None)
    else:
        try:
            fn = contract.resolve(module, function)
        except Exception:  # noqa: BLE001 - student code can make resolving fail (a property that raises)
            fn = None
    if fn is None:
        return {"status": "missing"}, ()
    capture = CappedText(max_chars)
    old = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = capture
    try:
        header, arrays = _run(fn, function, keys, args, np, max_bytes)
    except MemoryError:
        header, arrays = {"status": "oom"}, ()
    except BaseException as e:  # SystemExit included: it fails this call, not the worker
        header, arrays = {"status": "error", "error": _describe_error(e)}, ()
    finally:
        sys.stdout, sys.stderr = old
    header["stdout"] = capture.text()
    return header, arrays


def _run(fn, function, keys, args, np, max_bytes):
    if not callable(fn):
        raise TypeError(f"{function} is not a function (it is a {type(fn).__name__})")
    value = fn(*args)
    if keys is None:
        outputs = {"return": value}
    elif isinstance(value, dict):
        outputs = {key: value[key] for key in keys if key in value}
    else:
        raise TypeError(f"{function} must return a dict with keys {', '.join(keys)}; "
                        f"it returned a {type(value).__name__}")
    names, arrays, problems = [], [], {}
    for key, item in outputs.items():
        array, problem = _to_array(item, np, max_bytes)
        if problem:
            problems[key] = list(problem)
        else:
            names.append(key)
            arrays.append(array)
    return {"status": "ok", "names": names, "problems": problems}, arrays


if __name__ == "__main__":
    sys.exit(main(sys.argv))
