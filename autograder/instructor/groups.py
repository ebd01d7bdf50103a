"""What a class got wrong together: the students whose wrong answers to a part agree on every visible
case, grouped, with the likely cause the grader named for them or, where it named none, what their
answer is.

Research on programming exercises finds few distinct errors behind many wrong submissions, so the
groups are few and worth acting on. Identical wrong numbers are a stronger signal than similar code:
short numpy solutions all look alike. Made from each Row's answers (results.visible_answers): pure
functions, no grading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.compare import Tolerance, compare
from ..core.homework import Homework
from ..diagnosis.diagnose import upstream_root
from ..grading.answer_key import Accepted
from ..grading.runner import array_text
from .rows import Row, write_spreadsheet


@dataclass(frozen=True)
class MistakeGroup:
    """Students whose answers to the same parts agree, wrong, on every visible case."""

    parts: tuple[str, ...]  # the parts (in the grader's order) the group shares its answers to
    students: tuple[str, ...]  # submission ids, sorted
    cause: str  # the likely cause the grader named for every member, in a few words; "" if none
    answer: str  # where no cause is named: one case's answer against the expected one, in words


def mistake_groups(rows: list[Row], tolerances: dict[str, Tolerance], conventions,
                   homework: Homework) -> list[MistakeGroup]:
    """Every group of two or more students sharing a wrong answer, largest first. A student belongs to at
    most one group per part: the first whose answer agrees with theirs on every visible case (within
    the part's tolerance; calls that gave no answer agree when they ended alike). Groups sharing their
    members and cause across parts (a mistake carried into the gradients), or whose members the grader
    found wrong only because of a part they share a group for (an "upstream" mistake), are one group.
    tolerances: {part id: its tolerance}, for every part, in the homework's order; conventions: the
    homework's, as the course sets them."""
    part_ids = list(tolerances)
    by_part: dict[str, list[list[Row]]] = {}
    for part in part_ids:
        groups = _Groups(tolerances[part])
        for row in rows:
            answers = row.answers.get(part)
            if isinstance(answers, dict) and answers:
                groups.add(row, {case: a if isinstance(a, str) else answer_array(a) for case, a in answers.items()})
        by_part[part] = [members for members in groups.members if len(members) > 1]
    merged: dict[tuple[tuple[str, ...], str], list[str]] = {}
    first_member: dict[tuple[tuple[str, ...], str], Row] = {}
    home: dict[tuple[tuple[str, ...], str], tuple[tuple[str, ...], str]] = {}  # (students, part) -> its key
    for part in part_ids:
        for group in by_part[part]:
            students = tuple(sorted(r.submission_id for r in group))
            roots = {_root(r, part) for r in group}
            root = roots.pop() if len(roots) == 1 else ""
            if root and (students, root) in home:  # the wrong part it is built from: the same group's
                key = home[students, root]
            else:
                causes = {r.causes.get(part, "") for r in group}
                key = (students, causes.pop() if len(causes) == 1 else "")
            merged.setdefault(key, []).append(part)
            first_member.setdefault(key, group[0])
            home[students, part] = key
    cases = {case.id: case for case in homework.visible(conventions)}
    out = [MistakeGroup(tuple(parts), students, cause,
                        "" if cause else _answer_words(first_member[(students, cause)], parts[0], cases, conventions,
                                                       homework.expected_answers))
           for (students, cause), parts in merged.items()]
    return sorted(out, key=lambda g: (-len(g.students), part_ids.index(g.parts[0]), g.students))


def _root(row: Row, part: str) -> str:
    """The part the grader blamed for this one's wrong answer ("upstream:<part>"), or ""."""
    ids = row.mistakes.get(part)
    roots = {upstream_root(m) for m in ids if isinstance(m, str)} if isinstance(ids, list) else set()
    return roots.pop() if len(roots) == 1 else ""


class _Groups:
    """One part's groups as students join them: each student joins the first group whose first
    member's answers agree with theirs (_agree), else starts one. The first case's answers of the
    groups' first members are kept stacked by shape, so one numpy operation rules out, for a newcomer,
    every group whose first answer is further off than compare's bound (a class of hundreds has as
    many lone wrong answers)."""

    def __init__(self, tolerance: Tolerance):
        self.tolerance = tolerance
        self.members: list[list[Row]] = []
        self.answers: list[dict] = []  # each group's first member's answers
        # first case's shape (or status) -> (its groups, their first answers flattened, one row each)
        self.stacks: dict[object, tuple[list[int], np.ndarray]] = {}

    def add(self, row: Row, answers: dict) -> None:
        first = answers[min(answers)]
        key = first if isinstance(first, str) else first.shape
        flat = np.zeros((1, 0)) if isinstance(first, str) else first.reshape(1, -1)
        indices, stacked = self.stacks.get(key, ([], np.empty((0, flat.shape[1]))))
        candidates = indices
        if not isinstance(first, str) and indices:
            with np.errstate(invalid="ignore"):
                off = np.max(np.abs(stacked - flat), axis=1, initial=0.0)
                bound = (self.tolerance.rtol + self.tolerance.atol) * np.max(np.abs(stacked), axis=1, initial=0.0)
            candidates = [i for i, o, b in zip(indices, off, bound) if not o > b + 1e-12]
        home = next((i for i in candidates if _agree(self.answers[i], answers, self.tolerance)), None)
        if home is not None:
            self.members[home].append(row)
            return
        self.stacks[key] = (indices + [len(self.members)], np.vstack([stacked, flat]))
        self.members.append([row])
        self.answers.append(answers)


def _agree(a: dict, b: dict, tolerance: Tolerance) -> bool:
    """Whether two students' answers to a part (arrays, or a call's status) agree on every visible case:
    b judged against a as compare judges an answer (a quick look first rejects what compare would: an
    entry further off than any entry's bound)."""
    if a.keys() != b.keys():
        return False
    for case in a:
        x, y = a[case], b[case]
        if isinstance(x, str) or isinstance(y, str):
            if x != y:
                return False
            continue
        if x.shape == y.shape and x.size:
            with np.errstate(invalid="ignore"):
                bound = (tolerance.rtol + tolerance.atol) * np.max(np.abs(x)) + 1e-12
                if np.max(np.abs(x - y)) > bound:
                    return False
    return all(isinstance(a[case], str) or compare(b[case], a[case], tolerance, explain=False).passed for case in a)


def answer_array(value) -> np.ndarray:
    try:
        return np.array(value, dtype=np.float64)  # (None, a non-finite entry, reads as nan)
    except (TypeError, ValueError):
        return np.array(np.nan)


def _answer_words(row: Row, part: str, cases: dict, conventions, expected_answers) -> str:
    """One failing visible case of the row's (`cases`: the visible ones by id): what it answered and
    what was expected (expected_answers: the homework's)."""
    for case_id, answer in row.answers[part].items():
        case = cases.get(case_id)
        if case is None or not case.grades(part):
            continue
        expected = expected_answers(case.inputs, conventions)[part]
        expected = expected[0] if isinstance(expected, Accepted) else expected
        if isinstance(answer, str):
            return f"on {case.title}: {answer}, where {array_text(expected)} is expected"
        received = answer_array(answer)
        if received.shape != np.shape(expected) or not np.allclose(received, expected, rtol=1e-4, atol=1e-8):
            return f"on {case.title}: {array_text(received)} where {array_text(expected)} is expected"
    return ""


MISTAKES_COLUMNS = ["group", "students", "parts", "cause", "answer", "submission_ids", "names"]


def write_mistakes_csv(path, groups: list[MistakeGroup], rows: list[Row]) -> None:
    """mistakes.csv: a line per group, largest first (the names are the students', through csv_cell)."""
    names = {r.submission_id: r.name for r in rows}
    lines = []
    for number, g in enumerate(groups, start=1):
        named = [names.get(s, "") for s in g.students]
        lines.append([number, len(g.students), " ".join(g.parts), g.cause, g.answer, "; ".join(g.students),
                      "; ".join(named) if any(named) else ""])
    write_spreadsheet(path, MISTAKES_COLUMNS, lines)


def mistakes_by_student(rows: list[Row], groups: list[MistakeGroup], part_ids: tuple[str, ...]) -> dict[str, str]:
    """Submission id -> what it got wrong, in a few words (grades.csv's mistakes column): for each
    failing part, the likely cause the grader named, else the mistakes.csv group whose wrong answer it
    shares, parts with the same words together ("grad.W1: transposed; relu, forward.z2: shared wrong
    answer, group 3"). Parts wrong in neither way are not listed: their failures are in the results.
    part_ids: the homework's, in its order."""
    shared: dict[tuple[str, str], int] = {}
    for number, g in enumerate(groups, start=1):
        for part in g.parts:
            for student in g.students:
                shared.setdefault((student, part), number)
    out = {}
    for r in rows:
        said: dict[str, list[str]] = {}  # words -> the parts they are said of, in the grader's order
        for part in part_ids:
            cause = r.causes.get(part)
            if isinstance(cause, str) and cause:
                said.setdefault(cause, []).append(part)
            elif (r.submission_id, part) in shared:
                said.setdefault(f"shared wrong answer, group {shared[r.submission_id, part]}", []).append(part)
        if said:
            out[r.submission_id] = "; ".join(f"{', '.join(parts)}: {words}" for words, parts in said.items())
    return out


def group_words(group: MistakeGroup) -> str:
    """A group in a line: its size, parts and cause (or answer)."""
    parts = group.parts[0] + (f" (and {len(group.parts) - 1} more parts)" if len(group.parts) > 1 else "")
    what = group.cause or ("not named: " + group.answer if group.answer else "not named")
    return f"{len(group.students)} students, {parts}: {what}"
