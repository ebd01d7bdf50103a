"""A homework of one class, Dot, whose method dot(a, b) returns a . b, that the engine knows only
through the homework interface (test_homework.py registers it under the name "toy-dot" and grades
with it): its cases, hidden cases, reference and grading test, and how a call reaches the class in
the worker (worker_contract.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.core.cases import Case
from autograder.core.homework import Homework, Part


@dataclass(frozen=True)
class Vectors:
    """a (n,), b (n,)."""

    a: np.ndarray
    b: np.ndarray

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.a, self.b


@dataclass(frozen=True)
class NoConventions:
    """(courses agree on a dot product)"""


def _vectors(seed: int, n: int) -> Vectors:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    a.flags.writeable = b.flags.writeable = False
    return Vectors(a, b)


def visible_cases() -> list[Case]:
    return [Case("short", "short vectors (n=3)", False, _vectors(1, 3)),
            Case("long", "long vectors (n=50)", False, _vectors(2, 50))]


def hidden_bases(secret: str, count: int) -> list[Vectors]:
    seed = int.from_bytes(hashlib.sha256(secret.encode()).digest()[:4], "big")
    return [_vectors(seed + i, 4 + i) for i in range(count)]


def relabel(bases: list[Vectors], secret: str, submission_id: str) -> list[Case]:
    """The same permutation of both vectors' entries: the dot product is unchanged."""
    out = []
    for number, base in enumerate(bases, start=1):
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(f"{secret}/{submission_id}".encode()).digest()[:4],
                                                   "big") + number)
        order = rng.permutation(base.a.shape[0])
        out.append(Case(f"hidden-{number}", f"hidden case {number}", True, Vectors(base.a[order], base.b[order])))
    return out


def reference_answer(function: str, args: tuple, conventions) -> np.ndarray:
    assert function == "dot"
    a, b = args
    return np.asarray(float(a @ b))


def expected_answers(inputs: Vectors, conventions) -> dict:
    return {"dot": reference_answer("dot", inputs.arrays, conventions)}


SOLUTION = "class Dot:\n    def dot(self, a, b):\n        return a @ b\n"
TEMPLATE = "class Dot:\n    def dot(self, a, b):\n        raise NotImplementedError\n"

HOMEWORK = Homework(
    name="toy-dot",
    title="Dot product",
    submission_file="dot.py",
    runtime_packages=("numpy",),
    parts=(Part("dot", "Dot product: Dot().dot(a, b)", "Dot"),),
    default_points={"dot": 3},
    arguments={"Dot": ("a", "b")},
    conventions=NoConventions,
    convention_choices={},
    visible_cases=visible_cases,
    diagnostic_cases=list,
    hidden_bases=hidden_bases,
    relabel=relabel,
    reference_answer=reference_answer,
    expected_answers=expected_answers,
    tests_dir=Path(__file__).absolute().parent / "grading_tests",
    reference_solution=lambda config: SOLUTION,
    handout_files=lambda config: {"dot.py": TEMPLATE},
    secret_files=(),
    worker_contract=Path(__file__).absolute().parent / "worker_contract.py",
)
