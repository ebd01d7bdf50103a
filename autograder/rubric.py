"""From per-case verdicts to scored Gradescope tests: pure functions, no I/O.

Each part is graded on visible cases and on hidden cases. A part becomes (at most) two
Gradescope tests, "visible cases" and "hidden cases", each worth its share of the part's points,
with partial credit for the fraction of its cases that pass. Hidden cases report only pass/fail
and a short reason, never inputs or expected values.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .diagnose import TITLES
from .parts import PARTS, PARTS_BY_ID


@dataclass(frozen=True)
class CaseResult:
    """The verdict on one part for one case."""

    part: str
    case_id: str
    case_title: str
    hidden: bool
    passed: bool
    reason: str = ""  # short: "wrong values", "timeout: ...", safe for hidden cases
    detail: str = ""  # where and by how much (visible cases only)
    note: str = ""  # e.g. an accepted singleton-axis shape
    stdout: str = ""  # what the student's code printed during the call (capped)
    mistake: str = ""  # id of the diagnosed mistake (diagnose.py), if one explains a wrong answer
    diagnosis: str = ""  # its explanation for the student
    values: str = ""  # Markdown: the case's inputs, expected and received values (visible cases only)
    call_status: str = "ok"  # how the call ended: ok, timeout, crash, out of memory, error, ...


@dataclass(frozen=True)
class ScoredTest:
    part: str
    hidden: bool
    name: str
    number: str
    score: float
    max_score: float
    passed: bool
    output: str
    visibility: str
    mistakes: tuple[str, ...] = ()  # ids of the mistakes diagnosed on its failing visible cases


def score_tests(results: list[CaseResult], config: Config) -> list[ScoredTest]:
    """One ScoredTest per part and case group (visible, hidden) that has cases, in part order."""
    tests = []
    for index, part in enumerate(PARTS, start=1):
        points = config.parts[part.id].points
        groups = [(False, [r for r in results if r.part == part.id and not r.hidden]),
                  (True, [r for r in results if r.part == part.id and r.hidden])]
        groups = [(hidden, rs) for hidden, rs in groups if rs]
        has_hidden = any(hidden for hidden, _ in groups)
        has_visible = any(not hidden for hidden, _ in groups)
        for hidden, rs in groups:
            share = (config.hidden_share if hidden else 1 - config.hidden_share) if has_hidden and has_visible else 1.0
            max_score = points * share
            passed = sum(r.passed for r in rs)
            tests.append(ScoredTest(
                part=part.id, hidden=hidden,
                name=f"{part.title} ({'hidden' if hidden else 'visible'} cases)",
                number=f"{index}.{2 if hidden else 1}",
                score=max_score * passed / len(rs), max_score=max_score,
                passed=passed == len(rs), output=_output(rs, hidden),
                visibility=config.hidden_cases_visibility if hidden else config.visible_cases_visibility,
                mistakes=() if hidden else tuple(dict.fromkeys(r.mistake for r in rs if r.mistake)),
            ))
    return tests


MAX_VALUE_BLOCKS = 3  # failing visible cases per test whose inputs and values are shown in full


def _output(results: list[CaseResult], hidden: bool) -> str:
    """Markdown: a line per case; for failing visible cases the diagnosis, the values and where they differ."""
    passed = sum(r.passed for r in results)
    lines = [f"{passed}/{len(results)} cases passed.", ""]
    shown: set[str] = set()  # a detail repeated case after case is printed once
    values_left = MAX_VALUE_BLOCKS  # the values of a few failing cases say enough; the rest stay short
    for r in results:
        line = f"- {'PASS' if r.passed else '**FAIL**'} {r.case_title}"
        if not r.passed and r.reason:
            line += f": {r.reason}"
        lines.append(line)
        if not hidden:
            if not r.passed and r.diagnosis and r.diagnosis not in shown:
                lines.append(f"\n  **Diagnosis:** {r.diagnosis}\n")
                shown.add(r.diagnosis)
            show_values = not r.passed and r.values and values_left > 0
            values_left -= bool(show_values)
            blocks = [r.values if show_values else "", code_block(r.detail) if r.detail else ""] if not r.passed else []
            for block in blocks + [code_block(r.note) if r.note else ""]:
                if block and block not in shown:
                    lines.append(_indent(block))
                    shown.add(block)
        if r.stdout:
            lines.append(_indent("Your code printed:\n" + code_block(r.stdout)))
    # the runner renders values for the first MAX_VALUE_BLOCKS failing cases only; count the rest
    unshown = sum(1 for r in results if not r.passed and r.call_status == "ok" and not r.values)
    if not hidden and unshown and values_left <= 0:
        lines.append(f"\n(The values of {unshown} more failing cases are not shown.)")
    return "\n".join(lines)


def code_block(text: str) -> str:
    """A Markdown code block that the text inside cannot close."""
    fence = "```"
    return f"{fence}text\n{text.replace(fence, '` ` `')}\n{fence}"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def part_summary(tests: list[ScoredTest]) -> list[tuple[str, float, float, str]]:
    """(part title, score, max score, the likely mistakes in a few words) per part, in part order."""
    rows: dict[str, list] = {}
    for t in tests:
        row = rows.setdefault(t.part, [0.0, 0.0, []])
        row[0] += t.score
        row[1] += t.max_score
        row[2] += [m for m in t.mistakes if m not in row[2]]
    return [(PARTS_BY_ID[pid].title, round(s, 4), round(m, 4), ", ".join(TITLES[x] for x in mistakes))
            for pid, (s, m, mistakes) in rows.items()]


# When tests that are not shown yet will be, in the words of a sentence's end.
SHOWN_WHEN = {"after_due_date": "will be shown after the due date",
              "after_published": "will be shown when grades are published",
              "hidden": "are seen by the course staff only"}


def summary(tests: list[ScoredTest]) -> str:
    """The top-level message of results.json, which Gradescope shows to the student at once.

    It speaks only of the tests the student may see now (visibility "visible"): their points by
    part, then how many points the others are worth and when they will be shown. Nothing in it
    depends on a test held back, so no hidden result can be read by subtraction before its time.
    """
    shown = [t for t in tests if t.visibility == "visible"]
    held = [t for t in tests if t.visibility != "visible"]
    score, max_score = round(sum(t.score for t in shown), 4), round(sum(t.max_score for t in shown), 4)
    heading = "Total" if not held else "Tests shown now"
    lines = [f"{heading}: {score:.4g}/{max_score:g}. Score by part:"] if shown else []
    for title, part_score, part_max, mistakes in part_summary(shown):
        lines.append(f"  {title}: {part_score:.3g}/{part_max:g}" + (f" (likely: {mistakes})" if mistakes else ""))
    for visibility, words in SHOWN_WHEN.items():
        group = [t for t in held if t.visibility == visibility]
        if group:
            kind = "Hidden tests" if all(t.hidden for t in group) else "Tests"
            points = round(sum(t.max_score for t in group), 4)
            lines.append(f"{kind} worth {points:g} more points {words}"
                         + ("; they run your code on inputs you have not seen." if any(t.hidden for t in group)
                            else "."))
    if not held and any(t.hidden for t in tests):
        lines.append("Hidden cases run your code on inputs you have not seen.")
    return "\n".join(lines)


def complete(results: list[CaseResult], cases: list, reason: str) -> list[CaseResult]:
    """Add a failed result, with `reason`, for every (part, case) that has none: nothing goes missing."""
    seen = {(r.part, r.case_id) for r in results}
    missing = [CaseResult(part.id, case.id, case.title, case.hidden, False, reason)
               for part in PARTS for case in cases if (part.id, case.id) not in seen]
    return list(results) + missing
