"""Build the zip instructors upload to Gradescope, and smoke-test it before handing it over.

The zip holds setup.sh and run_autograder at its root and what grading needs (the package, the
reference, the grading tests, the config, the pinned requirements), nothing else: no examples,
no project tests, no handout. Before it is written, its contents are unpacked into a temporary
root laid out as Gradescope's and graded twice: the reference solution must score full marks
and the untouched template 0, or no zip is written.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..config import load_config
from ..grading.fingerprint import fingerprint

REPO = Path(__file__).absolute().parents[2]
GRADING_FILES = ("setup.sh", "run_autograder", "requirements.txt", "requirements-student.txt", "grading.toml",
                 "autograder", "reference", "tests")
EXECUTABLES = ("setup.sh", "run_autograder")
LEFT_OUT = ("__pycache__", "*.pyc")  # and the project's own tests, under autograder/ and reference/


class SmokeTestFailed(RuntimeError):
    """The zip, unpacked as Gradescope would, did not grade as it must."""


def grading_files(root: Path = REPO) -> list[tuple[Path, str]]:
    """(file on disk, its name in the zip) for everything grading needs."""
    out = []
    for name in GRADING_FILES:
        path = root / name
        if path.is_file():
            out.append((path, name))
            continue
        for file in sorted(path.rglob("*")):
            rel = file.relative_to(root)
            if file.is_dir() or "__pycache__" in rel.parts or file.suffix == ".pyc":
                continue
            if name != "tests" and "tests" in rel.parts[1:]:  # the project's tests, not the grading tests
                continue
            out.append((file, str(rel)))
    return out


def copy_grading_files(dest: Path, config_text: str | None = None) -> Path:
    """The grader's source as Gradescope unpacks it into /autograder/source (optionally another config)."""
    for file, name in grading_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    if config_text is not None:
        (dest / "grading.toml").write_text(config_text)
    return dest


def write_zip(out: Path, config: Path | None = None) -> None:
    """The zip: the grading files (config as grading.toml) and FINGERPRINT, the fingerprint they grade with."""
    stamp = fingerprint(load_config(config))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("FINGERPRINT", stamp + "\n")
        for file, name in grading_files():
            if name == "grading.toml" and config is not None:
                file = config
            info = zipfile.ZipInfo.from_file(file, name)
            mode = 0o755 if name in EXECUTABLES else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, file.read_bytes())


def smoke_test(archive: Path, python: str = sys.executable) -> list[str]:
    """Unpack the zip as Gradescope does and grade the reference and the template; what went wrong."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="autograder-smoke-") as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(root / "source")
        for name in EXECUTABLES:
            os.chmod(root / "source" / name, 0o755)
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        # the reference, following the conventions of the config in the zip
        config = load_config(root / "source" / "grading.toml")
        homework = config.homework
        template = homework.handout_files(config)[homework.submission_file]
        for label, source, expected in (("the reference solution", homework.reference_solution(config), "full"),
                                        ("the untouched template", template, 0)):
            shutil.rmtree(root / "submission", ignore_errors=True)
            (root / "submission").mkdir()
            (root / "submission" / homework.submission_file).write_text(source)
            (root / "submission_metadata.json").write_text(json.dumps({"id": "smoke-test"}))
            env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER")}
            # (trusted code only: it may run as the grader where this machine has no sandbox for it)
            env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=python, AUTOGRADER_UNSAFE_RUN_AS_GRADER="1")
            subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, timeout=600)
            try:
                results = json.loads((root / "results" / "results.json").read_text())
            except (OSError, ValueError) as e:
                problems.append(f"{label}: no valid results.json ({e})")
                continue
            score = results.get("score")
            total = sum(t.get("max_score", 0) for t in results.get("tests", []))
            want = total if expected == "full" else expected
            if not results.get("tests") or score != want:
                where = _failing_cases(results) if expected == "full" else ""
                problems.append(f"{label} scored {score} of {total}, not {want}"
                                + (f"; it fails {where}" if where else f": {results.get('output', '')[:500]}"))
            stamp = (root / "source" / "FINGERPRINT").read_text().strip()
            if results.get("extra_data", {}).get("fingerprint") != stamp:
                problems.append(f"{label}'s results.json carries fingerprint "
                                f"{results.get('extra_data', {}).get('fingerprint')}, the zip {stamp}")
    return problems


def _failing_cases(results: dict, most: int = 6) -> str:
    """The parts and cases a run failed, from its tests' failures (extra_data): "ReLU: relu(z) (visible
    cases): my new case: not finite; ..." (a reference that fails a check names what to look at)."""
    found = []
    for test in results.get("tests", []):
        if test.get("status") == "failed":
            cases = test.get("extra_data", {}).get("failures", [])
            found += [f"{test['name']}: {case}" for case in cases] or [test["name"]]
    return "; ".join(found[:most]) + (f"; and {len(found) - most} more" if len(found) > most else "")


def build_zip(out: Path, config: Path | None = None, python: str = sys.executable) -> Path:
    """Write the upload zip to `out` once it has passed its smoke test; raise SmokeTestFailed if not."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(prefix=".autograder-", suffix=".zip", dir=out.parent, delete=False) as tmp:
        candidate = Path(tmp.name)
    try:
        write_zip(candidate, config)
        problems = smoke_test(candidate, python)
        if problems:
            raise SmokeTestFailed("; ".join(problems))
        os.replace(candidate, out)
    finally:
        candidate.unlink(missing_ok=True)
    return out
