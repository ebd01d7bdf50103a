"""One fingerprint of what the grader checks against: its cases, tolerances and conventions.

Stamped on the upload zip (a FINGERPRINT file), on the handout's selfcheck.py (which prints it) and
in every results.json (extra_data.fingerprint). A handout of another fingerprint was built from
other cases or tolerances than the grader's: its self-check no longer says what Gradescope will.
12 hex digits of a SHA-256 over the visible and diagnostic cases (ids, titles, inputs), the number
of hidden cases, each part's tolerance, the assignment's conventions and the packages student code
may import. Not the secret: it says
nothing of the hidden cases but how many there are.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import asdict
from pathlib import Path

from ..config import Config

STAMP = re.compile(r"""FINGERPRINT\s*=\s*["']([0-9a-f]{12})["']""")


def fingerprint(config: Config, cases: list | None = None) -> str:
    """cases: the visible then diagnostic cases, if already made (a Grader has them)."""
    digest = hashlib.sha256()
    if cases is None:
        cases = config.homework.visible(config.conventions) + config.homework.diagnostic(config.conventions)
    for case in cases:
        digest.update(f"{case.id}\0{case.title}\0".encode())
        if case.parts is not None:
            digest.update(("\0".join(sorted(case.parts)) + "\0").encode())
        for array in case.inputs.arrays:
            digest.update(repr(array.shape).encode() + array.tobytes())
    digest.update(json.dumps({
        "hidden_cases": config.hidden_cases,
        "tolerances": {part: [p.tolerance.rtol, p.tolerance.atol] for part, p in sorted(config.parts.items())},
        "conventions": asdict(config.conventions),
        "packages": list(config.student_packages),
    }, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def stamped(path: Path) -> str | None:
    """The fingerprint stamped on a handout (folder or zip), a selfcheck.py, an upload zip or a
    results.json; None if there is none. Only read as text: nothing in it is run."""
    path = Path(path)
    if path.is_dir():
        path = path / "selfcheck.py"
    if path.suffix == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name == "FINGERPRINT":
                    return _hex(zf.read(name).decode(errors="replace").strip())
                if name.endswith("selfcheck.py"):
                    return _from_text(zf.read(name)[:20000].decode(errors="replace"))
        return None
    if not path.is_file():
        return None
    head = path.read_bytes()[:20000].decode(errors="replace")
    if path.suffix == ".json":
        try:
            return _hex(json.loads(path.read_text()).get("extra_data", {}).get("fingerprint", ""))
        except (ValueError, AttributeError):
            return None
    return _from_text(head)


def _from_text(text: str) -> str | None:
    found = STAMP.search(text)
    return found.group(1) if found else None


def _hex(text: str) -> str | None:
    return text if re.fullmatch(r"[0-9a-f]{12}", text or "") else None
