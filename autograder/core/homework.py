"""The homework interface: what the engine knows of the homework it grades, whichever it is.

Each homework is a package under autograder/homeworks/ holding a `HOMEWORK` (a Homework), named in
grading.toml's `[assignment] homework` and found here by that name (HOMEWORKS). The engine reads
the homework from the Homework the config carries (config.homework), never from a homework's
package: what students submit (the file, what it may import, what it defines), the graded parts
(fixed ids, titles, default points), the conventions where courses differ, the cases and the
reference's answers, the grading tests, the diagnoser, and how a call reaches the submission in
the worker. docs/homeworks.md says how to add one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

DEFAULT_HOMEWORK = "two-layer-net"
# [assignment] homework -> the package holding its HOMEWORK
HOMEWORKS: dict[str, str] = {
    "two-layer-net": "autograder.homeworks.two_layer_net",
    "nyu-hw1": "autograder.homeworks.nyu_hw1",
}


@dataclass(frozen=True)
class Part:
    id: str  # fixed: carried in every Gradescope test's tags
    title: str  # what a student reads
    function: str  # what the submission defines for it: a function, or a class its worker contract reaches
    key: str | None = None  # for functions returning a dict: the entry graded here


@dataclass(frozen=True)
class SubsetOf:
    """The accepted values of a convention that is a list: some of these, at least one (in grading.toml
    a list; a value that is itself a list, such as an [f, g] pair, is held as a tuple)."""

    values: tuple


def _plain_title(part: Part, conventions: Any) -> str:
    return part.title


@dataclass(frozen=True, eq=False)
class Homework:
    """One homework's contract.

    parts: in the order they are graded and shown; a part with a key grades that entry of the dict
        its function returns. default_points: {part id: points} where grading.toml gives none.
    arguments: {function: its arguments' names, in order} (for showing a visible case's inputs).
    conventions: a frozen dataclass of the answer key's conventions, its defaults the handout's;
        convention_choices: {field: its accepted values, or a SubsetOf them} ([assignment] in grading.toml).
    graded_under(case, conventions): whether a course of these conventions grades on the case (None:
        every case); the engine reads the cases through visible(), diagnostic() and hidden().
    title_under: a part's title under the course's conventions (a formula may change with them).

    The cases and the answers (core.cases.Case, its inputs the homework's own):
    visible_cases(), diagnostic_cases(): the fixed cases, shown to students (the diagnostic ones only
        feed the diagnosis), the same objects' values on every call;
    hidden_bases(secret, count): the term's hidden problems; relabel(bases, secret, submission_id):
        the hidden cases of one upload (docs/hidden-cases.md: the same score on every upload);
    reference_answer(function, args, conventions): the reference's answer to a call of `function`;
    expected_answers(inputs, conventions): {part id: the reference's answer} on a case's inputs, for
        each part graded on it (what a class's shared wrong answer is set beside);
    tests_dir: the grading tests (test_* functions tagged with part ids, runner.py).
    reference_solution(config): the source of a submission that scores full marks under config's
        conventions (build-zip's smoke test, `pytest tests/` without --submission);
    handout_files(config): {file name: text} of what the handout gives students to fill in, the
        submission file's template first (the smoke test's "untouched template" scores 0; a class's
        submissions identical to one are no integrity signal); FileNotFoundError where the handout's
        sources are not at hand (a Gradescope root);
    secret_files: files student code must never read (the reference solution, what computes answers).
    build_handout(out, config): write the student handout folder `out` and its zip, return the zip's
        path; None: `handout` writes the handout_files alone, and says that is all there is.
    diagnoser: what names the likely cause of a failing part (a core.explain.DiagnoserFactory, which
        the drivers hand their Grader); None: failing parts are graded without one.
    worker_contract: a Python file run in the worker (sandbox/worker.py) whose resolve(module, name)
        gives what a call of `name` runs on the submission's imported module, or None where the
        submission lacks it (a class's method, say); None: a call names a module-level function.
        It runs beside student code: it reads the module, it never trusts what it finds there.
    entry_words(function, key): how a student knows the value `key` of a call of `function` (shown in
        check's `function`), where not as a returned dict's entry: "self.grads['dJdW1'] after ...";
        None (the field or its answer): as a returned value or a returned dict's entry.
    """

    name: str
    title: str
    submission_file: str
    runtime_packages: tuple[str, ...]  # what student code may import besides the standard library
    parts: tuple[Part, ...]
    default_points: dict[str, float]
    arguments: dict[str, tuple[str, ...]]
    conventions: type
    convention_choices: dict[str, tuple]
    visible_cases: Callable[[], list]
    diagnostic_cases: Callable[[], list]
    hidden_bases: Callable[[str, int], list]
    relabel: Callable[[list, str, str], list]
    reference_answer: Callable[[str, tuple, Any], Any]
    expected_answers: Callable[[Any, Any], dict]
    tests_dir: Path
    reference_solution: Callable[[Any], str]
    handout_files: Callable[[Any], dict[str, str]]
    secret_files: tuple[Path, ...]
    diagnoser: Callable[[Any], Any] | None = None
    entry_words: Callable[[str, str], str | None] | None = None
    build_handout: Callable[[Path, Any], Path] | None = None
    graded_under: Callable[[Any, Any], bool] | None = None
    worker_contract: Path | None = None
    title_under: Callable[[Part, Any], str] = field(default=_plain_title)

    # (derived once: read for every part of every submission)
    @cached_property
    def part_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parts)

    @cached_property
    def parts_by_id(self) -> dict[str, Part]:
        return {p.id: p for p in self.parts}

    @cached_property
    def functions(self) -> tuple[str, ...]:
        """The functions students define, in the parts' order."""
        return tuple(dict.fromkeys(p.function for p in self.parts))

    @cached_property
    def dict_keys(self) -> dict[str, tuple[str, ...]]:
        """{function returning a dict: the keys that dict must hold, in the parts' order}."""
        keys: dict[str, list[str]] = {}
        for p in self.parts:
            if p.key is not None:
                keys.setdefault(p.function, []).append(p.key)
        return {function: tuple(k) for function, k in keys.items()}

    def visible(self, conventions: Any) -> list:
        """The visible cases a course of these conventions grades on."""
        return self._under(self.visible_cases(), conventions)

    def diagnostic(self, conventions: Any) -> list:
        """The diagnostic cases a course of these conventions runs."""
        return self._under(self.diagnostic_cases(), conventions)

    def hidden(self, bases: list, secret: str, submission_id: str, conventions: Any) -> list:
        """One upload's hidden cases that a course of these conventions grades on."""
        return self._under(self.relabel(bases, secret, submission_id), conventions)

    def _under(self, cases: list, conventions: Any) -> list:
        return cases if self.graded_under is None else [c for c in cases if self.graded_under(c, conventions)]

    def part_title(self, part_id: str, conventions: Any) -> str:
        """The part's title under the course's conventions."""
        return self.title_under(self.parts_by_id[part_id], conventions)


def homework_named(name: str) -> Homework:
    """The Homework of `name` ([assignment] homework); ValueError naming the known ones if none."""
    if name not in HOMEWORKS:
        raise ValueError(f"no homework named {name!r}; the grader knows: {', '.join(HOMEWORKS)}")
    return importlib.import_module(HOMEWORKS[name]).HOMEWORK
