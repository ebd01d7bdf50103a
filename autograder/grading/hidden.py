"""Hidden cases: the same designed problems for every upload of a term, relabelled per upload.

A hidden case must grade a deterministic submission the same way on every upload, or re-uploading
the same file rerolls its score and two students with the same mistake get different grades. So:

1. **Designed, not merely random.** Each hidden case is built from a template (a shape and what it
   probes) so that it is informative for every part it checks: no dimension is 1; z1 has both
   signs, every entry at least 0.5 away from 0 (except the exact zeros a template puts there on
   purpose); y_hat has both signs; every entry of y_hat - y and of the gradient reaching each
   hidden unit is 0.5 to 2 in size; x has no entry near 0. A systematic mistake then changes every
   answer it touches by far more than the tolerance, never by a borderline amount. Values with
   random mantissas are also checked to be far from every half-precision number: an answer
   computed in float16 fails every hidden case, not one upload in three.
2. **One base per term.** The values of each template come from the config's secret only, so
   every upload of a term is graded on the same problems (and a new secret gives new ones).
3. **Relabelled per upload.** The submission id picks a relabelling of each base: inputs,
   hidden units and outputs permuted, inputs' signs flipped. The network computes the same
   function up to that relabelling, so code that treats the units of a layer alike (all code
   this assignment expects) gets the same verdict on every upload, while the values it sees differ
   from upload to upload and cannot be hard-coded. A regrade of the same id is identical.

The hidden cases mirror the informative visible categories (random mixed signs, exact zeros in
z1, large magnitudes, rectangular shapes). The degenerate visible ones (a dimension of 1, every
ReLU dead, y_hat = y) stay visible only: on them some wrong formulas give the right numbers, which
the visible tests explain, and a hidden case must not depend on such luck.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from reference import two_layer_net as ref

from ..core.cases import Case, Inputs, grid
from .answer_key import expected_answers

# A half-precision answer must miss the default tolerance band (rtol = atol = 1e-4) by this factor.
HALF_PRECISION_MARGIN = 1.1
DEFAULT_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Template:
    """What a hidden case probes, and its shape."""

    title: str  # shown with the hidden test's results (after the due date): never values
    n: int
    h: int
    k: int
    exact_zeros: bool = False  # every third unit of z1 exactly 0 (dyadic inputs)
    scale: float = 1.0  # a power of two: exact, so the mantissas (and float16 roundings) stay designed


TEMPLATES: tuple[Template, ...] = (
    Template("random inputs, every sign mixed (n=6, h=8, k=4)", 6, 8, 4),
    Template("some entries of z1 exactly 0 (n=5, h=9, k=3)", 5, 9, 3, exact_zeros=True),
    Template("large magnitudes, inputs around 100 (n=7, h=5, k=6)", 7, 5, 6, scale=128.0),
    Template("more outputs than hidden units (n=4, h=3, k=7)", 4, 3, 7),
)


def hidden_cases(secret: str, submission_id: str, count: int) -> list[Case]:
    """The `count` hidden cases of one upload: the term's bases, relabelled for this submission id."""
    return relabel(hidden_bases(secret, count), secret, submission_id)


def hidden_bases(secret: str, count: int) -> list[Inputs]:
    """The term's designed problems (they depend on the secret only); template i % 4 for the i-th."""
    return [design(TEMPLATES[index % len(TEMPLATES)], _seed("base", secret, str(index)))
            for index in range(count)]


def relabel(bases: list[Inputs], secret: str, submission_id: str) -> list[Case]:
    """Each base with its inputs, hidden units and outputs permuted and its inputs' signs flipped,
    as the secret and the submission id decide."""
    cases = []
    for index, base in enumerate(bases):
        rng = np.random.default_rng(_seed("relabel", secret, submission_id, str(index)))
        n, h, k = base.shape
        inputs, units, outputs = rng.permutation(n), rng.permutation(h), rng.permutation(k)
        signs = rng.choice([-1.0, 1.0], size=n)  # exact: x_j W1[:, j] keeps its value
        relabelled = Inputs(x=signs * base.x[inputs], W1=base.W1[units][:, inputs] * signs, b1=base.b1[units],
                            W2=base.W2[outputs][:, units], b2=base.b2[outputs], y=base.y[outputs])
        template = TEMPLATES[index % len(TEMPLATES)]
        cases.append(Case(f"hidden-{index + 1}", f"hidden case {index + 1}: {template.title}", True, relabelled))
    return cases


