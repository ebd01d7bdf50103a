"""Build the student handout: the template, selfcheck.py and a README, as a folder and a zip.

selfcheck.py is assembled from handout/selfcheck.py: the comparison rule is copied in from
compare.py and the evidence rule of diagnoses from evidence.py (one rule each, the grader's); the
public test vectors are the visible cases' inputs and expected values, with the diagnostic cases
the grader runs only to explain; and the claims a diagnosis may make come as numbers: each claim's
answer on each case (the grader's diagnose.py computes them). Nothing else of the grader goes in:
no reference code, no hidden cases, no secret (a test in the project proves it).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np

from ..config import Config
from ..diagnosis import evidence
from ..diagnosis.diagnose import Diagnoser, answer_functions, magnitude
from ..diagnosis.evidence import RIGHT_SHAPES
from ..diagnosis.mistakes import MESSAGES, catalogue, quantities, signals
from ..grading import compare
from ..grading.answer_key import expected_answers
from ..grading.cases import diagnostic_cases, visible_cases
from ..grading.parts import PART_IDS, PARTS, SUBMISSION_FILE
from .fingerprint import fingerprint

HANDOUT_SOURCE = Path(__file__).absolute().parents[2] / "handout"
COMPARE_SOURCE = Path(compare.__file__).absolute()
EVIDENCE_SOURCE = Path(evidence.__file__).absolute()
SHARED_BEGIN = "# --- shared with the students' selfcheck.py"
SHARED_END = "# --- end of the part shared with selfcheck.py ---"
COMPARE_SLOT = "# === the comparison rule, the autograder's own (filled in by `python -m autograder handout`) ==="
EVIDENCE_SLOT = "# === the evidence rule of diagnoses, the autograder's own (filled in likewise) ==="


def public_cases(diagnoser: Diagnoser) -> list[dict]:
    """The visible cases, then the diagnostic ones, as plain data: inputs, the values the grader hands
    functions, expected values, and what a diagnosis needs (see claims_data)."""
    cases = [(case, False) for case in visible_cases()] + [(case, True) for case in diagnostic_cases()]
    shipped = {part: _shipped_keys(part, diagnoser) for part in PART_IDS}
    out = []
    for case, diagnostic in cases:
        i = case.inputs
        s = signals(i)
        expected = {part: np.asarray(value) for part, value in expected_answers(i).items()}
        assert set(expected) == {p.id for p in PARTS}
        out.append({
            "title": case.title, "diagnostic": diagnostic,
            "inputs": {name: getattr(i, name).tolist() for name in ("x", "W1", "b1", "W2", "b2", "y")},
            "given": {name: s[name].tolist() for name in ("z1", "z3")} | {"y_hat": s["z3"].tolist()},
            "expected": {part: value.tolist() for part, value in expected.items()},
            "magnitude": {part: _numbers(magnitude(part, s)) for part in PART_IDS},
            "answers": {part: _answers(part, s, expected[part], shipped[part]) for part in PART_IDS},
        })
    return out


def _shipped_keys(part: str, diagnoser: Diagnoser) -> list[str]:
    """The answer claims of `part` whose answers are shipped: one key per class of equal functions."""
    classes = diagnoser.classes(part)
    return [key for key in answer_functions(part) if classes[key] == key]


def _answers(part: str, s: dict, expected: np.ndarray, keys: list[str]) -> dict:
    """{key: answer} on one case, left out where it is exactly the expected answer."""
    functions = answer_functions(part)
    out = {}
    for key in keys:
        answer = np.asarray(functions[key](s), dtype=np.float64)
        if answer.shape != expected.shape or not np.array_equal(answer, expected):
            out[key] = _numbers(answer)
    return out


def _numbers(a: np.ndarray):
    """An array as nested lists of 9-significant-digit floats (enough for any tolerance, half the size)."""
    a = np.asarray(a, dtype=np.float64)
    return np.array([float(f"{v:.9g}") for v in a.ravel()]).reshape(a.shape).tolist()


def claims_data(diagnoser: Diagnoser) -> dict:
    """Per part, the claims a diagnosis may make (their words; answers are in each case's data) and
    which claims are the same function (evidence.one_of_each)."""
    out = {}
    for part in PART_IDS:
        classes = diagnoser.classes(part)
        out[part] = {
            "known": [[m.id, m.title, MESSAGES[m.id], f"{m.id}#{form}", m.upstream]
                      for form, m in enumerate(catalogue(part))],
            "computed": [[q.id, q.words, q.step] for q in quantities(part, RIGHT_SHAPES[part])],
            "classes": {key: first for key, first in classes.items() if key != first},
        }
    return out


def selfcheck_source(config: Config) -> str:
    """handout/selfcheck.py with the rules, the tolerances, the public cases and the claims filled in."""
    template = (HANDOUT_SOURCE / "selfcheck.py").read_text()
    tolerances = {pid: [p.tolerance.rtol, p.tolerance.atol] for pid, p in config.parts.items()}
    diagnoser = Diagnoser({})  # its classes of equal claims serve both the cases' answers and the claims
    slots = {COMPARE_SLOT: _shared(COMPARE_SOURCE), EVIDENCE_SLOT: _shared(EVIDENCE_SOURCE),
             "PUBLIC_CASES = None": "PUBLIC_CASES = " + repr(public_cases(diagnoser)),
             "TOLERANCES = None": "TOLERANCES = " + json.dumps(tolerances),
             "CLAIMS = None": "CLAIMS = " + repr(claims_data(diagnoser)),
             "FINGERPRINT = None": "FINGERPRINT = " + repr(fingerprint(config)),
             "RUNTIME_PACKAGES = None": "RUNTIME_PACKAGES = " + repr(list(config.student_packages))}
    for slot, text in slots.items():
        assert template.count(slot) == 1, f"handout/selfcheck.py must hold {slot!r} once"
        template = template.replace(slot, text)
    return template


def _shared(source: Path) -> str:
    text = source.read_text()
    return text[text.index(SHARED_BEGIN):text.index(SHARED_END)].rstrip() + "\n"


def build_handout(out: Path, config: Config) -> Path:
    """Write the handout folder `out` (replacing it) and `out`.zip; return the zip's path."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copyfile(HANDOUT_SOURCE / SUBMISSION_FILE, out / SUBMISSION_FILE)
    (out / "selfcheck.py").write_text(selfcheck_source(config))
    shutil.copyfile(HANDOUT_SOURCE / "README.md", out / "README.md")
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in (SUBMISSION_FILE, "selfcheck.py", "README.md"):
            zf.write(out / name, f"{out.name}/{name}")
    return archive
