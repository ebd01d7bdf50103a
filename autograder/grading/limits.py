"""Submission limits (grading.toml's [submissions]): whether a submission may be graded, from
Gradescope's submission_metadata.json alone, and what the student is told.

Counted fairly: only submissions before this one (by Gradescope's times, never the grader's clock,
so a regrade counts as the first grading did), inside the window, whose grading did not fail (the
harness's `autograder_error`, or results of ours marked as a grader error); staff listed in
`exempt` (by email, id or student id) have no limit. A submission made over the limit counts like
any other: Gradescope passes the results of the latest previous submission only, so an older one
could not be told apart, and one rule the student can be told beats two. Over the limit no student code runs: the
student keeps the score of their latest counted submission, with its tests where Gradescope passes
them (it passes results for the latest previous submission only). Metadata that cannot be read
gives a note and no limit: a broken file must never cost a student a submission.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..config import SubmissionPolicy

GRADER_ERROR = "grader error"  # (grade.Status.GRADER_ERROR: a results document of ours whose grading failed)
OVER_LIMIT = "over limit"  # extra_data.status of the results of a submission not graded for it


@dataclass(frozen=True)
class Earlier:
    """A previous submission that counts."""

    time: datetime
    score: float
    results: dict | None  # its results.json, where Gradescope passes them


@dataclass(frozen=True)
class Attempts:
    """What the policy says of one submission."""

    limit: int
    window_hours: float | None  # None: the whole assignment
    used: int  # counted submissions before this one, in its window
    allowed: bool
    returns_at: datetime | None  # when a counted submission leaves the window, where that matters
    kept: Earlier | None = None  # over the limit: the latest counted submission, whose score stays
    exempt: bool = False
    problem: str = ""  # why the limit could not be applied ("" when it was)
    details_for: int = 0  # the first this many of a window show the visible cases in full (0: every one)

    @property
    def in_full(self) -> bool:
        """Whether this submission's visible cases are shown in full (inputs, expected and received)."""
        return not self.details_for or self.exempt or bool(self.problem) or self.used < self.details_for

    @property
    def left(self) -> int:
        """Submissions left in the window once this one is counted."""
        return max(self.limit - self.used - 1, 0)

    def as_data(self) -> dict:
        """For results.json's extra_data (what a later tool reads: data, not these words)."""
        return {"limit": self.limit, "window_hours": self.window_hours, "used_before": self.used,
                "allowed": self.allowed, "exempt": self.exempt, "in_full": self.in_full,
                "returns_at": self.returns_at.isoformat() if self.returns_at else None, "problem": self.problem}


def attempts(policy: SubmissionPolicy, metadata) -> Attempts | None:
    """The policy applied to a submission's metadata (the parsed submission_metadata.json, as found:
    nothing in it is trusted to be well formed); None where no limit is configured."""
    if not policy.active:
        return None
    window = timedelta(hours=policy.window_hours) if policy.window_hours else None

    def unlimited(problem: str = "", exempt: bool = False) -> Attempts:
        return Attempts(policy.limit, policy.window_hours, 0, True, None, exempt=exempt, problem=problem,
                        details_for=policy.details_for)

    if not isinstance(metadata, dict) or not metadata:
        return unlimited("Gradescope's submission metadata was missing or unreadable")
    now = parse_time(metadata.get("created_at"))
    if now is None:
        return unlimited("the submission's time (created_at) was missing or unreadable")
    if _exempt(policy, metadata.get("users")):
        return unlimited(exempt=True)
    history = metadata.get("previous_submissions", [])
    if not isinstance(history, list):
        return unlimited("the list of previous submissions was unreadable")
    counted = sorted((e for e in map(_earlier, history) if e is not None and e.time < now
                      and (window is None or e.time > now - window)), key=lambda e: e.time)
    if len(counted) < policy.limit:
        back = None  # (said only once this one fills the window: when its oldest, maybe this one, leaves)
        if window and len(counted) + 1 >= policy.limit:
            back = (counted[0].time if counted else now) + window
        return Attempts(policy.limit, policy.window_hours, len(counted), True, back, details_for=policy.details_for)
    back = counted[-policy.limit].time + window if window else None  # (the oldest that keeps it full leaves)
    return Attempts(policy.limit, policy.window_hours, len(counted), False, back, kept=counted[-1],
                    details_for=policy.details_for)


def within_limits(found: Attempts | None, grade: Callable[[], dict], visible_cases: Callable[[], list]) -> dict:
    """A submission's results.json under the policy: over the limit, the kept submission's (grade is
    never called: no student code runs); else grade()'s, the count said first in its output.
    visible_cases: the homework's (a test past `details_for` says how many of its part's pass)."""
    if found is None:
        return grade()
    if not found.allowed:
        return over_limit_results(found)
    results = grade()
    if not found.in_full:
        cases = visible_cases()
        results["tests"] = [_pass_fail_only(t, cases) for t in results.get("tests", [])]
    results["output"] = attempts_line(found) + "\n\n" + str(results.get("output") or "")
    results.setdefault("extra_data", {})["submissions"] = found.as_data()
    return results


