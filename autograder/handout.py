"""Build the student handout: the template, selfcheck.py and a README, as a folder and a zip.

selfcheck.py is assembled from handout/selfcheck.py: the comparison rule is copied in from
compare.py (one rule, the grader's), and the public test vectors are the visible cases' inputs
and expected values. Nothing else of the grader goes in: no reference code, no hidden cases, no
secret (a test in the project proves it).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np

from reference import two_layer_net as ref

from .cases import visible_cases
from .config import Config
from .parts import PARTS, SUBMISSION_FILE

HANDOUT_SOURCE = Path(__file__).absolute().parent.parent / "handout"
COMPARE_SOURCE = Path(__file__).absolute().with_name("compare.py")
SHARED_BEGIN = "# --- shared with the students' selfcheck.py"
SHARED_END = "# --- end of the part shared with selfcheck.py ---"
COMPARE_SLOT = "# === the comparison rule, the autograder's own (filled in by `python -m autograder handout`) ==="


def public_cases() -> list[dict]:
    """The visible cases as plain data: inputs, the values the grader hands functions, expected values."""
    out = []
    for case in visible_cases():
        i = case.inputs
        fwd = ref.forward(i.x, *i.params)
        grads = ref.backward(i.x, i.y, *i.params)
        expected = {
            "affine": ref.affine(i.x, i.W1, i.b1), "relu": ref.relu(fwd["z1"]),
            **{f"forward.{k}": v for k, v in fwd.items()},
            "loss": np.array(ref.mse_loss(fwd["y_hat"], i.y)), "relu_jacobian": ref.relu_jacobian(fwd["z1"]),
            "output_jacobian": ref.output_jacobian(fwd["z3"]), "mse_grad": ref.mse_grad(fwd["y_hat"], i.y),
            **{f"grad.{k}": v for k, v in grads.items()},
        }
        assert set(expected) == {p.id for p in PARTS}
        out.append({
            "title": case.title,
            "inputs": {name: getattr(i, name).tolist() for name in ("x", "W1", "b1", "W2", "b2", "y")},
            "given": {name: fwd[name].tolist() for name in ("z1", "z3", "y_hat")},
            "expected": {part: np.asarray(value).tolist() for part, value in expected.items()},
        })
    return out


def selfcheck_source(config: Config) -> str:
    """handout/selfcheck.py with the comparison rule, the tolerances and the public cases filled in."""
    template = (HANDOUT_SOURCE / "selfcheck.py").read_text()
    compare_text = COMPARE_SOURCE.read_text()
    shared = compare_text[compare_text.index(SHARED_BEGIN):compare_text.index(SHARED_END)].rstrip() + "\n"
    tolerances = {pid: [p.tolerance.rtol, p.tolerance.atol] for pid, p in config.parts.items()}
    for slot in (COMPARE_SLOT, "PUBLIC_CASES = None", "TOLERANCES = None"):
        assert template.count(slot) == 1, f"handout/selfcheck.py must hold {slot!r} once"
    text = template.replace(COMPARE_SLOT, shared)
    text = text.replace("PUBLIC_CASES = None", "PUBLIC_CASES = " + json.dumps(public_cases(), indent=1))
    return text.replace("TOLERANCES = None", "TOLERANCES = " + json.dumps(tolerances))


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
