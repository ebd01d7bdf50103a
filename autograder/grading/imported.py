"""What importing a submission did, in the words a student reads: why it failed, which top-level
statements did not run as written, what it printed."""

from __future__ import annotations

import dataclasses

from ..core.call import ImportReport, TopLevelEvent, TopLevelOutcome
from ..sandbox.toplevel import MAIN_GUARD_ADVICE, event_words


def import_failure(report: ImportReport, packages: tuple[str, ...], own: frozenset[str] = frozenset()) -> str:
    """Why no test could run: the import's error, its traceback and what the file printed.
    own: the names of the upload's own modules (its .py files), which no package line is said of."""
    lines = [f"Your file could not be imported, so no test could run: {report.message}"]
    lines += _not_offered(report.missing_module, packages, own)
    if report.details:
        lines.append(report.details)
    if report.stdout:
        lines.append("It printed:\n" + report.stdout)
    return "\n".join(lines)


def _not_offered(module: str, packages: tuple[str, ...], own: frozenset[str]) -> list[str]:
    """The line saying a missing package is not on the grader (none for the upload's own modules)."""
    package = module.split(".")[0]
    if not package or package in own:
        return []
    return [f"The package {package!r} is not available on the grader: student code may import "
            f"{', '.join(packages)} and Python's standard library. Remove the import (and what uses it), "
            "or ask the course staff (if it is a file of your own, upload it too)."]


def toplevel_note(events: tuple[TopLevelEvent, ...], graded_file: str, packages: tuple[str, ...],
                  own: frozenset[str] = frozenset()) -> str:
    """The top-level statements that did not run as written, one line each, and what to do about them."""
    if not events:
        return ""
    lines = [f"Some top-level code of {graded_file} did not run as written; everything else in it ran and "
             "is graded:"]
    missing = []
    for event in events:
        if event.outcome == TopLevelOutcome.FAILED and event.module:
            missing.append(event.module)
        lines.append("- " + event_words(dataclasses.asdict(event)))
    for module in dict.fromkeys(missing):
        lines += _not_offered(module, packages, own)
    if any(e.outcome == TopLevelOutcome.STAND_IN for e in events):
        lines.append("Plots, progress bars and other display-only code are not graded: the stand-ins let the rest "
                     "of your code run.")
    stopped = [e for e in events if e.outcome == TopLevelOutcome.STOPPED]
    if any(e.cell is None for e in stopped):
        lines.append(MAIN_GUARD_ADVICE)
    elif stopped:
        lines.append("The grader runs a notebook's code cells in order, each statement within a share of the "
                     "import's time: a long-running one is stopped there and the cells after it still run.")
    return "\n".join(lines)
