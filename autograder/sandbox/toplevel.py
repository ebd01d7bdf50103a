"""A submission's top-level code, run one statement at a time: a .py file's, or a notebook's code cells.

Importing a file runs everything at its top level. A student's file often holds more than the
functions graded: a training loop, a test call, a plot, an import the grader does not offer. Each
top-level statement is run on its own (in order, in the module's namespace), so one that fails or
runs on stops only its own effects: what the file defines before and after it is graded. Every such
statement is reported as data (`run`'s events: where, what, why), never as printed text.

- Time: all top-level code together gets `budget` seconds of CPU time (and `wall_factor` times that of
  wall-clock time, for code that waits); each statement may use half of what is left (at least
  FLOOR_SECONDS), so a long one is stopped and the definitions after it still run.
- A failing statement (an exception, sys.exit()) is reported and the next one runs. A .py that does
  not parse fails as a whole (SyntaxError), as its import would; a notebook cell that does not parse
  is reported and skipped.
- Display-only packages (DISPLAY_ONLY: plotting, progress bars, notebook widgets, Colab's drive) that
  the runtime does not offer are replaced by stand-ins that do nothing (a progress bar passes its
  iterable through), and reported: plots are not graded.

Notebooks: the code cells, numbered as in the notebook, with IPython magics and shell lines dropped
(`%matplotlib inline`, `!pip install ...`, `%%bash` cells); `%%time`, `%%timeit` and `%%capture`
cells keep their Python; `display` is defined, as in Jupyter. Saved outputs (plots, tables) are never
looked at: only the code counts against MAX_CODE_CHARS. Read with the standard library (formats 4
and 3): nbformat would do the same but brings jsonschema, traitlets and jupyter_core into the runtime.

Runs in the worker (loaded by file path, like runtime.py), so an upload's notebook is parsed in the
sandbox, under its limits, never in the grader; and, copied, in the students' selfcheck.py, so both
run a file the same way. Standard library only, and nothing of the project.
"""

# --- shared with the students' selfcheck.py (handout.py copies it in): stdlib only ---
import __future__

import ast
import json
import os
import signal
import sys
import time
import tokenize
import types

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024  # the whole file, saved plots included (real ones reach tens of MB)
MAX_CODE_CHARS = 2 * 1024 * 1024  # the code cells together
KEPT_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")  # the cell's code runs without them


class NotebookError(ValueError):
    """The file is not a notebook that can be graded."""


def too_large(path):
    """Why the file at `path` is too large to be read as a notebook, or "" (a check that reads nothing)."""
    size = os.path.getsize(path)
    if size <= MAX_NOTEBOOK_BYTES:
        return ""
    return (f"{os.path.basename(path)} is {size / 2**20:.0f} MB, over the {MAX_NOTEBOOK_BYTES // 2**20} MB a "
            "notebook may be (saved outputs included): clear its outputs (Edit > Clear all outputs) and "
            "upload it again")


def code_cells(path):
    """[(cell number, Python source)] of the notebook's code cells that hold Python (1 = the first cell).
    Raises NotebookError for a file that is too large, not a notebook, or holds too much code."""
    problem = too_large(path)
    if problem:
        raise NotebookError(problem)
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            document = json.load(f)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise NotebookError(f"{name} is not a valid notebook (not JSON: {str(e)[:200]})") from None
    if not isinstance(document, dict):
        raise NotebookError(f"{name} is not a valid notebook")
    if isinstance(document.get("cells"), list):  # format 4
        cells = [(c.get("cell_type"), c.get("source")) for c in document["cells"] if isinstance(c, dict)]
    else:  # format 3: worksheets of cells, code in "input"
        cells = [(c.get("cell_type"), c.get("input")) for w in document.get("worksheets") or []
                 if isinstance(w, dict) for c in w.get("cells") or [] if isinstance(c, dict)]
    out, size = [], 0
    for number, (kind, source) in enumerate(cells, start=1):
        if kind != "code":
            continue
        if isinstance(source, list):
            source = "".join(line for line in source if isinstance(line, str))
        python = strip_magics(source if isinstance(source, str) else "")
        size += len(python)
        if size > MAX_CODE_CHARS:
            raise NotebookError(f"{name} holds more than {MAX_CODE_CHARS // 2**20} MB of code")
        if python.strip():
            out.append((number, python))
    return out


