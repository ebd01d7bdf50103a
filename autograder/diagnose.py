"""Name what went wrong in a part, from the student's answers on every visible case: no I/O.

A student acts on a diagnosis, so a wrong one costs more than none. An explanation is a claim
about the student's function (its answer equals this quantity, or is the right one rounded to
float16, or is right wherever z1 > 0) and is named only on evidence across the visible cases:

- an answer claim ("your answer equals A(inputs)") must agree with the student's answer on every
  visible case that has one, and differ from the right answer, with an informative A (not all
  zeros, not constant), on at least two of them;
- a relation claim (rounding, shape, localisation) must hold on every such case and be
  non-trivially true on at least two failing ones.

Claims are tried in groups, most specific first: known mistakes (mistakes.CATALOGUE), the
relations of rounding and shape, the network's quantities ("your dl/db1 equals W2^T dl/dz3
before the ReLU mask"), then localisations (right where z1 > 0, up to a constant factor, except
the sign, except one row). The first group with a match explains the part; two answer claims that
differ on fresh inputs but both fit are named together in one sentence; more, and the group says
nothing. `holds` is the claim as a predicate on any inputs: the project's tests check every named
explanation on inputs the grader never used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .cases import Inputs, all_dead, negative_outputs, zeros_in_z1
from .compare import agrees, mismatches
from .config import Tolerance
from .mistakes import (
    ANSWER_WORDS,
    MESSAGES,
    RELATIONS,
    RIGHT_WORDS,
    TITLES,
    Signals,
    catalogue,
    quantities,
    signals,
)

# The relative error of float16 rounding (2^-11), times a bound on the operations behind one entry.
FLOAT16_ROUNDING = 16 * 2.0 ** -11
# hidden-unit axis of each part's answer: localisation by the sign of z1
UNIT_AXIS = {"relu": 0, "forward.z2": 0, "relu_jacobian": 0, "grad.W1": 0, "grad.b1": 0, "grad.W2": 1}
# mistakes in dl/dz3 show in dl/db2 = dl/dz3 too: named for another gradient only when dl/db2 shows them
DOWNSTREAM_OF_DZ3 = ("grad.W1", "grad.b1", "grad.W2")


@dataclass(frozen=True)
class Observation:
    """A student's answer for one part on one visible case (received: None when the call gave none)."""

    case_id: str
    inputs: Inputs
    received: np.ndarray | None
    expected: np.ndarray
    passed: bool


@dataclass(frozen=True)
class Explanation:
    """What the student reads for a part, in a sentence or two, and the ids recorded for statistics."""

    ids: tuple[str, ...]  # catalogue ids, relation ids, "computed:<quantity>", "localised:<kind>"
    title: str  # a few words for summaries
    message: str
    claims: tuple[Claim, ...] = field(default=(), compare=False, repr=False)  # what was claimed (see holds)


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    message: str
    # an answer claim: the answer it predicts from a case's signals ...
    answer: Callable[[Signals], np.ndarray] | None = None
    # ... or a relation claim: fits(signals, received, expected, tol) on every case, and
    # counts(signals, received, expected) on the failing cases that are evidence for it
    fits: Callable[..., bool] | None = None
    counts: Callable[..., bool] | None = None
    key: str = ""  # unique among a part's claims (two forms of one mistake share an id): for caching answers


