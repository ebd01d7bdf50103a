"""nyu-hw1's student handout: the course's template, a self-check with the course's choices written
in (its loss's reduction, the (f, g) it grades, the tolerances, the autograder's fingerprint), a
README, and the folder's zip."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

from ... import escape
from ...grading.fingerprint import fingerprint
from ...instructor.handout import shared_part
from .answers import REDUCTION_WORDS

HERE = Path(__file__).absolute().parent / "handout"
ESCAPE_SLOT = "# === what makes text safe to print, the autograder's own (filled in when the handout is built) ==="


def selfcheck_source(config) -> str:
    """handout/selfcheck.py with the course's choices and the autograder's escaping of text written in."""
    text = (HERE / "selfcheck.py").read_text(encoding="utf-8")
    assert text.count(ESCAPE_SLOT) == 1, "nyu_hw1/handout/selfcheck.py must hold the escape slot once"
    text = text.replace(ESCAPE_SLOT, shared_part(Path(escape.__file__)))
    tolerances = {part: [p.tolerance.rtol, p.tolerance.atol] for part, p in config.parts.items()}
    for name, value in (("FINGERPRINT", json.dumps(fingerprint(config))), ("LOSS", json.dumps(config.conventions.loss)),
                        ("ACTIVATIONS", json.dumps([list(pair) for pair in config.conventions.activations])),
                        ("TOLERANCE", json.dumps(tolerances))):
        line = re.compile(rf"^{name} = .*$", re.MULTILINE)
        assert len(line.findall(text)) == 1, f"nyu_hw1/handout/selfcheck.py must set {name} once"
        text = line.sub(lambda _, name=name, value=value: f"{name} = {value}", text)
    return text


def readme_source(config) -> str:
    reduction = REDUCTION_WORDS[config.conventions.loss] + (" (torch's)" if config.conventions.loss == "mean" else "")
    pairs = ", ".join(f"(f={f}, g={g})" for f, g in config.conventions.activations)
    return f"""# Homework 1: a multilayer perceptron

Complete `mlp.py`: the class `MLP` (its `forward` and `backward`, without torch's autograd) and the
functions `mse_loss` and `bce_loss`, each returning `(J, dJdy_hat)`. Upload `mlp.py` to Gradescope.

What the autograder expects:
- the losses' J and dJdy_hat: {reduction};
- `backward(dJdy_hat)` fills `self.grads`, each gradient summed over the batch; the autograder
  calls it with a dJdy_hat of its own, so it is graded apart from your loss;
- the activations graded: {pairs};
- after `clear_grad_and_cache()`, a second `forward` and `backward` give the same grads and leave
  the parameters as they were.

Before you upload, run the self-check (Python 3.9+ with numpy and torch), in this folder:

    python selfcheck.py

It checks each part as the autograder does (its part ids, its tolerance), on random inputs: your
forward against torch's layers, your gradients against finite differences. Gradescope runs cases
of its own too, some hidden until the due date: passing here is necessary, not sufficient.
"""


def build_handout(out: Path, config) -> Path:
    """Write the handout folder `out` (replacing it) and `out`.zip; return the zip's path."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "mlp.py").write_text((HERE / "mlp.py").read_text(encoding="utf-8"), encoding="utf-8")
    (out / "selfcheck.py").write_text(selfcheck_source(config), encoding="utf-8")
    (out / "README.md").write_text(readme_source(config), encoding="utf-8")
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(out.iterdir()):
            zf.write(path, f"{out.name}/{path.name}")
    return archive