def strip_magics(source):
    """The cell without IPython syntax: line magics and shell lines become blank lines."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        if lines[0].split()[0] not in KEPT_CELL_MAGICS:
            return ""  # %%bash, %%html, %%writefile...: not Python
        lines = [""] + lines[1:]
    kept = []
    for line in lines:
        stripped = line.lstrip()
        magic = stripped.startswith(("%", "!")) or "get_ipython()" in stripped
        kept.append("" if magic else line)
    return "\n".join(kept)

# --- running it -------------------------------------------------------------------------------
FLOOR_SECONDS = 0.1  # of CPU time, the least a statement gets once the budget is nearly spent
SHARE = 0.5  # of the budget left, the most one statement may use
MAX_SHOWN = 160  # characters of a statement's first line (or a module's name) kept in an event
MAX_ERROR = 300  # characters of an error kept in an event
# packages only used to show things: where the runtime lacks one, a stand-in takes its place
DISPLAY_ONLY = ("matplotlib", "seaborn", "plotly", "IPython", "ipywidgets", "google.colab", "tqdm")


def units(path):
    """[(cell number or None, file name for tracebacks, Python source)] of the file at `path`: a
    notebook's code cells (code_cells), or a .py as one unit (None: a SyntaxError fails it whole)."""
    if path.endswith(".ipynb"):
        return [(number, f"<cell {number}>", source) for number, source in code_cells(path)]
    try:
        with tokenize.open(path) as f:  # in the encoding its coding line names, as an import reads it
            return [(None, path, f.read())]
    except UnicodeDecodeError as e:
        raise SyntaxError(f"the file is not valid UTF-8 text ({e.reason} at byte {e.start})") from None


class _Stop(BaseException):
    """A statement's time is up (raised from a timer's signal, so student code catching Exception
    does not hold it)."""


class _Nothing:
    """A stand-in for anything of a display-only package: calling it, its attributes, items and
    context all give stand-ins and do nothing; it unpacks as a pair, as `fig, ax = plt.subplots()`."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter((self, self))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _progress(iterable=None, *args, **kwargs):
    """tqdm's stand-in: the iterable itself (or a bar that does nothing)."""
    return _Nothing() if iterable is None else iterable


def _progress_range(*args, **kwargs):
    return range(*args)


