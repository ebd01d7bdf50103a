"""Batch grading of a whole class, on a generated Gradescope-style export."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import jsonschema
import pytest

from .conftest import EXAMPLES, REPO, SCHEMA

STUDENTS = {  # submission id -> (example, name)
    "1001": ("correct", "Ada Lovelace"),
    "1002": ("missing_factor_2", "Alan Turing"),
    "1003": ("syntax_error", "Grace Hopper"),
    "1004": ("relu_ge", "Edsger Dijkstra"),
    "1005": (None, "Nobody Home"),  # uploaded nothing
}


@pytest.fixture
def export(tmp_path):
    """A folder laid out as Gradescope's Export Submissions, with Ruby-symbol keys in the YAML."""
    root = tmp_path / "assignment_42_export"
    root.mkdir()
    lines = []
    for sid, (example, name) in STUDENTS.items():
        folder = root / f"submission_{sid}"
        if example:
            shutil.copytree(EXAMPLES / example, folder)
        else:
            folder.mkdir()
        lines += [f"submission_{sid}:", "  :submitters:", f"  - :name: {name}", f"    :sid: 'S{sid}'",
                  f"    :email: {name.split()[0].lower()}@uni.edu", "  :created_at: 2026-11-20 12:00:00.000 -0800",
                  "  :score: 0.0"]
    (root / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    (root / "__MACOSX").mkdir()
    return root


def batch(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "batch", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, **kwargs)


def rows(out) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as f:
        return {r["submission_id"]: r for r in csv.DictReader(f)}


def test_export_is_graded_into_csv_results_and_report(export, tmp_path):
    out = tmp_path / "out"
    done = batch(str(export), "--out", str(out), "-j", "2")
    assert done.returncode == 0, done.stderr
    table = rows(out)
    assert set(table) == set(STUDENTS)
    assert table["1001"]["name"] == "Ada Lovelace" and table["1001"]["email"] == "ada@uni.edu"
    assert table["1001"]["sid"] == "S1001"
    assert float(table["1001"]["total"]) == 20 and table["1001"]["status"] == "ok"
    assert float(table["1002"]["part:mse_grad"]) < 2 and float(table["1002"]["part:affine"]) == 1
    assert table["1003"]["status"] == "import error" and float(table["1003"]["total"]) == 0
    assert table["1005"]["status"] == "no submission"
    for sid in STUDENTS:
        jsonschema.validate(json.loads((out / "results" / f"{sid}.json").read_text()), SCHEMA)
    report = (out / "report.html").read_text()
    assert "<svg" in report and "missing factor 2 in dl/dy_hat" in report and "Backward pass: dl/dW1" in report
    assert "<script" not in report
    assert "5 submissions (5 graded, 0 unchanged" in done.stdout


def test_a_rerun_grades_only_what_changed(export, tmp_path):
    out = tmp_path / "out"
    assert batch(str(export), "--out", str(out)).returncode == 0
    again = batch(str(export), "--out", str(out))
    assert "(0 graded, 5 unchanged" in again.stdout
    fixed = export / "submission_1002" / "two_layer_net.py"
    fixed.write_text((EXAMPLES / "correct" / "two_layer_net.py").read_text())
    third = batch(str(export), "--out", str(out))
    assert "(1 graded, 4 unchanged" in third.stdout
    assert float(rows(out)["1002"]["total"]) == 20


def test_a_zip_of_the_export_works_too(export, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in export.rglob("*"):
            zf.write(path, path.relative_to(export.parent))
    out = tmp_path / "out"
    assert batch(str(archive), "--out", str(out)).returncode == 0
    assert set(rows(out)) == set(STUDENTS)


def test_a_batch_of_one_agrees_with_grade(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copytree(EXAMPLES / "relu_ge", folder / "relu_ge")
    out = tmp_path / "out"
    assert batch(str(folder), "--out", str(out)).returncode == 0
    single = tmp_path / "single.json"
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder / "relu_ge"), "--results", str(single),
                    "--submission-id", "relu_ge"], cwd=REPO, check=True, capture_output=True, timeout=120)
    from_batch = json.loads((out / "results" / "relu_ge.json").read_text())
    alone = json.loads(single.read_text())
    for doc in (from_batch, alone):
        doc.pop("execution_time")
    assert from_batch["extra_data"].pop("batch_cache_key")  # the batch's bookkeeping, nothing else differs
    assert from_batch == alone


def test_ctrl_c_leaves_no_half_written_csv_and_a_rerun_finishes(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(6):
        shutil.copytree(EXAMPLES / ("hang_in_loss" if i % 2 else "correct"), folder / f"s{i}")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "batch", str(folder), "--out", str(out), "-j", "2"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not list((out / "results").glob("[!.]*.json")) if (out / "results").exists() else True:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert not (out / "grades.csv").exists()
    kept = len(list((out / "results").glob("[!.]*.json")))
    assert 1 <= kept < 6
    again = batch(str(folder), "--out", str(out), "-j", "2")
    assert again.returncode == 0
    assert f"({6 - kept} graded, {kept} unchanged" in again.stdout
    assert len(rows(out)) == 6