def _pass_fail_only(test: dict, visible_cases: list) -> dict:
    """A visible test as a submission past `details_for` sees it: how many cases pass and which fail, by
    their titles (the grader's words), without the inputs, the values or the likely cause."""
    extra = test.get("extra_data") if isinstance(test.get("extra_data"), dict) else {}
    if extra.get("hidden") is not False:
        return test
    failing = [str(title) for title in extra.get("failing_cases") or []]
    total = sum(1 for case in visible_cases if any(case.grades(part) for part in test.get("tags") or ()))
    lines = [f"{total - len(failing)}/{total} cases passed."]
    if failing:
        lines += ["", "Failing cases (their inputs and values are shown on the first submissions of a window "
                      "only):", *(f"- {title}" for title in failing)]
    return {**test, "output": "\n".join(lines), "extra_data": {k: v for k, v in extra.items() if k != "failures"}}


def over_limit_results(found: Attempts) -> dict:
    """The results of a submission over the limit: the latest counted one's score, its tests where
    known, and the words saying so."""
    kept = found.kept
    earlier = copy.deepcopy(kept.results) if kept and isinstance(kept.results, dict) else {}
    listed = earlier.get("tests")
    tests = [t for t in listed if isinstance(t, dict)] if isinstance(listed, list) else []
    when = _when(kept.time) if kept else ""
    feedback = (f"The tests below are those of your submission of {when}." if tests else
                f"Its feedback is on your submission of {when} (Gradescope's submission history).")
    return {
        "score": kept.score if kept else 0.0,
        "execution_time": 0.0,
        "output": attempts_line(found) + "\n\n" + feedback,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"status": OVER_LIMIT, "submissions": found.as_data()},
    }


def attempts_line(found: Attempts) -> str:
    """The count in words, first in a result's summary."""
    span = f"in any {found.window_hours:g} hours" if found.window_hours else "for this assignment"
    if found.exempt:
        return "Submissions: no limit applies to you (course staff)."
    if found.problem:
        return (f"Submissions: the limit of {found.limit} {span} could not be applied ({found.problem}), so this "
                "submission was graded as if there were none. Please tell the course staff.")
    if not found.allowed:
        back = (f" The next one will be graded from {_when(found.returns_at)} (a submission before then counts "
                "too, and moves that time)." if found.returns_at else "")
        score = f"{found.kept.score:g} from your submission of {_when(found.kept.time)}" if found.kept else "unchanged"
        used = "the 1 submission that counts" if found.limit == 1 else f"all {found.limit} submissions that count"
        return (f"Submissions: you have used {used} {span}, so this submission was not graded: none of "
                f"its code was run, and your score stays {score}.{back} Until then, check your work on your own "
                "machine with the handout's selfcheck.py, which runs the visible tests and names likely mistakes.")
    left = found.left
    line = (f"Submissions: this is {found.used + 1} of {found.limit} {span}; "
            f"{left if left else 'none'} left")
    if not left and found.returns_at:
        line += f" until {_when(found.returns_at)}"
    if not found.in_full:
        line += (f". The first {found.details_for} of a window show the visible cases in full; this one shows "
                 "which pass and which fail")
    return line + "."


def parse_time(value) -> datetime | None:
    """An ISO-8601 time with its offset, as Gradescope writes them (fractions of any length, "Z" for
    UTC); None for anything else. A time without an offset is taken as UTC."""
    if not isinstance(value, str):
        return None
    found = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?\s*"
                         r"(Z|[+-]\d{2}:?\d{2})?\s*", value)
    if not found:
        return None
    day, clock, fraction, offset = found.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        return None
    if fraction:
        moment += timedelta(microseconds=round(float("0." + fraction) * 1_000_000))
    if offset in (None, "Z"):
        return moment.replace(tzinfo=timezone.utc)
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[-2:])
    if hours > 23 or minutes > 59:
        return None
    return moment.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))


def _earlier(entry) -> Earlier | None:
    """A previous submission that counts, or None (a failed grading, or one that cannot be read: what
    cannot be read never costs a student a submission)."""
    if not isinstance(entry, dict) or entry.get("autograder_error") is True:
        return None
    time = parse_time(entry.get("submission_time"))
    results = entry.get("results") if isinstance(entry.get("results"), dict) else None
    extra = results.get("extra_data") if results and isinstance(results.get("extra_data"), dict) else {}
    if time is None or extra.get("status") == GRADER_ERROR:
        return None
    score = entry.get("score")
    score = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else 0.0
    return Earlier(time, score if math.isfinite(score) else 0.0, results)


def _exempt(policy: SubmissionPolicy, users) -> bool:
    """Whether a submitter is staff listed in `exempt` (by email, id or student id)."""
    if not policy.exempt or not isinstance(users, list):
        return False
    said = {str(u.get(key)).strip().lower() for u in users if isinstance(u, dict)
            for key in ("email", "id", "sid") if u.get(key) not in (None, "")}
    return bool(said & set(policy.exempt))


def _when(moment: datetime) -> str:
    """A time as the student reads it: in the submission's own offset."""
    offset = moment.strftime("%z")
    return moment.strftime("%Y-%m-%d %H:%M") + (f" (UTC{offset[:3]}:{offset[3:]})" if offset else "")