class _StandIn(types.ModuleType):
    """A display-only module the runtime does not offer: every attribute is a stand-in (tqdm's bars
    pass their iterable through)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if self.__name__.split(".")[0] == "tqdm" and name in ("tqdm", "trange"):
            return _progress if name == "tqdm" else _progress_range
        return _Nothing()


def _display_only(name):
    """The display-only package (a DISPLAY_ONLY root) module `name` belongs to, or None."""
    return next((root for root in DISPLAY_ONLY if name == root or name.startswith(root + ".")), None)


def _imported_modules(statement):
    """The modules an import statement names (absolute ones only), else []."""
    if isinstance(statement, ast.Import):
        return [alias.name for alias in statement.names]
    if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
        return [statement.module]
    return []


def _stand_in(names):
    """Put stand-ins in sys.modules for the display-only modules `names` and their parents."""
    for name in names:
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            full = ".".join(parts[:depth])
            if sys.modules.get(full) is None:  # (None: an import of it was refused)
                sys.modules[full] = _StandIn(full)
            if depth > 1:
                setattr(sys.modules[".".join(parts[:depth - 1])], parts[depth - 1], sys.modules[full])


def _error_words(e):
    """An exception as one line, e.g. "NameError: name 'plt' is not defined" (at most MAX_ERROR characters:
    the student's code chose its message)."""
    if isinstance(e, SystemExit):
        words = f"the code called sys.exit({e.code!r})"
    elif isinstance(e, SyntaxError):
        words = f"SyntaxError: {e.msg}"
    else:
        words = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    return words[:MAX_ERROR]


class _Budget:
    """What is left of the top-level code's time: CPU seconds, with wall-clock time counted at
    1/wall_factor (so code that waits is stopped too)."""

    def __init__(self, seconds, wall_factor):
        self.left, self.wall_factor = seconds, wall_factor

    def next_share(self):
        return max(FLOOR_SECONDS, SHARE * self.left)

    def timed(self, code, namespace, seconds):
        """Run `code` in `namespace` for at most `seconds` (CPU) and wall_factor times that of wall-clock
        time; raises _Stop when time is up, whatever the statement raised."""
        cpu, wall = time.process_time(), time.monotonic()
        running, fired = [True], [False]

        def stop(signum, frame):
            if running[0]:
                fired[0] = True
                raise _Stop()

        timers = ((signal.SIGPROF, signal.ITIMER_PROF, seconds),
                  (signal.SIGALRM, signal.ITIMER_REAL, seconds * self.wall_factor))
        try:
            previous = [signal.signal(signum, stop) for signum, _, _ in timers]
        except ValueError:  # not the main thread (a tool calling this): no timers, the caller's limit holds
            previous = None
        try:
            if previous is not None:
                for _, timer, limit in timers:  # (repeating: code that swallows one stop meets the next)
                    signal.setitimer(timer, limit, 0.05)
            exec(code, namespace)
            running[0] = False
        except BaseException as e:
            running[0] = False
            # its time was up: a stop that the code (or a library it was in) turned into another error. Told
            # by the stop having been raised: the kernel's count of CPU time, which fires the timer, may run
            # ahead of process_time's on a loaded machine, so the clocks alone could miss it
            if not isinstance(e, _Stop) and (fired[0] or time.process_time() - cpu >= 0.99 * seconds
                                             or time.monotonic() - wall >= 0.99 * seconds * self.wall_factor):
                raise _Stop().with_traceback(e.__traceback__) from None
            raise
        finally:
            running[0] = False
            if previous is not None:
                for (signum, timer, _), handler in zip(timers, previous):
                    signal.setitimer(timer, 0)
                    signal.signal(signum, handler)
            used = max(time.process_time() - cpu, (time.monotonic() - wall) / self.wall_factor)
            self.left = max(0.0, self.left - used)


def run(file_units, namespace, budget, wall_factor, skip=(), restart=None):
    """Run `file_units` (units()) in `namespace` one top-level statement at a time; return what did not
    run as written, as events (dicts): {"cell": number or None, "line": n, "code": its first line,
    "outcome": "stopped" (with "seconds"), "failed" (with "error", and "module" for a missing one) or
    "stand-in" (with "module")}.

    budget: CPU seconds for all of it; wall_factor: wall-clock seconds allowed per CPU second;
    skip: (cell, line) of statements not to run (a later run of a file whose statements were stopped);
    restart: called before a .py is run again statement by statement (the worker forgets what the
    first try printed). Raises SyntaxError for a .py that does not parse.

    A .py is first run whole (compiling it whole costs a fifth of parsing it into statements, in a
    freshly forked worker); only if that fails or runs on is it run again, from a fresh namespace,
    one statement at a time."""
    clock = _Budget(budget, wall_factor)
    stopped = None  # (line the whole run was stopped on, the seconds it had): that statement is not run again
    if len(file_units) == 1 and file_units[0][0] is None and not skip:
        _, filename, source = file_units[0]
        fresh = dict(namespace)
        code = compile(source, filename, "exec", dont_inherit=True)  # (a SyntaxError fails the file, as said)
        seconds = clock.next_share()
        try:
            clock.timed(code, namespace, seconds)
            return []
        except _Stop as e:
            stopped = (_top_level_line(e, code), round(seconds, 2))
        except BaseException:  # noqa: BLE001 - a statement failed: again, one at a time, to find which
            pass
        namespace.clear()
        namespace.update(fresh)
        if restart is not None:
            restart()
    events = []
    flags = 0  # the __future__ features imported so far, for every later statement
    if any(cell is not None for cell, _, _ in file_units):
        namespace.setdefault("display", _Nothing())  # Jupyter's, defined without an import
    for cell, filename, source in file_units:
        try:
            tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST | flags, dont_inherit=True)
        except SyntaxError as e:
            if cell is None:
                raise
            events.append({"cell": cell, "line": e.lineno or 0, "code": (e.text or "").strip()[:MAX_SHOWN],
                           "outcome": "failed", "error": _error_words(e)})
            continue
        if cell is None:
            namespace["__doc__"] = ast.get_docstring(tree)
        lines = source.splitlines()
        for statement in tree.body:
            if (cell, statement.lineno) in skip:
                continue
            event = {"cell": cell, "line": statement.lineno,
                     "code": lines[statement.lineno - 1].strip()[:MAX_SHOWN] if statement.lineno <= len(lines) else ""}
            if stopped and statement.lineno <= stopped[0] <= (statement.end_lineno or statement.lineno):
                events.append(dict(event, outcome="stopped", seconds=stopped[1]))
                continue
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                for alias in statement.names:
                    flags |= getattr(getattr(__future__, alias.name, None), "compiler_flag", 0)
            try:
                code = compile(ast.Module(body=[statement], type_ignores=[]), filename, "exec", flags,
                               dont_inherit=True)
            except SyntaxError as e:  # ("return" outside a function, say: found only when compiled)
                events.append(dict(event, outcome="failed", error=_error_words(e)))
                continue
            event.update(_run_statement(clock, code, namespace, statement))
            if "outcome" in event:
                events.append(event)
    return events


