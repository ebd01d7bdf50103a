"""Name what went wrong in a part, from the student's answers on the visible cases: no I/O.

A student acts on a diagnosis, so a wrong one costs more than none. An explanation is a claim
about the student's function (its answer equals this quantity, or is the right one rounded to
float16, or is right wherever z1 > 0), named only on evidence across cases (evidence.py: the rule,
shared with the students' selfcheck.py). The claims, tried in this order:

1. known mistakes (mistakes.CATALOGUE: a missing factor 2, `>=` in the ReLU derivative, ...);
2. relations: rounding to integers or float16, the right numbers in the wrong shape;
3. what you computed: the network's quantities (mistakes.quantities: "your dl/db1 equals
   W2^T dl/dz3 before the ReLU mask", "your dl/dW1 is half the right one");
4. localisations (relations.py): an answer of another shape, up to a constant factor, right where
   z1 has some signs and wrong where it has the others, except the sign, except one row.

A part built from a wrong part is first explained by it (upstream.py: "upstream:<part>" claims).

`holds` (and `holds_upstream`, for a claim about the parts a part is built from) is a named claim
as a predicate on any inputs: the project's tests check every named explanation on inputs the
grader never used.
"""

from __future__ import annotations

import numpy as np

from ..config import Tolerance
from ..core.cases import Inputs, all_dead, negative_outputs, zeros_in_z1
from ..core.compare import agrees
from ..core.conventions import Conventions
from ..core.explain import Explanation, Observation
from .evidence import (
    Claim,
    Seen,
    agrees_in_shape,
    computed_claim,
    holds_on,
    known_claim,
    one_of_each,
    right_of,
)
from .mistakes import (
    HANDOUT,
    TITLES,
    Signals,
    catalogue,
    diagonal_jacobians,
    messages,
    quantities,
    right_answer,
    signals,
)
from .relations import SIGN_SETS, localisation_claims, relation_claims
from .upstream import PART_WORDS, explain_parts, follows_on, in_shape, in_words, step_answers


def answer_functions(part: str, conventions: Conventions = HANDOUT) -> dict:
    """{answer claim key: its answer from a case's signals} for `part`."""
    functions = {f"{m.id}#{form}": m.answers[part] for form, m in enumerate(catalogue(part, conventions))}
    shape = right_of(part, conventions.as_dict())[1]
    functions.update({f"computed:{q.id}": q.answer for q in quantities(part, shape, conventions)})
    return functions


def answer_claims(part: str, b2_right: bool, conventions: Conventions = HANDOUT) -> list[list[Claim]]:
    """The known mistakes, then the computed quantities, of `part` as claims."""
    said = messages(conventions)
    known = [known_claim(m.id, m.title, said[m.id], f"{m.id}#{form}", m.upstream)
             for form, m in enumerate(catalogue(part, conventions))]
    shape = right_of(part, conventions.as_dict())[1]
    computed = [computed_claim(part, q.id, q.words, q.step, b2_right, conventions.as_dict())
                for q in quantities(part, shape, conventions)]
    return [known, computed]


def holds(claim: Claim, part: str, inputs: Inputs, received: np.ndarray, expected: np.ndarray,
          tol: Tolerance, conventions: Conventions = HANDOUT) -> bool:
    """The claim, as a predicate on one case: what the tests check on inputs the grader never saw."""
    expected = np.asarray(expected, dtype=np.float64)
    received = np.asarray(received, dtype=np.float64)
    s = signals(inputs, conventions)
    functions = answer_functions(part, conventions)
    passed = agrees_in_shape(received, expected, tol)
    seen = Seen("fresh", received, expected, passed, s["z1"], sizes(s), magnitude(part, s, conventions),
                lambda key: np.asarray(functions[key](s), dtype=np.float64), inputs_of(inputs))
    return holds_on(claim, seen, tol)


def holds_upstream(claim: Claim, part: str, inputs: Inputs, answers: dict, right: dict, tol: Tolerance,
                   conventions: Conventions = HANDOUT) -> bool:
    """An upstream claim on one case, from every part's answer on it ({part: np.ndarray}, and the right
    ones): the part is what the step gives from the answers it takes; the parts named wrong are."""
    if claim.step:
        taken = {u: in_shape(answers[u], right[u]) for u in claim.step}
        if any(v is None for v in taken.values()):
            return False
        predicted = step_answers(part, claim.step, taken, inputs_of(inputs), conventions.as_dict())
        return follows_on(answers[part], predicted, tol)
    return True  # "wrong too" is about the other parts (their answers against the right ones)


def inputs_of(i: Inputs) -> dict:
    """A case's inputs as the steps between parts take them (upstream.STEPS)."""
    return {name: np.asarray(getattr(i, name), dtype=np.float64) for name in ("x", "W1", "b1", "W2", "b2", "y")}


