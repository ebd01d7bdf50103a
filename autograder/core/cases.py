"""The inputs the grader builds for each test case, and the visible cases: pure functions of a seed.

Visible cases are fixed (students can reason about them); hidden cases (hidden.py) are designed
problems whose values derive from the config's secret, relabelled for each submission id.

Cases that need exact values (zeros in z1, outputs equal to targets) draw every input from the
dyadic grid {-2, -1.75, ..., 2}: every product and partial sum is then exactly representable in
float32 and float64, so z1 is exactly 0 whatever the summation order or precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference import two_layer_net as ref


@dataclass(frozen=True)
class Inputs:
    """x (n,), W1 (h, n), b1 (h,), W2 (k, h), b2 (k,), y (k,), all float64."""

    x: np.ndarray
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        # a Grader reuses the visible cases for every submission: nothing may change them
        for array in self.arrays:
            array.flags.writeable = False

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """x, W1, b1, W2, b2, y"""
        return self.x, self.W1, self.b1, self.W2, self.b2, self.y

    @property
    def params(self) -> tuple[np.ndarray, ...]:
        return self.W1, self.b1, self.W2, self.b2

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n, h, k)"""
        return self.x.shape[0], self.b1.shape[0], self.b2.shape[0]


@dataclass(frozen=True)
class Case:
    id: str  # stable, used in pytest ids: "small", "hidden-2"
    title: str  # what a student reads (hidden cases say nothing of their inputs)
    hidden: bool
    inputs: Inputs  # (a homework's own type: the engine reads only its `arrays`)
    parts: frozenset[str] | None = None  # the parts graded on this case; None: every part

    def grades(self, part: str) -> bool:
        """Whether the grading tests of `part` run on this case."""
        return self.parts is None or part in self.parts


def grid(rng: np.random.Generator, *shape: int, nonzero: bool = False) -> np.ndarray:
    values = rng.integers(1, 9, size=shape) * rng.choice([-1, 1], size=shape) if nonzero \
        else rng.integers(-8, 9, size=shape)
    return values / 4.0


def _random(seed: int, n: int, h: int, k: int, scale: float = 1.0) -> Inputs:
    rng = np.random.default_rng(seed)
    return Inputs(*(scale * rng.standard_normal(s) for s in ((n,), (h, n), (h,), (k, h), (k,), (k,))))


def _with(inputs: Inputs, **changes) -> Inputs:
    fields = {name: getattr(inputs, name) for name in ("x", "W1", "b1", "W2", "b2", "y")}
    fields.update(changes)
    return Inputs(**fields)


def zeros_in_z1(seed: int, n: int = 4, h: int = 6, k: int = 3) -> Inputs:
    """Dyadic inputs where z1 is exactly 0 in every other unit, and the gradient reaching them is not."""
    rng = np.random.default_rng(seed)
    x, W1 = grid(rng, n, nonzero=True), grid(rng, h, n)
    b1 = grid(rng, h)
    b1[::2] = -(W1 @ x)[::2]  # exact: all terms are small multiples of 1/16
    W2 = grid(rng, k, h, nonzero=True)
    return Inputs(x, W1, b1, W2, grid(rng, k), rng.standard_normal(k))


def exact_fit(seed: int, n: int = 3, h: int = 5, k: int = 2) -> Inputs:
    """Dyadic inputs with y equal to the network's output, so the loss and every gradient are exactly 0."""
    rng = np.random.default_rng(seed)
    inputs = Inputs(grid(rng, n), grid(rng, h, n), grid(rng, h), grid(rng, k, h), grid(rng, k), np.zeros(k))
    return _with(inputs, y=ref.forward(inputs.x, *inputs.params)["y_hat"])


def all_dead(seed: int, n: int = 4, h: int = 5, k: int = 3) -> Inputs:
    """Every unit of the hidden layer below 0: z2 = 0 and the gradients of W1, b1, W2 vanish."""
    i = _random(seed, n, h, k)
    return _with(i, b1=-(np.abs(i.W1) @ np.abs(i.x)) - 1.0)


def all_alive(seed: int, n: int = 4, h: int = 5, k: int = 3) -> Inputs:
    i = _random(seed, n, h, k)
    return _with(i, b1=np.abs(i.W1) @ np.abs(i.x) + 1.0)


def negative_outputs(seed: int, n: int = 3, h: int = 4, k: int = 3) -> Inputs:
    """y_hat < 0 in every entry (and targets of both signs)."""
    i = _random(seed, n, h, k)
    z2 = ref.relu(ref.affine(i.x, i.W1, i.b1))
    return _with(i, b2=-(np.abs(i.W2) @ z2) - 1.0)


def visible_cases() -> list[Case]:
    return [
        Case("small", "small random inputs (n=3, h=4, k=2)", False, _random(1, 3, 4, 2)),
        Case("single", "n = h = k = 1", False, _with(_random(2, 1, 1, 1), b1=np.array([0.5]), W1=np.array([[1.5]]),
                                                     x=np.array([2.0]))),
        Case("rectangular", "random inputs, n=7, h=5, k=3", False, _random(3, 7, 5, 3)),
        Case("n1", "edge shape n=1 (h=5, k=3)", False, _random(4, 1, 5, 3)),
        Case("h1", "edge shape h=1 (n=6, k=2)", False, _with(_random(5, 6, 1, 2), b1=np.array([10.0]))),
        Case("k1", "edge shape k=1 (n=4, h=3)", False, _random(6, 4, 3, 1)),
        Case("zeros_in_z1", "some entries of z1 exactly 0 (n=4, h=6, k=3)", False, zeros_in_z1(7)),
        Case("all_dead", "every ReLU inactive: z1 < 0 (n=4, h=5, k=3)", False, all_dead(8)),
        Case("all_alive", "every ReLU active: z1 > 0 (n=4, h=5, k=3)", False, all_alive(9)),
        Case("negative_outputs", "negative outputs y_hat < 0 (n=3, h=4, k=3)", False, negative_outputs(10)),
        Case("exact_fit", "outputs equal to targets: y_hat = y (n=3, h=5, k=2)", False, exact_fit(11)),
        Case("large", "large magnitudes, inputs around 100 (n=5, h=4, k=3)", False, _random(12, 5, 4, 3, scale=100.0)),
    ]


def diagnostic_cases() -> list[Case]:
    """Inputs a failing part's function is also run on, only to explain its failure, never scored:
    the visible cases hold one case with z1 exactly 0 and diagnose.py wants a mistake shown on two.
    (Not hidden: nothing about them is secret.)"""
    return [
        Case("diagnostic-1", "extra case: z1 exactly 0 in some units (n=3, h=5, k=2)", False,
             zeros_in_z1(101, 3, 5, 2)),
        Case("diagnostic-2", "extra case: z1 exactly 0 in some units (n=5, h=4, k=4)", False,
             zeros_in_z1(102, 5, 4, 4)),
        Case("diagnostic-3", "extra case: negative outputs (n=2, h=6, k=3)", False, negative_outputs(103, 2, 6, 3)),
    ]