def event_words(event):
    """An event of run() in a line, as the grader and selfcheck.py both say it: where, its code, what
    happened ("cell 8, line 3 `while True:`: stopped after 4 s of CPU time (...)")."""
    where = f"cell {event['cell']}, line {event['line']}" if event.get("cell") is not None else f"line {event['line']}"
    code = f" `{event['code']}`" if event.get("code") else ""
    if event.get("outcome") == "stopped":
        what = f"stopped after {event.get('seconds', 0):.2g} s of CPU time (a training loop or a long computation?)"
    elif event.get("outcome") == "stand-in":
        what = f"{event.get('module')} is not offered by the grader; a stand-in that does nothing took its place"
    else:
        what = event.get("error", "")
    return f"{where}{code}: {what}"


MAIN_GUARD_ADVICE = ('Put code that trains, tests or plots under `if __name__ == "__main__":`: then importing your '
                     "file only defines its functions, and running it still runs that code.")


def _top_level_line(stop, code):
    """The line of the module's own code (`code`) that was running when `stop` was raised (0: unknown)."""
    line, tb = 0, stop.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            line = tb.tb_lineno
            if line is None or line < 1:  # an instruction of no line (a loop's jump back): the one before it
                ranges = getattr(code, "co_lines", lambda: ())()  # (Python 3.10+)
                line = max(((start, n) for start, _, n in ranges if n is not None and start <= tb.tb_lasti),
                           default=(0, 0))[1]
        tb = tb.tb_next
    return line


def _run_statement(clock, code, namespace, statement, stood_in=()):
    """Run one statement; {} if it ran as written, else what its event adds."""
    seconds = clock.next_share()
    try:
        clock.timed(code, namespace, seconds)
        return {}
    except _Stop:
        return {"outcome": "stopped", "seconds": round(seconds, 2)}
    except ModuleNotFoundError as e:
        missing = e.name if isinstance(e.name, str) else ""
        display = {name: _display_only(name) for name in _imported_modules(statement)}
        wanted = [name for name, package in display.items() if package
                  and (name == missing or name.startswith(missing + "."))] if missing else []
        if not wanted or missing in stood_in:
            return {"outcome": "failed", "error": _error_words(e), "module": missing[:MAX_SHOWN]}
        _stand_in(wanted)
        again = _run_statement(clock, code, namespace, statement, (*stood_in, missing))
        packages = dict.fromkeys(package for package in display.values() if package)
        return again or {"outcome": "stand-in", "module": ", ".join(packages)}
    except BaseException as e:  # noqa: BLE001 - sys.exit() and KeyboardInterrupt at the top level included
        return {"outcome": "failed", "error": _error_words(e)}
# --- end of the part shared with selfcheck.py ---
