"""nyu-hw1's cases: networks (graded for each pair of activations) and the losses' targets.

A network case is one set of inputs with one (f, g): `Network`; the grading tests of the MLP's
parts run on those. A loss case holds y and y_hat only: `Targets`, graded for the losses' parts.
Every value is a float32 number (as the course's tensors are), held as float64: the reference
computes on exactly what the student's code is given.

Visible cases: the course's own test sizes, a batch of one, entries of z1 exactly 0 (dyadic inputs:
relu's derivative there is 0, as torch's autograd has it) and saturated sigmoids, each for the nine
(f, g); targets with y in (0, 1), hard labels, y_hat = y, and values outside (0, 1) for the MSE.
Hidden cases (the term's designs from the secret, relabelled per upload) are in hidden.py.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ...core.cases import Case, grid  # (grid: dyadic values, exact in float32 in any order)
from .answers import ACTIVATIONS, backward, forward

CONFIGURATIONS: tuple[tuple[str, str], ...] = tuple(itertools.product(ACTIVATIONS, ACTIVATIONS))
NETWORK_PARTS = frozenset({"mlp.forward", "mlp.backward.W1", "mlp.backward.b1", "mlp.backward.W2",
                           "mlp.backward.b2", "mlp.repeat"})
LOSS_PARTS = frozenset({"mlp.mse_loss", "mlp.mse_grad", "mlp.bce_loss", "mlp.bce_grad"})
MSE_PARTS = frozenset({"mlp.mse_loss", "mlp.mse_grad"})


def exact32(a) -> np.ndarray:
    """float64 holding float32 values, read-only (a Grader reuses the fixed cases)."""
    out = np.asarray(a, dtype=np.float32).astype(np.float64)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class Weights:
    """One network's inputs, whatever its activations: x (batch, n), W1 (h, n), b1 (h,), W2 (k, h),
    b2 (k,), and dJdy_hat (batch, k), the upstream gradient backward is given."""

    x: np.ndarray
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    dJdy_hat: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(batch, n, h, k)"""
        return self.x.shape[0], self.x.shape[1], self.b1.shape[0], self.b2.shape[0]


@dataclass(frozen=True)
class Network:
    """A network case: the weights and the activations f, g ("relu", "sigmoid" or "identity")."""

    f: str
    g: str
    weights: Weights

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        w = self.weights
        return w.W1, w.b1, w.W2, w.b2, w.x, w.dJdy_hat

    @property
    def given(self) -> tuple[np.ndarray, ...]:
        """What forward's call is given: the parameters, then x."""
        w = self.weights
        return w.W1, w.b1, w.W2, w.b2, w.x

    def call(self, kind: str) -> str:
        """The worker's name for a call ("forward", "backward" or "repeat") of this network."""
        return f"{kind}/{self.f}/{self.g}"

    def shown(self, kind: str) -> str:
        """How a student reads that call: MLP(f_function='relu', g_function='sigmoid').backward."""
        return shown_name(kind, self.f, self.g)


def shown_name(kind: str, f: str, g: str) -> str:
    method = {"forward": "forward", "backward": "backward", "repeat": "backward, twice"}[kind]
    return f"MLP(f_function='{f}', g_function='{g}').{method}"


@dataclass(frozen=True)
class Targets:
    """A loss case: y and y_hat, both (batch, k)."""

    y: np.ndarray
    y_hat: np.ndarray

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.y, self.y_hat


def network_cases(case_id: str, title: str, weights: Weights, hidden: bool = False) -> list[Case]:
    """The case of `weights` for each (f, g)."""
    return [Case(f"{case_id}-{f}-{g}", f"{title}; f={f}, g={g}", hidden, Network(f, g, weights), NETWORK_PARTS)
            for f, g in CONFIGURATIONS]


def random_weights(rng: np.random.Generator, batch: int, n: int, h: int, k: int) -> Weights:
    return Weights(x=exact32(rng.standard_normal((batch, n))), W1=exact32(rng.standard_normal((h, n)) / np.sqrt(n)),
                   b1=exact32(rng.standard_normal(h) * 0.5), W2=exact32(rng.standard_normal((k, h)) / np.sqrt(h)),
                   b2=exact32(rng.standard_normal(k) * 0.5), dJdy_hat=exact32(rng.standard_normal((batch, k))))


def zeros_in_z1(rng: np.random.Generator, batch: int, n: int, h: int, k: int) -> Weights:
    """Dyadic x and W1 with z1 exactly 0 in every other unit for one row of the batch each (and the
    gradient reaching those units is not 0)."""
    x, W1 = grid(rng, batch, n, nonzero=True), grid(rng, h, n)
    b1 = grid(rng, h)
    for unit in range(0, h, 2):
        b1[unit] = -(x[unit % batch] @ W1[unit])
    w = random_weights(rng, batch, n, h, k)
    return Weights(exact32(x), exact32(W1), exact32(b1), w.W2, w.b2, w.dJdy_hat)