class Diagnoser:
    """Explains parts; keeps what the fixed cases need (their signals and the claims' answers)."""

    def __init__(self, tolerances: dict[str, Tolerance], conventions: Conventions = HANDOUT):
        self.tolerances = tolerances
        self.conventions = conventions
        self._signals: dict[tuple, Signals] = {}  # (case id, conventions) -> signals
        self._answers: dict[tuple, np.ndarray] = {}
        self._probes: list[Signals] | None = None
        self._classes: dict[str, dict[str, str]] = {}
        self._functions: dict[str, dict] = {}  # part -> answer_functions(part)
        self._magnitudes: dict[tuple[str, str], np.ndarray] = {}
        self._verdicts: dict[tuple, tuple[np.ndarray, bool]] = {}  # _standard's, by its key: (expected, verdict)
        self._inputs: dict[str, tuple[Inputs, dict]] = {}  # case id -> (its inputs, inputs_of them)

    def explain(self, observed: dict[str, list[Observation]]) -> dict[str, Explanation]:
        """An explanation for each part whose answers have one (parts that pass get none)."""
        # only parts with a wrong answer are explained; the others' verdicts and answers weigh on them
        seen, other_form = {}, set()
        for part, observations in observed.items():
            usable, own_form = self._usable(part, observations)
            seen[part] = [self._seen(part, o) for o in usable]
            if not own_form:
                other_form.add(part)
        with np.errstate(all="ignore"):  # an answer may hold inf or NaN: claims that allow none are refuted
            found = explain_parts(seen, self.tolerances, self._groups, self._distinct, self.conventions.as_dict(),
                                  other_form)
        return {part: Explanation(tuple(c.id for c in f.claims), *in_words(f), f.claims, f.crashed)
                for part, f in found.items()}

    def explain_part(self, part: str, observations: list[Observation]) -> Explanation | None:
        """One part on its own (no other part's answers to weigh)."""
        return self.explain({part: observations}).get(part)

    def _groups(self, part: str, seen: list[Seen], b2_right: bool) -> list[list[Claim]]:
        known, computed = answer_claims(part, b2_right, self.conventions)
        return [known, relation_claims(), computed, localisation_claims(part, seen, self.conventions.as_dict())]

    def _usable(self, part: str, observations: list[Observation]) -> tuple[list[Observation], bool]:
        """(the observations of the part's answers, are they all in the handout's form?). A check added
        to a test may expect something else, which is no answer of the part's; where a convention is
        "either" and a case was judged against the other accepted answer (the student follows the
        other convention), the claims' right answer is not the student's: the part's own claims say
        nothing then, but its answers still feed the steps of the parts built from it."""
        standard = [o for o in observations if self._standard(part, o, self.conventions)]
        if len(standard) == len(observations) or "either" not in (self.conventions.jacobians,
                                                                    self.conventions.relu_derivative_at_zero):
            return standard, True
        forms = [Conventions(j, at_zero, self.conventions.loss)
                 for j in (("matrix", "diagonal") if self.conventions.jacobians == "either" else
                           (self.conventions.jacobians,))
                 for at_zero in ((0, 1) if self.conventions.relu_derivative_at_zero == "either" else
                                 (self.conventions.relu_derivative_at_zero,))]
        return [o for o in observations if any(self._standard(part, o, form) for form in forms)], False

    def _standard(self, part: str, o: Observation, conventions: Conventions) -> bool:
        """Was this the part's standard check under `conventions` (its expected answer the part's own
        on the case)?"""
        key = (o.case_id, part, "right", conventions)
        known = self._verdicts.get(key)
        if known is not None and known[0] is o.expected:  # the same read-only array as last time (see below)
            return known[1]
        if key not in self._answers:
            self._answers[key] = np.asarray(right_answer(part, self._signals_of(o, conventions), conventions),
                                            dtype=np.float64)
        right = self._answers[key]
        verdict = np.shape(o.expected) == right.shape and agrees(o.expected, right, Tolerance(1e-9, 1e-9))
        # A grader's fixed cases are judged against the same reference answers for every submission
        # (read-only arrays): kept with the array itself, so its identity cannot pass to another
        if isinstance(o.expected, np.ndarray) and not o.expected.flags.writeable:
            self._verdicts[key] = (o.expected, verdict)
        return verdict

    def _signals_of(self, o: Observation, conventions: Conventions) -> Signals:
        """The network on the observation's case under `conventions` (once per case and conventions)."""
        key = (o.case_id, conventions)
        if key not in self._signals:
            self._signals[key] = signals(o.inputs, conventions)
        return self._signals[key]

    def _seen(self, part: str, o: Observation) -> Seen:
        s = self._signals_of(o, self.conventions)
        if part not in self._functions:
            self._functions[part] = answer_functions(part, self.conventions)
        functions = self._functions[part]
        if (o.case_id, part) not in self._magnitudes:
            self._magnitudes[o.case_id, part] = magnitude(part, s, self.conventions)

        def answer(key: str) -> np.ndarray:
            cached = (o.case_id, part, key)
            if cached not in self._answers:
                self._answers[cached] = np.asarray(functions[key](s), dtype=np.float64)
            return self._answers[cached]

        received = None if o.received is None else np.asarray(o.received, dtype=np.float64)
        kept = self._inputs.get(o.case_id)
        if kept is None or kept[0] is not o.inputs:
            kept = self._inputs[o.case_id] = (o.inputs, inputs_of(o.inputs))
        return Seen(o.case_id, received, np.asarray(o.expected, dtype=np.float64), o.passed, s["z1"], sizes(s),
                    self._magnitudes[o.case_id, part], answer, kept[1])

    def _distinct(self, part: str, claims: list[Claim]) -> list[Claim]:
        return one_of_each(claims, self.classes(part))

    def classes(self, part: str) -> dict[str, str]:
        """{answer claim key: the first key whose answers are the same on fresh inputs} for `part`."""
        if part not in self._classes:
            if self._probes is None:
                self._probes = [signals(i, self.conventions) for i in probe_inputs()]
            functions = answer_functions(part, self.conventions)
            answers = {key: [np.asarray(f(s), dtype=np.float64) for s in self._probes] for key, f in functions.items()}
            firsts: list[str] = []
            self._classes[part] = {}
            for key, mine in answers.items():
                first = next((k for k in firsts if all(_same(a, b) for a, b in zip(mine, answers[k]))), None)
                if first is None:
                    firsts.append(key)
                self._classes[part][key] = first or key
        return self._classes[part]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and agrees(a, b, Tolerance(1e-9, 1e-9))