def design(template: Template, seed: int) -> Inputs:
    """A problem built to the template's rules (see the module's docstring), redrawn until its
    answers are all far from half precision."""
    rng = np.random.default_rng(seed)
    while True:
        inputs = _draw(template, rng)
        if far_from_half_precision(inputs):
            return inputs


def _draw(t: Template, rng: np.random.Generator) -> Inputs:
    n, h, k = t.n, t.h, t.k
    if t.exact_zeros:  # dyadic x and W1: the zero units' sums are exact in any order and precision
        x, W1 = grid(rng, n, nonzero=True), grid(rng, h, n)
    else:
        x, W1 = _sized(rng, n), rng.standard_normal((h, n)) / np.sqrt(n)
    zero = np.arange(h) % 3 == 0 if t.exact_zeros else np.zeros(h, dtype=bool)
    # z1: both signs among the non-zero units, in equal numbers (one more positive if odd)
    signs = np.where(np.arange((~zero).sum()) % 2 == 0, 1.0, -1.0)
    z1 = np.zeros(h)
    z1[~zero] = rng.permutation(signs) * _magnitudes(rng, int((~zero).sum()))
    b1 = z1 - W1 @ x  # exact where z1 is 0: dyadic sums
    z2 = ref.relu(ref.affine(x, W1, b1))
    d = _sized(rng, k)  # y_hat - y
    g = _sized(rng, h)  # dl/dz2 = W2^T 2 d: reaches every unit, dead or alive, zero or not
    W2 = rng.standard_normal((k, h)) / np.sqrt(h)
    W2 += np.outer(2 * d, g - W2.T @ (2 * d)) / (4 * d @ d)
    z3 = rng.permutation(np.where(np.arange(k) % 2 == 0, 1.0, -1.0)) * _magnitudes(rng, k)
    b2 = z3 - W2 @ z2
    y = ref.affine(z2, W2, b2) - d
    s = t.scale
    return Inputs(x=s * x, W1=W1, b1=s * b1, W2=W2, b2=s * b2, y=s * y)


def _magnitudes(rng: np.random.Generator, size: int) -> np.ndarray:
    """Uniform in [0.5, 2], each moved to near the middle between two neighbouring float16 numbers.

    float16 keeps 11 significant bits, so rounding such a value errs by 2.2e-4 to 4.9e-4 of it,
    more than the default band of the largest entry (2e-4 of it): a half-precision answer fails.
    The move is below 5e-4 relative: for every other purpose the values stay uniform.
    """
    mantissa, exponent = np.frexp(rng.uniform(0.5, 2.0, size))  # mantissa in [0.5, 1)
    middle = (np.floor(mantissa * 2**11) + 0.5 + rng.uniform(-0.05, 0.05, size)) / 2**11
    return np.ldexp(middle, exponent)


def _sized(rng: np.random.Generator, size: int) -> np.ndarray:
    """Random signs, magnitudes 0.5 to 2: nothing near 0, nothing dominating."""
    return rng.choice([-1.0, 1.0], size=size) * _magnitudes(rng, size)


def far_from_half_precision(i: Inputs) -> bool:
    """Every answer that half precision cannot hold exactly is, rounded to float16, wrong by more
    than HALF_PRECISION_MARGIN times the default tolerance somewhere."""
    for expected in expected_answers(i).values():
        expected = np.asarray(expected, dtype=np.float64)
        with np.errstate(over="ignore"):
            rounded = expected.astype(np.float16).astype(np.float64)
        if np.array_equal(rounded, expected):
            continue  # 0/1 Jacobians, exact zeros: no precision to lose
        bound = HALF_PRECISION_MARGIN * DEFAULT_TOLERANCE * (np.abs(expected) + np.abs(expected).max())
        if np.all(np.abs(rounded - expected) <= bound):  # (an overflow to inf is far, and fails this)
            return False
    return True


def _seed(*parts: str) -> int:
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")