def holds(claim: Claim, inputs: Inputs, received: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:
    """The claim, as a predicate on one case: what the tests check on inputs the grader never saw."""
    s = signals(inputs)
    if claim.answer is not None:
        return agrees(received, claim.answer(s), tol)
    return _fits(claim, s, received, expected, tol)


class Diagnoser:
    """Explains parts; keeps what the fixed visible cases need (their signals and claim answers)."""

    def __init__(self, tolerances: dict[str, Tolerance]):
        self.tolerances = tolerances
        self._signals: dict[str, Signals] = {}
        self._answers: dict[tuple, np.ndarray] = {}
        self._probes: list[Signals] | None = None

    def explain(self, observed: dict[str, list[Observation]]) -> dict[str, Explanation]:
        """An explanation for each part whose visible answers have one (parts that pass get none)."""
        out: dict[str, Explanation] = {}
        order = sorted(observed, key=lambda p: p in DOWNSTREAM_OF_DZ3)  # dl/db2 before the gradients that use it
        for part in order:
            b2 = out.get("grad.b2")
            b2_right = all(o.passed for o in observed.get("grad.b2", [])) and "grad.b2" in observed
            found = self.explain_part(part, observed[part], upstream=b2.ids if b2 and part in DOWNSTREAM_OF_DZ3
                                      else () if part in DOWNSTREAM_OF_DZ3 else None, b2_right=b2_right)
            if found:
                out[part] = found
        return {part: out[part] for part in observed if part in out}

    def explain_part(self, part: str, observations: list[Observation], upstream: tuple[str, ...] | None = None,
                     b2_right: bool = False) -> Explanation | None:
        """upstream: for a gradient downstream of dl/dz3, the mistakes named for dl/db2 (only those
        of dl/dz3's mistakes may be named here); None: no such restriction."""
        answered = [o for o in observations if o.received is not None]
        failing = [o for o in answered if not o.passed]
        if not failing:
            return None
        answered = failing + [o for o in answered if o.passed]  # a failing case refutes most claims soonest
        tol = self.tolerances[part]
        with np.errstate(all="ignore"):  # an answer may hold inf or NaN: claims that allow none are refuted
            return self._first_fitting(part, failing[0], answered, tol, upstream, b2_right)

    def _first_fitting(self, part: str, first: Observation, answered: list[Observation], tol: Tolerance,
                       upstream: tuple[str, ...] | None, b2_right: bool) -> Explanation | None:
        groups = self.claims(part, first, upstream, b2_right)
        if not all(np.all(np.isfinite(o.received)) for o in answered):
            groups = [groups[1]]  # NaN or inf in an answer: only rounding (float16's overflow) explains that
        for group in groups:
            fitting = [c for c in group if self._fits_all(part, c, answered, tol)]
            if not fitting:
                continue
            if fitting[0].answer is None:  # relations: the first that holds is true, and enough
                return _explanation((fitting[0],))
            distinct = self._distinct(part, fitting, tol)
            if len(distinct) <= 2:
                return _explanation(tuple(distinct))
        return None

    def claims(self, part: str, first: Observation, upstream: tuple[str, ...] | None,
               b2_right: bool) -> list[list[Claim]]:
        """The claims for `part`, in groups tried in order (see the module's docstring)."""
        known = [Claim(m.id, m.title, MESSAGES[m.id], m.answers[part], key=f"{m.id}#{form}")
                 for form, m in enumerate(catalogue(part)) if upstream is None or not m.upstream or m.id in upstream]
        relations = [_relation(part, name) for name in RELATIONS]
        shape = np.shape(first.expected)
        sizes = {name: value.shape[0] for name, value in self._signals_of(first).items() if value.ndim == 1}
        computed = [_quantity_claim(part, q, b2_right) for q in quantities(part, shape, sizes)]
        return [known, relations, computed, _localisations(part, first, self._signals_of(first))]

    def _signals_of(self, o: Observation) -> Signals:
        if o.case_id not in self._signals:
            self._signals[o.case_id] = signals(o.inputs)
        return self._signals[o.case_id]

    def _answer(self, part: str, claim: Claim, o: Observation) -> np.ndarray:
        key = (o.case_id, part, claim.key or claim.id)
        if key not in self._answers:
            self._answers[key] = np.asarray(claim.answer(self._signals_of(o)), dtype=np.float64)
        return self._answers[key]

    def _fits_all(self, part: str, claim: Claim, answered: list[Observation], tol: Tolerance) -> bool:
        evidence = 0
        for o in answered:
            s = self._signals_of(o)
            if claim.answer is None:
                if not _fits(claim, s, o.received, o.expected, tol):
                    return False
                evidence += not o.passed and claim.counts(s, o.received, o.expected)
                continue
            predicted = self._answer(part, claim, o)
            if not agrees(o.received, predicted, tol):
                return False
            evidence += _informative(predicted, o.expected) and not agrees(predicted, o.expected, tol)
        return evidence >= 2

    def _distinct(self, part: str, claims: list[Claim], tol: Tolerance) -> list[Claim]:
        """The claims that give different answers somewhere on fresh inputs (the first of each kind)."""
        if self._probes is None:
            self._probes = [signals(i) for i in probe_inputs()]
        kept: list[Claim] = []
        for claim in claims:
            if any(claim.id == other.id for other in kept):
                continue  # one mistake with two forms (a Jacobian not diagonal by rows or by columns)
            if not any(all(_same(claim.answer(s), other.answer(s), tol) for s in self._probes) for other in kept):
                kept.append(claim)
        return kept


LOCALISED_TITLES = {"localised:right_where_active": "right only where z1 > 0",
                    "localised:right_where_inactive": "right only where z1 <= 0",
                    "localised:scaled": "off by a constant factor", "localised:sign": "sign wrong in some entries",
                    "localised:one_row": "wrong in one row", "localised:one_column": "wrong in one column",
                    "localised:one_entry": "wrong in one entry"}


def describe(mistake_id: str) -> str:
    """A few words for an id recorded in results.json (for the class report)."""
    if mistake_id in TITLES:
        return TITLES[mistake_id]
    if mistake_id in LOCALISED_TITLES:
        return LOCALISED_TITLES[mistake_id]
    if mistake_id.startswith("computed:"):
        return "computed " + mistake_id.split(":", 1)[1].replace("outer:", "outer product of ").replace("times:", "x ")
    return mistake_id


def probe_inputs() -> list[Inputs]:
    """Fresh inputs of several shapes, on which two claims that agree are taken for the same function."""
    rng = np.random.default_rng(20261202)
    out = [zeros_in_z1(3, 3, 6, 2), negative_outputs(4, 2, 5, 3), all_dead(5, 3, 4, 2)]
    for n, h, k in ((3, 4, 2), (5, 3, 4), (2, 6, 3), (4, 5, 5)):
        out.append(Inputs(*(rng.standard_normal(s) for s in ((n,), (h, n), (h,), (k, h), (k,), (k,)))))
    return out


def _same(a: np.ndarray, b: np.ndarray, tol: Tolerance) -> bool:
    return np.shape(a) == np.shape(b) and agrees(a, b, tol)


def _informative(answer: np.ndarray, expected: np.ndarray) -> bool:
    """An answer that says something: not all zeros, not one value repeated (unless its shape itself,
    differing from the right one's, is the evidence)."""
    answer = np.asarray(answer)
    if answer.size == 0 or not np.any(answer):
        return False
    return answer.size == 1 or answer.shape != np.shape(expected) or not np.all(answer == answer.flat[0])


def _fits(claim: Claim, s: Signals, received: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:
    received, expected = np.asarray(received, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    with np.errstate(all="ignore"):
        return bool(claim.fits(s, received, expected, tol))


def _explanation(claims: tuple[Claim, ...]) -> Explanation:
    if len(claims) == 1:
        return Explanation((claims[0].id,), claims[0].title, claims[0].message, claims)
    a, b = claims
    return Explanation((a.id, b.id), f"{a.title} or {b.title}",
                       f"Two explanations fit your answers on every visible case: {a.title}, or {b.title}. "
                       f"{a.message} Or: {b.message}", claims)


# ------------------------------------------------------------------------------------------------
# Relations: rounding and shape


def _same_shape(received: np.ndarray, expected: np.ndarray) -> np.ndarray | None:
    """received in expected's shape if only singleton axes differ (as compare accepts), else None."""
    if received.shape == expected.shape:
        return received
    squeeze = lambda shape: tuple(d for d in shape if d != 1)  # noqa: E731
    return received.reshape(expected.shape) if squeeze(received.shape) == squeeze(expected.shape) else None


def magnitude(part: str, s: Signals) -> np.ndarray:
    """Each entry's answer computed from the absolute values of everything it is built from (float64):
    rounding every step of a computation to a relative precision u moves an entry by at most about
    u times this. 0 for the Jacobians, whose 0/1 entries no rounding changes."""
    a = {name: np.abs(v) for name, v in s.items()}
    z1 = a["W1"] @ a["x"] + a["b1"]
    z3 = a["W2"] @ z1 + a["b2"]
    d3 = 2 * (z3 + a["y"])
    given_d3 = 2 * (a["z3"] + a["y"])  # mse_grad and mse_loss are handed y_hat, not x
    return {
        "affine": lambda: z1, "forward.z1": lambda: z1, "relu": lambda: a["z1"], "forward.z2": lambda: z1,
        "forward.z3": lambda: z3, "forward.y_hat": lambda: z3, "loss": lambda: np.array(given_d3 @ given_d3 / 4),
        "relu_jacobian": lambda: np.zeros((len(z1),) * 2), "output_jacobian": lambda: np.zeros((len(z3),) * 2),
        "mse_grad": lambda: given_d3, "grad.b2": lambda: d3, "grad.W2": lambda: np.outer(d3, z1),
        "grad.b1": lambda: a["W2"].T @ d3, "grad.W1": lambda: np.outer(a["W2"].T @ d3, a["x"]),
    }[part]()


def _relation(part: str, name: str) -> Claim:
    def rounded(s, r, e, tol):
        r = _same_shape(r, e)
        if r is None:
            return False
        return agrees(r, e, tol) or any(np.array_equal(r, f(e)) for f in (np.round, np.trunc, np.floor))

    def float16(s, r, e, tol):
        r = _same_shape(r, e)
        if r is None:
            return False
        overflow = np.isinf(e.astype(np.float16))  # beyond float16's largest number (65504): inf
        return bool(np.all(~mismatches(r, e, tol) | (np.abs(r - e) <= FLOAT16_ROUNDING * magnitude(part, s))
                           | overflow & (r == e.astype(np.float16))))

    def reshaped(s, r, e, tol):
        return r.size == e.size and agrees(r.reshape(e.shape), e, tol)

    fits, counts = {
        "integer_values": (rounded, lambda s, r, e: bool(np.any(e != np.round(e)))),
        "low_precision": (float16, lambda s, r, e: True),
        "wrong_shape_same_values": (reshaped, lambda s, r, e: _same_shape(r, e) is None),
    }[name]
    title, message = RELATIONS[name]
    return Claim(name, title, message, fits=fits, counts=counts)


# ------------------------------------------------------------------------------------------------
# What you computed


def _quantity_claim(part: str, q, b2_right: bool) -> Claim:
    answer = ANSWER_WORDS[part]
    if q.id.startswith("times:"):
        message = f"Your {answer} is {q.words} on every visible case."
        if part in DOWNSTREAM_OF_DZ3 and b2_right:
            message += " Your dl/db2 = dl/dz3 is right, so the slip is in this gradient's own step, not in dl/dy_hat."
        title = q.words
    else:
        message = f"Your {answer} equals {q.words} on every visible case, where {RIGHT_WORDS[part]} is right" + \
                  (f": {q.step}." if q.step else ".")
        title = f"{answer} = {q.words}"
    return Claim(f"computed:{q.id}", title, message, q.answer)


# ------------------------------------------------------------------------------------------------
# Localisation: where the answer is right and where it is wrong


RIGHT_SHAPES = {"affine": ("h",), "relu": ("h",), "forward.z1": ("h",), "forward.z2": ("h",), "forward.z3": ("k",),
                "forward.y_hat": ("k",), "loss": (), "relu_jacobian": ("h", "h"), "output_jacobian": ("k", "k"),
                "mse_grad": ("k",), "grad.W1": ("h", "n"), "grad.b1": ("h",), "grad.W2": ("k", "h"), "grad.b2": ("k",)}


def _sizes(s: Signals) -> dict[str, int]:
    return {"n": s["x"].shape[0], "h": s["z1"].shape[0], "k": s["z3"].shape[0], "1": 1}


def _shape_words(template: tuple[str, ...]) -> str:
    return "()" if not template else f"({template[0]},)" if len(template) == 1 else f"({', '.join(template)})"


def _shape_claims(part: str, first: Observation, s: Signals) -> list[Claim]:
    """Your answer's shape, in n, h and k, where another is right: one claim per way of reading it."""
    received, expected = np.asarray(first.received), np.asarray(first.expected)
    if _same_shape(received, expected) is not None or received.ndim > 3:
        return []
    sizes = _sizes(s)
    options = [[name for name, size in sizes.items() if size == d] for d in received.shape]
    templates = [()]
    for names in options:
        templates = [t + (name,) for t in templates for name in names]
    answer, right = ANSWER_WORDS[part], _shape_words(RIGHT_SHAPES[part])
    return [Claim("localised:shape", f"shape {_shape_words(t)} instead of {right}",
                  f"Your {answer} has shape {_shape_words(t)} on every visible case, where {right} is right.",
                  fits=lambda s, r, e, tol, t=t: r.shape == tuple(_sizes(s)[d] for d in t),
                  counts=lambda s, r, e, t=t: _same_shape(np.zeros(tuple(_sizes(s)[d] for d in t)), e) is None)
            for t in templates]


def _localisations(part: str, first: Observation, s: Signals) -> list[Claim]:
    answer = ANSWER_WORDS[part]
    z = "z" if part == "relu" else "z1"
    out = _shape_claims(part, first, s)
    out.append(Claim("localised:zeros", "all zeros", f"Your {answer} is 0 in every case, whatever the inputs.",
                     fits=lambda s, r, e, tol: not np.any(r), counts=lambda s, r, e: bool(np.any(e))))
    if part in UNIT_AXIS:
        axis = UNIT_AXIS[part]
        unit = "entries" if part in ("relu", "forward.z2", "grad.b1") else "rows" if axis == 0 else "columns"
        for alive, where, other in ((True, f"{z} > 0", f"{z} <= 0"), (False, f"{z} <= 0", f"{z} > 0")):
            out.append(Claim(
                f"localised:right_where_{'active' if alive else 'inactive'}", f"right only where {where}",
                f"Your {answer} is right in the {unit} where {where} and wrong in those where {other}, on every "
                f"failing visible case: look at what your code does where {other}.",
                fits=lambda s, r, e, tol, alive=alive, axis=axis: _right_on_units(s, r, e, tol, axis, alive),
                counts=lambda s, r, e, alive=alive: bool(np.any((s["z1"] > 0) == alive))))
    e = np.asarray(first.expected, dtype=np.float64)
    r = _same_shape(np.asarray(first.received, dtype=np.float64), e)
    if r is not None and np.any(e):
        c = float(np.vdot(r, e) / np.vdot(e, e))
        if c not in (0.0, 1.0) and np.isfinite(c):
            out.append(Claim("localised:scaled", "off by a constant factor",
                             f"Your {answer} is the right one times {c:.4g} on every visible case: a constant "
                             "factor is wrong.",
                             fits=lambda s, r, e, tol, c=c: _same_shape(r, e) is not None and
                             agrees(_same_shape(r, e), c * e, tol),
                             counts=lambda s, r, e: bool(np.any(e))))
    out.append(Claim("localised:sign", "sign wrong in some entries",
                     f"Your {answer} has the right magnitudes but the wrong sign in some entries, on every "
                     "failing visible case.",
                     fits=lambda s, r, e, tol: _same_shape(r, e) is not None and agrees(np.abs(_same_shape(r, e)),
                                                                                       np.abs(e), tol),
                     counts=lambda s, r, e: True))
    for axis, what in ((0, "row"), (1, "column"), (None, "entry")):
        if axis is None and e.ndim != 1 or axis is not None and e.ndim != 2:
            continue
        out.append(Claim(f"localised:one_{what}", f"wrong in one {what}",
                         f"Your {answer} is right except in one {what}, on every failing visible case: look "
                         f"for an index or a loop bound that misses or mistreats one {what}.",
                         fits=lambda s, r, e, tol, axis=axis: _wrong_in_one(r, e, tol, axis),
                         counts=lambda s, r, e, axis=axis: e.shape[axis or 0] >= 2))
    return out


def _right_on_units(s: Signals, r: np.ndarray, e: np.ndarray, tol: Tolerance, axis: int, alive: bool) -> bool:
    """r agrees with e (the whole array's tolerance) on the units where z1 > 0 (alive) or z1 <= 0."""
    r = _same_shape(r, e)
    if r is None or e.shape[axis] != s["z1"].shape[0]:
        return False
    wrong = mismatches(r, e, tol)
    wrong_units = wrong if wrong.ndim == 1 else wrong.any(axis=1 - axis)
    return not np.any(wrong_units & ((s["z1"] > 0) == alive))


def _wrong_in_one(r: np.ndarray, e: np.ndarray, tol: Tolerance, axis: int | None) -> bool:
    r = _same_shape(r, e)
    if r is None:
        return False
    wrong = mismatches(r, e, tol)
    if axis is not None:
        wrong = wrong.any(axis=1 - axis)
    return int(wrong.sum()) <= 1