def sizes(s: Signals) -> dict[str, int]:
    return {"n": s["x"].shape[0], "h": s["z1"].shape[0], "k": s["z3"].shape[0], "1": 1}


def magnitude(part: str, s: Signals, conventions: Conventions = HANDOUT) -> np.ndarray:
    """Each entry's answer computed from the absolute values of everything it is built from (float64):
    rounding every step of a computation to a relative precision u moves an entry by at most about
    u times this. 0 for the Jacobians, whose 0/1 entries no rounding changes."""
    a = {name: np.abs(v) for name, v in s.items()}
    z1 = a["W1"] @ a["x"] + a["b1"]
    z3 = a["W2"] @ z1 + a["b2"]
    d3 = 2 * a["per"] * (z3 + a["y"])
    given_d3 = 2 * a["per"] * (a["z3"] + a["y"])  # mse_grad and mse_loss are handed y_hat, not x
    axes = 1 if diagonal_jacobians(conventions) else 2  # of a Jacobian's right answer
    return {
        "affine": lambda: z1, "forward.z1": lambda: z1, "relu": lambda: a["z1"], "forward.z2": lambda: z1,
        "forward.z3": lambda: z3, "forward.y_hat": lambda: z3,
        "loss": lambda: np.array(given_d3 @ given_d3 / 4 / a["per"]),
        "relu_jacobian": lambda: np.zeros((len(z1),) * axes), "output_jacobian": lambda: np.zeros((len(z3),) * axes),
        "mse_grad": lambda: given_d3, "grad.b2": lambda: d3, "grad.W2": lambda: np.outer(d3, z1),
        "grad.b1": lambda: a["W2"].T @ d3, "grad.W1": lambda: np.outer(a["W2"].T @ d3, a["x"]),
    }[part]()


LOCALISED_TITLES = {"localised:scaled": "off by a constant factor", "localised:sign": "sign wrong in some entries",
                    "localised:one_row": "wrong in one row", "localised:one_column": "wrong in one column",
                    "localised:one_entry": "wrong in one entry", "localised:zeros": "all zeros",
                    "localised:shape": "a shape of its own"} | {
                    f"localised:wrong_where_{name}": f"wrong only where z1 {where}" for _, where, name in SIGN_SETS}


def upstream_root(mistake_id: str) -> str:
    """The part an "upstream:<part>" id blames (the wrong part this one is built from), else ""."""
    return mistake_id.split(":", 1)[1] if mistake_id.startswith("upstream:") else ""


def describe(mistake_id: str) -> str:
    """A few words for an id recorded in results.json (for the class report)."""
    if mistake_id in TITLES:
        return TITLES[mistake_id]
    if mistake_id in LOCALISED_TITLES:
        return LOCALISED_TITLES[mistake_id]
    part = upstream_root(mistake_id)
    if part:
        return f"error upstream, in {PART_WORDS.get(part, part)}"
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
