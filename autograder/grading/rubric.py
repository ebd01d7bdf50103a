"""From per-case verdicts to scored Gradescope tests: pure functions, no I/O.

Each part is graded on visible cases and on hidden cases. A part becomes (at most) two
Gradescope tests, "visible cases" and "hidden cases", each worth its share of the part's points,
with partial credit for the fraction of its cases that pass. Hidden cases report only pass/fail
and a short reason, never inputs or expected values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..core.call import OK, CallStatus
from ..core.compare import Failure, shape_text
from ..core.explain import Explanation
from ..escape import markdown_block, markdown_span


@dataclass(frozen=True)
class CaseResult:
    """The verdict on one part for one case."""

    part: str
    case_id: str
    case_title: str
    hidden: bool
    passed: bool
    reason: str = ""  # short, in the grader's words: "wrong values", "timeout: ...", safe for hidden cases
    detail: str = ""  # where and by how much (visible cases only)
    reshaped: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # (received, expected) shapes accepted
    worst: str = ""  # the worst entry in a few words (visible cases only)
    stdout: str = ""  # what the student's code printed during the call (capped; visible cases only)
    values: str = ""  # Markdown: the case's inputs, expected and received values (visible cases only)
    call_status: CallStatus = OK  # how the call ended: ok, timeout, crash, out of memory, error, ...
    # visible cases only, for diagnose.py: the student's answer (None if the call gave none), the right one
    received: np.ndarray | None = None
    expected: np.ndarray | None = None
    said: str = ""  # what student code said (an exception's message): shown only as code, visible cases only
    failure: Failure | None = None  # what kind of failure (None: it passed)


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
    explanation: Explanation | None = None  # what went wrong, from the visible cases (a Diagnoser)
    cases_passed: str = ""  # "5/12"
    failures: tuple[str, ...] = ()  # each failing case in a line (one line when one reason fails them all)
    shared_reason: str = ""  # the one reason every failing case failed for, when they were merged ("" else)
    failing_cases: tuple[str, ...] = ()  # the titles of its failing cases
    title: str = ""  # the part's title under the course's conventions (Homework.part_title)

    @property
    def mistakes(self) -> tuple[str, ...]:
        """The ids of what was named (results.json's extra_data.mistakes)."""
        return self.explanation.ids if self.explanation else ()


def score_tests(results: list[CaseResult], config: Config,
                explanations: dict[str, Explanation] | None = None) -> list[ScoredTest]:
    """One ScoredTest per part and case group (visible, hidden) that has cases, in part order.

    explanations: per part, what diagnose.py found on its visible cases (shown in its visible test).
    """
    explanations = explanations or {}
    tests = []
    for index, part in enumerate(config.homework.parts, start=1):
        points = config.parts[part.id].points
        groups = [(False, [r for r in results if r.part == part.id and not r.hidden]),
                  (True, [r for r in results if r.part == part.id and r.hidden])]
        groups = [(hidden, rs) for hidden, rs in groups if rs]
        has_hidden = any(hidden for hidden, _ in groups)
        has_visible = any(not hidden for hidden, _ in groups)
        title = config.homework.part_title(part.id, config.conventions)
        for hidden, rs in groups:
            share = (config.hidden_share if hidden else 1 - config.hidden_share) if has_hidden and has_visible else 1.0
            max_score = points * share
            passed = sum(r.passed for r in rs)
            failing = [r for r in rs if not r.passed]
            explanation = None if hidden else explanations.get(part.id)
            tests.append(ScoredTest(
                part=part.id, hidden=hidden, title=title,
                name=f"{title} ({'hidden' if hidden else 'visible'} cases)",
                number=f"{index}.{2 if hidden else 1}",
                score=max_score * passed / len(rs), max_score=max_score,
                passed=passed == len(rs), output=_output(rs, hidden, explanation),
                visibility=config.hidden_cases_visibility if hidden else config.visible_cases_visibility,
                explanation=explanation, cases_passed=f"{passed}/{len(rs)}",
                failures=tuple(failure_lines(failing)), shared_reason=shared_reason(failing),
                failing_cases=tuple(r.case_title for r in failing),
            ))
    return tests


MAX_VALUE_BLOCKS = 1  # failing visible cases per test whose inputs and values are shown in full


def _output(results: list[CaseResult], hidden: bool, explanation: Explanation | None = None) -> str:
    """Markdown a student reads in one screen: how many cases passed, the one explanation, each failing
    case in a line, then the first failing case in full (its inputs, expected and received values)."""
    passed = [r for r in results if r.passed]
    failing = [r for r in results if not r.passed]
    lines = [f"{len(passed)}/{len(results)} cases passed."]
    if explanation:
        lines += ["", f"**Likely cause:** {explanation.message}"]
    if failing:
        lines += ["", "Failing cases:"]
        lines += [f"- {line}" for line in failure_lines(failing, said=markdown_span)]
    if passed and failing:
        lines += ["", "Passing: " + "; ".join(r.case_title for r in passed) + "."]
    first = next((r for r in failing if r.values or r.detail), None)
    if first and not hidden:
        lines += ["", f"**{first.case_title}**, in full:"]
        lines += [block for block in (first.values, markdown_block(first.detail) if first.detail else "") if block]
    reshaped: dict[tuple, list[str]] = {}  # each accepted shape once, with the cases it was returned in
    for r in results:
        if r.reshaped:
            reshaped.setdefault(r.reshaped, []).append(r.case_title)
    if reshaped:
        lines += ["", "Shapes accepted because they differ from the expected ones only by axes of length 1:"]
        lines += [f"- {shape_text(received)} for {shape_text(expected)}: {'; '.join(titles)}"
                  for (received, expected), titles in reshaped.items()]
    printed = [(r.case_title, r.stdout) for r in results if r.stdout]
    for title, stdout in printed[:2]:
        lines += ["", f"Your code printed ({title}):", markdown_block(stdout)]
    if len(printed) > 2:
        lines += ["", f"(It printed in {len(printed) - 2} more cases, not shown.)"]
    return "\n".join(lines)


def failure_lines(failing: list[CaseResult], said=str) -> list[str]:
    """Each failing case in a line: its title, the reason, what the student's code said (through
    `said`: markdown_span for Markdown; as it is for the terminal, which escapes at its edge), the
    worst entry."""
    return [r.case_title + (f": {r.reason}" if r.reason else "") + (f": {said(r.said)}" if r.said else "")
            + (f", {r.worst}" if r.worst else "") for r in _merge_reasons(failing)]


def shared_reason(failing: list[CaseResult], said=str) -> str:
    """The reason (and what the code said) every failing case shares, where failure_lines says it
    once for all of them; "" where it lists them one by one."""
    merged = _merge_reasons(failing)
    if len(merged) != 1 or merged[0] is failing[0]:
        return ""
    return merged[0].reason + (f": {said(merged[0].said)}" if merged[0].said else "")


def _merge_reasons(failing: list[CaseResult]) -> list[CaseResult]:
    """The failing cases, a reason repeated in every one of them said once: "not run: mse_loss timed out"
    on twelve lines reads as noise."""
    reasons = {(r.reason, r.said) for r in failing}
    if len(failing) > 2 and len(reasons) == 1 and failing[0].failure is not Failure.WRONG_VALUES:
        return [CaseResult(failing[0].part, "", f"all {len(failing)} failing cases", failing[0].hidden, False,
                           failing[0].reason, said=failing[0].said, failure=failing[0].failure)]
    return failing


def part_summary(tests: list[ScoredTest]) -> list[tuple[str, float, float, str]]:
    """(part title, score, max score, the likely cause in a few words) per part, in part order."""
    rows: dict[str, list] = {}
    for t in tests:
        row = rows.setdefault(t.part, [0.0, 0.0, ""])
        row[0] += t.score
        row[1] += t.max_score
        row[2] = row[2] or (t.explanation.title if t.explanation else "")
    titles = {t.part: t.title for t in tests}
    return [(titles[pid], round(s, 4), round(m, 4), title) for pid, (s, m, title) in rows.items()]


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


def complete(results: list[CaseResult], cases: list, reason: str, failure: Failure,
             parts: tuple[str, ...]) -> list[CaseResult]:
    """Add a failed result, with `reason` and `failure`, for every (part, case graded on it) that has
    none: nothing goes missing. parts: the part ids, in the order to add them in (the grading tests'
    or the homework's)."""
    seen = {(r.part, r.case_id) for r in results}
    missing = [CaseResult(part, case.id, case.title, case.hidden, False, reason, failure=failure)
               for part in parts for case in cases if case.grades(part) and (part, case.id) not in seen]
    return list(results) + missing
