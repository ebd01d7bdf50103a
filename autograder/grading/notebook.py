"""Turn an uploaded Jupyter notebook into a module the worker can import like two_layer_net.py.

The code cells are taken in order (IPython magics and shell lines dropped) and run one by one at
import, each with its own time budget (CPU time, and a wider one of wall-clock time): a cell that
fails, or a training loop that runs on, is reported by its cell number and the next cells still
run, so every function the notebook defines gets graded. Plots are harmless (the worker's matplotlib backend is Agg).

The notebook is read as JSON by the standard library (formats 4 and 3). nbformat would do the same
but brings jsonschema, traitlets and jupyter_core (and a Rust extension) into the grading runtime.
"""

from __future__ import annotations

import json
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
KEPT_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")  # the cell's code runs without them


class NotebookError(ValueError):
    """The file is not a notebook we can read."""


def code_cells(path: Path) -> list[tuple[int, str]]:
    """(cell number, Python source) of each code cell, numbered as in the notebook (1 = first cell)."""
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise NotebookError(f"{path.name} is not a valid notebook (not JSON: {e})") from None
    if not isinstance(document, dict):
        raise NotebookError(f"{path.name} is not a valid notebook")
    if isinstance(document.get("cells"), list):  # format 4
        cells = [(c.get("cell_type"), c.get("source")) for c in document["cells"] if isinstance(c, dict)]
    else:  # format 3: worksheets of cells, code in "input"
        cells = [(c.get("cell_type"), c.get("input")) for w in document.get("worksheets") or []
                 if isinstance(w, dict) for c in w.get("cells") or [] if isinstance(c, dict)]
    out = []
    for number, (kind, source) in enumerate(cells, start=1):
        if kind != "code":
            continue
        text = "".join(source) if isinstance(source, list) else source if isinstance(source, str) else ""
        python = strip_magics(text)
        if python.strip():
            out.append((number, python))
    return out


def strip_magics(source: str) -> str:
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


def module_source(cells: list[tuple[int, str]], name: str, cell_seconds: float, cell_wall_seconds: float) -> str:
    """A module that runs the cells one by one, each within `cell_seconds` of CPU time and
    `cell_wall_seconds` of wall-clock time, reporting what failed."""
    return f'''# Made by the autograder from the code cells of {name!r}; each runs on its own.
import signal as _ag_signal
import sys as _ag_sys

_AG_CELLS = {cells!r}


class _AgCellTimeout(BaseException):
    pass


def _ag_alarm(signum, frame):
    raise _AgCellTimeout()


# CPU time (SIGPROF) is the budget; wall-clock time (SIGALRM) stops a cell that waits
_AG_TIMERS = ((_ag_signal.SIGPROF, _ag_signal.ITIMER_PROF, {cell_seconds!r}),
              (_ag_signal.SIGALRM, _ag_signal.ITIMER_REAL, {cell_wall_seconds!r}))


def _ag_run_cells():
    for number, source in _AG_CELLS:
        previous = [_ag_signal.signal(signum, _ag_alarm) for signum, _, _ in _AG_TIMERS]
        for _, timer, seconds in _AG_TIMERS:
            _ag_signal.setitimer(timer, seconds)
        try:
            exec(compile(source, "<cell %d>" % number, "exec"), globals())
        except _AgCellTimeout:
            print("[notebook] cell %d was stopped after {cell_seconds:g} s of CPU time (or {cell_wall_seconds:g} s "
                  "of waiting): long-running top-level code; grading goes on" % number, file=_ag_sys.stderr)
        except SyntaxError as e:
            print("[notebook] cell %d has a syntax error on its line %s: %s" % (number, e.lineno, e.msg),
                  file=_ag_sys.stderr)
        except BaseException as e:
            print("[notebook] cell %d failed: %s: %s" % (number, type(e).__name__, e), file=_ag_sys.stderr)
        finally:
            for (signum, timer, _), handler in zip(_AG_TIMERS, previous):
                _ag_signal.setitimer(timer, 0)
                _ag_signal.signal(signum, handler)


_ag_run_cells()
'''
