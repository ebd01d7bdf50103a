"""build-zip: what goes into the Gradescope upload, and the smoke test that guards it."""

from __future__ import annotations

import stat
import subprocess
import sys
import zipfile

import pytest

from autograder.diagnosis import diagnoser_for
from autograder.instructor.bundle import smoke_test, write_zip

from .conftest import REPO


def test_zip_holds_what_grading_needs_and_nothing_else(built_zip):
    with zipfile.ZipFile(built_zip) as zf:
        names = zf.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in zf.infolist()}
    assert {"setup.sh", "run_autograder", "requirements.txt", "grading.toml"} <= set(names)
    assert all(modes[name] & stat.S_IXUSR for name in ("setup.sh", "run_autograder"))
    assert "reference/two_layer_net.py" in names and "tests/test_backward.py" in names
    assert "autograder/grading/grade.py" in names and "autograder/sandbox/worker.py" in names
    for name in names:
        assert not name.startswith(("examples/", "handout/", "bench/", "autograder/tests/", "reference/tests/"))
        assert "__pycache__" not in name


def test_smoke_test_catches_a_broken_grader(tmp_path):
    archive = tmp_path / "broken.zip"
    write_zip(archive)
    with zipfile.ZipFile(archive) as zf, zipfile.ZipFile(tmp_path / "no-tests.zip", "w") as out:
        for info in zf.infolist():
            if not info.filename.startswith("tests/test_backward"):  # the backward parts would never run
                out.writestr(info, zf.read(info))
    problems = smoke_test(tmp_path / "no-tests.zip")
    assert len(problems) == 1 and problems[0].startswith("the reference solution scored")


def test_cli_refuses_a_bad_config_and_writes_no_zip(tmp_path):
    config = tmp_path / "grading.toml"
    config.write_text('[parts]\n"loss" = { points = "one" }\n')
    out = subprocess.run([sys.executable, "-m", "autograder", "build-zip", "--out", str(tmp_path / "a.zip"),
                          "--config", str(config)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "must be a number" in out.stderr and "no zip was written" in out.stderr
    assert not (tmp_path / "a.zip").exists()


@pytest.mark.slow
def test_cli_refuses_the_published_placeholder_secret_unless_told(tmp_path):
    command = [sys.executable, "-m", "autograder", "build-zip", "--out", str(tmp_path / "a.zip")]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and not (tmp_path / "a.zip").exists()
    assert "[grading] secret is the placeholder" in out.stderr and "--allow-default-secret" in out.stderr
    assert "secrets.token_hex" in out.stderr and "no zip was written" in out.stderr
    config = tmp_path / "grading.toml"
    config.write_text((REPO / "grading.toml").read_text().replace('"change-me-each-term"', '"a-real-one-4d2f"'))
    for extra in (["--allow-default-secret"], ["--config", str(config)]):
        out = subprocess.run(command + extra, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr


def test_a_case_that_breaks_the_reference_is_named(tmp_path):
    """A visible case added with a NaN input: the smoke test says which case, in which parts."""
    archive = tmp_path / "ok.zip"
    write_zip(archive)
    broken = tmp_path / "nan-case.zip"
    with zipfile.ZipFile(archive) as zf, zipfile.ZipFile(broken, "w") as out:
        for info in zf.infolist():
            data = zf.read(info)
            if info.filename == "autograder/core/cases.py":
                data = data.replace(b'        Case("large",', b'        Case("nan", "my new case with a NaN", False, '
                                    b'_with(_random(13, 3, 4, 2), x=np.array([1.0, np.nan, 2.0]))),\n'
                                    b'        Case("large",')
            out.writestr(info, data)
    problems = smoke_test(broken)
    assert problems and problems[0].startswith("the reference solution scored")
    assert "it fails Affine layer: affine(x, W, b) = W x + b (visible cases): my new case with a NaN" in problems[0]


def test_zip_handout_and_results_carry_one_fingerprint(built_zip, tmp_path):
    from autograder.config import load_config
    from autograder.grading.fingerprint import fingerprint, stamped
    from autograder.grading.grade import grade_submission
    from autograder.grading.results import report_to_results, write_results
    from autograder.instructor.handout import build_handout

    config = load_config()
    handout = build_handout(tmp_path / "hw", config)
    report = grade_submission(REPO / "reference", config, diagnoser=diagnoser_for)
    write_results(tmp_path / "results.json", report_to_results(report))
    stamps = {stamped(path) for path in (built_zip, handout, tmp_path / "hw", tmp_path / "results.json")}
    assert stamps == {fingerprint(config)}
    done = subprocess.run([sys.executable, "-m", "autograder", "fingerprint", str(tmp_path / "hw")], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "the same" in done.stdout
    other = tmp_path / "other.toml"
    other.write_text((REPO / "grading.toml").read_text().replace('"relu" = { points = 1 }',
                                                                   '"relu" = { points = 1, rtol = 1e-3 }'))
    done = subprocess.run([sys.executable, "-m", "autograder", "fingerprint", "--config", str(other),
                           str(tmp_path / "hw")], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 1 and "out of date" in done.stdout