def saturated(rng: np.random.Generator, batch: int, n: int, h: int, k: int) -> Weights:
    """Half the hidden units and the first output driven to |z| of about 5 to 8: their sigmoids
    saturate (slopes of 3e-4 to 7e-3), the others stay moderate."""
    w = random_weights(rng, batch, n, h, k)
    W1, b1, b2 = np.array(w.W1), np.array(w.b1), np.array(w.b2)
    for unit in range(h // 2):
        W1[unit] *= 0.25  # the batch's spread around the unit's level stays small
        b1[unit] = rng.uniform(5.0, 8.0) * rng.choice([-1.0, 1.0]) - (w.x @ W1[unit]).mean()
    b2[0] += 6.0
    return Weights(w.x, exact32(W1), exact32(b1), w.W2, exact32(b2), w.dJdy_hat)


def random_targets(rng: np.random.Generator, batch: int, k: int, labels: bool = False) -> Targets:
    y_hat = 1.0 / (1.0 + np.exp(-rng.standard_normal((batch, k)) * 1.5))
    y_hat = np.clip(y_hat, 0.05, 0.95)
    y = rng.integers(0, 2, size=(batch, k)).astype(np.float64) if labels else rng.uniform(0.0, 1.0, (batch, k))
    return Targets(exact32(y), exact32(y_hat))


def lively(w: Weights) -> bool:
    """Whether, for every (f, g), y_hat and each of the four gradients has an entry other than 0: an
    answer of zeros (an untouched template's) is then wrong on every case."""
    for f, g in CONFIGURATIONS:
        given = (w.W1, w.b1, w.W2, w.b2, w.x)
        answers = [forward(f, g, *given)["y_hat"], *backward(f, g, *given, w.dJdy_hat).values()]
        if not all(np.any(a != 0) for a in answers):
            return False
    return True


def _first_lively(seed: int, make, *sizes: int) -> Weights:
    """make(rng, *sizes) for seed, seed + 1000, ... until lively (the same weights on every run)."""
    while not lively(w := make(np.random.default_rng(seed), *sizes)):
        seed += 1000
    return w


def visible_cases() -> list[Case]:
    rng = np.random.default_rng
    cases = []
    for case_id, title, (seed, make, sizes) in (
        ("course", "the course's test sizes (batch 10, n=2, h=20, k=5)", (1, random_weights, (10, 2, 20, 5))),
        ("batch1", "a batch of one (n=3, h=4, k=2)", (2, random_weights, (1, 3, 4, 2))),
        ("zeros", "z1 exactly 0 in some entries (batch 4, n=3, h=6, k=3)", (3, zeros_in_z1, (4, 3, 6, 3))),
        ("saturated", "saturated units: |z| of 5 to 8 (batch 5, n=4, h=6, k=3)", (4, saturated, (5, 4, 6, 3))),
    ):
        weights = _first_lively(seed, make, *sizes)
        cases += network_cases(case_id, title, weights)
    same = random_targets(rng(13), 3, 4)
    wide = rng(14).standard_normal((2, 2, 5)) * 3.0
    cases += [
        Case("loss-course", "targets y in (0, 1) (batch 10, k=5)", False, random_targets(rng(11), 10, 5), LOSS_PARTS),
        Case("loss-batch1", "a batch of one (k=3)", False, random_targets(rng(12), 1, 3), LOSS_PARTS),
        Case("loss-labels", "labels y of 0 and 1 (batch 6, k=2)", False, random_targets(rng(15), 6, 2, labels=True),
             LOSS_PARTS),
        Case("loss-exact", "y_hat = y (batch 3, k=4)", False, Targets(same.y_hat, same.y_hat), LOSS_PARTS),
        Case("loss-wide", "values outside (0, 1) (batch 2, k=5; the MSE only)", False,
             Targets(exact32(wide[0]), exact32(wide[1])), MSE_PARTS),
    ]
    return cases


def diagnostic_cases() -> list[Case]:
    """Inputs a failing part's calls are also run on, only to confirm a likely cause on inputs the
    student never saw (diagnosis.py), never scored: a network with z1 exactly 0 in some entries, for
    each (f, g), and two sets of targets."""
    rng = np.random.default_rng
    cases = network_cases("diagnostic-1", "extra case: z1 exactly 0 in some entries (batch 3, n=3, h=5, k=2)",
                          _first_lively(101, zeros_in_z1, 3, 3, 5, 2))
    return cases + [
        Case("diagnostic-loss-1", "extra case: targets y in (0, 1) (batch 4, k=3)", False,
             random_targets(rng(111), 4, 3), LOSS_PARTS),
        Case("diagnostic-loss-2", "extra case: labels y of 0 and 1 (batch 3, k=2)", False,
             random_targets(rng(112), 3, 2, labels=True), LOSS_PARTS),
    ]
