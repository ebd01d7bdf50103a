"""nyu-hw1's hidden cases: the same designed problems for every upload of a term, relabelled per
upload (docs/hidden-cases.md states the rule; grading/hidden.py is the two-layer net's).

1. Designed: each base follows a template (its sizes and what it probes), redrawn until it is
   informative for every (f, g): no dimension is 1, and every entry of z1 (but the exact zeros a
   template puts there) and of z3 is at least 0.01 from 0, so float32 rounding never turns a ReLU
   on or off; the upstream gradient has no entry near 0.
2. One base per term: the values come from the config's secret only.
3. Relabelled per upload: the batch's rows, the inputs (with their signs), the hidden units and the
   outputs permuted, as the secret and the submission id decide. Code that treats the units of a
   layer alike (all code the course expects) computes the same numbers, relabelled, so it gets the
   same verdict on every upload, while the values it sees cannot be hard-coded.
Each base gives one case per (f, g), and one loss case of targets with the same relabelling.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ...core.cases import Case
from .answers import ACTIVATIONS, activation
from .cases import (
    LOSS_PARTS,
    Targets,
    Weights,
    exact32,
    lively,
    network_cases,
    random_targets,
    random_weights,
    zeros_in_z1,
)

SMALLEST = 0.01  # |z1|, |z3| at least this (but designed zeros)


@dataclass(frozen=True)
class Template:
    """What a hidden base probes, and its sizes."""

    title: str  # shown with the hidden tests' results (after the due date): never values
    batch: int
    n: int
    h: int
    k: int
    zeros: bool = False  # z1 exactly 0 in every other unit for one row (dyadic inputs)
    scale: float = 1.0  # x multiplied by this (a power of two: exact)


TEMPLATES: tuple[Template, ...] = (
    Template("random inputs, every sign mixed (batch 6, n=4, h=8, k=3)", 6, 4, 8, 3),
    Template("z1 exactly 0 in some entries (batch 5, n=3, h=6, k=4)", 5, 3, 6, 4, zeros=True),
    Template("large inputs, some units saturated (batch 4, n=5, h=6, k=3)", 4, 5, 6, 3, scale=4.0),
    Template("more outputs than hidden units (batch 7, n=3, h=3, k=6)", 7, 3, 3, 6),
)


@dataclass(frozen=True)
class Base:
    """One designed problem of the term: a network's weights and a loss's targets."""

    number: int  # from 1, its place among the term's bases
    template: Template
    weights: Weights
    targets: Targets


def hidden_bases(secret: str, count: int) -> list[Base]:
    """The term's designed problems (they depend on the secret only); template i % 4 for the i-th."""
    return [design(index + 1, TEMPLATES[index % len(TEMPLATES)], _seed("base", secret, str(index)))
            for index in range(count)]


def design(number: int, t: Template, seed: int) -> Base:
    rng = np.random.default_rng(seed)
    while True:
        w = zeros_in_z1(rng, t.batch, t.n, t.h, t.k) if t.zeros else random_weights(rng, t.batch, t.n, t.h, t.k)
        if t.scale != 1.0:
            w = Weights(exact32(w.x * t.scale), w.W1, w.b1, w.W2, w.b2, w.dJdy_hat)
        if informative(w) and lively(w):
            return Base(number, t, w, random_targets(rng, t.batch, t.k))


def informative(w: Weights) -> bool:
    """No entry of z1 (but an exact 0) nor of z3, under any f, within SMALLEST of 0; none of dJdy_hat
    within 0.1 of 0."""
    z1 = w.x @ w.W1.T + w.b1
    if np.any((np.abs(z1) < SMALLEST) & (z1 != 0)) or np.any(np.abs(w.dJdy_hat) < 0.1):
        return False
    return all(np.all(np.abs(activation(f, z1) @ w.W2.T + w.b2) >= SMALLEST) for f in ACTIVATIONS)


def relabel(bases: list[Base], secret: str, submission_id: str) -> list[Case]:
    """Each base's cases with the batch, the inputs (and their signs), the hidden units and the outputs
    permuted, as the secret and the submission id decide."""
    cases: list[Case] = []
    for base in bases:
        w, t = base.weights, base.targets
        rng = np.random.default_rng(_seed("relabel", secret, submission_id, str(base.number)))
        batch, n, h, k = w.shape
        rows, inputs, units, outputs = (rng.permutation(size) for size in (batch, n, h, k))
        signs = rng.choice([-1.0, 1.0], size=n)  # exact: x_j W1[:, j] keeps its value
        moved = Weights(x=exact32(w.x[rows][:, inputs] * signs), W1=exact32(w.W1[units][:, inputs] * signs),
                        b1=exact32(w.b1[units]), W2=exact32(w.W2[outputs][:, units]), b2=exact32(w.b2[outputs]),
                        dJdy_hat=exact32(w.dJdy_hat[rows][:, outputs]))
        title = f"hidden case {base.number}: {base.template.title}"
        cases += network_cases(f"hidden-{base.number}", title, moved, hidden=True)
        cases.append(Case(f"hidden-{base.number}-loss", f"hidden case {base.number}: its targets", True,
                          Targets(exact32(t.y[rows][:, outputs]), exact32(t.y_hat[rows][:, outputs])), LOSS_PARTS))
    return cases


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(("nyu-hw1", *parts)).encode()).digest()[:8], "big")
