"""Batch grading of a whole class, on a generated Gradescope-style export."""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest

from autograder.config import load_config
from autograder.homeworks.two_layer_net import HOMEWORK
from autograder.instructor.batch import CLASS_COPY_PREFIX, MEMORY_FOLDER, class_copy_home
from autograder.instructor.intake import Submitter
from autograder.instructor.report import missing_guarantees, render_report
from autograder.instructor.rows import from_results

from .conftest import EXAMPLES, REPO, SCHEMA, alive, descendants, without_bubblewrap, without_the_lease

PART_IDS = HOMEWORK.part_ids

STUDENTS = {  # submission id -> (example, name)
    "1001": ("correct", "Ada Lovelace"),
    "1002": ("missing_factor_2", "Alan Turing"),
    "1003": ("syntax_error", "Grace Hopper"),
    "1004": ("relu_ge", "Edsger Dijkstra"),
    "1005": (None, "Nobody Home"),  # uploaded nothing
}
PARTNERS = {"1004": "Zoë Ångström"}  # a group submission: a second submitter


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
                  f"    :email: {name.split()[0].lower()}@uni.edu"]
        if sid in PARTNERS:
            lines += [f"  - :name: {PARTNERS[sid]}", f"    :sid: 'S{sid}b'", "    :email: zoe@uni.edu"]
        lines += ["  :created_at: 2026-11-20 12:00:00.000 -0800", "  :score: 0.0"]
    (root / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    (root / "__MACOSX").mkdir()
    return root


def batch(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "batch", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, **kwargs)


def rows(out) -> dict[str, dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8-sig") as f:
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
    assert table["1002"]["mistakes"].startswith("mse_grad, grad.W1") and table["1001"]["mistakes"] == ""
    assert table["1003"]["status"] == "import error" and float(table["1003"]["total"]) == 0
    assert table["1005"]["status"] == "no submission"
    # a line per student, accents intact in a spreadsheet (UTF-8 with a byte-order mark): the group's
    # two submitters each have one, with the group's id and scores
    raw = (out / "grades.csv").read_bytes()
    assert raw.startswith("\ufeff".encode()) and "Zoë Ångström".encode() in raw
    with open(out / "grades.csv", newline="", encoding="utf-8-sig") as f:
        group = [r for r in csv.DictReader(f) if r["submission_id"] == "1004"]
    assert [(r["name"], r["sid"]) for r in group] == [("Edsger Dijkstra", "S1004"), ("Zoë Ångström", "S1004b")]
    assert group[0]["total"] == group[1]["total"] and float(group[0]["total"]) == 19
    for sid in STUDENTS:
        jsonschema.validate(json.loads((out / "results" / f"{sid}.json").read_text()), SCHEMA)
    report = (out / "report.html").read_text()
    assert "<svg" in report and "missing factor 2 in dl/dy_hat" in report and "Backward pass: dl/dW1" in report
    assert "src=" not in report and "http" not in report.replace("http-equiv", "")  # self-contained
    assert "5 submissions (5 graded, 0 unchanged" in done.stdout
    check_report(report, out)


def check_report(report: str, out) -> None:
    """The page a busy instructor reads: who needs attention (exactly those not ok or at zero, each
    linked to their results), labels inside the drawing, every student, the grader and fingerprint."""
    attention = report[report.index("<h2>Needs attention</h2>"):report.index("<h2>Scores</h2>")]
    linked = re.findall(r"href='students/([^']+)\.html'", attention)
    assert sorted(linked) == ["1003", "1005"]  # syntax_error (import error, 0) and the empty upload (0)
    assert "status import error; score 0" in attention and "status no submission; score 0" in attention
    table = report[report.index("<h2>Every student</h2>"):]
    for sid, (_, name) in STUDENTS.items():
        assert (out / "results" / f"{sid}.json").is_file()
        shown = name + ("; " + PARTNERS[sid] if sid in PARTNERS else "")
        assert f"<a href='students/{sid}.html'>{html.escape(shown)}</a>" in table
        check_student_page(out / "students" / f"{sid}.html", json.loads((out / "results" / f"{sid}.json").read_text()))
    svg = report[report.index("<svg"):report.index("</svg>")]
    height = float(re.search(r"<svg width=\d+ height=(\d+)", svg).group(1))
    assert all(0 <= float(y) <= height for y in re.findall(r" y=(-?[\d.]+)", svg))  # nothing drawn outside
    fingerprint = json.loads((out / "results" / "1001.json").read_text())["extra_data"]["fingerprint"]
    assert f"fingerprint\n{fingerprint}" in report and "Graded by autograder" in report
    mistakes = report[report.index("<h2>Named mistakes"):report.index("<h2>Every student</h2>")]
    assert "<tr><td>missing factor 2 in dl/dy_hat</td><td>1</td></tr>" in mistakes  # students, not parts


def check_student_page(page, results: dict) -> None:
    """A submission's page: every test's name and score, what the student reads (a failing test's
    first failure line, its Markdown rendered), the staff detail; private like every batch file."""
    text = page.read_text()
    assert page.stat().st_mode & 0o077 == 0
    for test in results["tests"]:
        assert html.escape(test["name"]) in text and f"{test['score']:g}/{test['max_score']:g}" in text
        failures = test.get("extra_data", {}).get("failures")
        if failures:
            assert html.escape(failures[0]) in text
    assert "<h2>For staff</h2>" in text and f"status {html.escape(results['extra_data']['status'])}" in text
    assert "```" not in text and "**" not in text  # (Markdown rendered, not shown)


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
    # the batch's bookkeeping (its cache key, what the integrity signals compare), nothing else differs
    assert from_batch["extra_data"].pop("batch_cache_key") and from_batch["extra_data"].pop("batch_source")["digest"]
    assert without_the_lease(from_batch) == without_the_lease(alone)


def as_in_a_terminal() -> None:
    """In a child before it runs: Ctrl-C as a terminal's foreground process gets it (SIGINT neither
    ignored nor blocked, whatever the test process it is started from inherited)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.slow
def test_ctrl_c_leaves_no_half_written_csv_and_a_rerun_finishes(tmp_path):
    """Ctrl-C while half the class waits in a sleeping mse_loss (each stopped only after 2 x 10 s of the
    clock, so the batch is still busy however late a loaded machine lets the signal come); the sleepers
    then fixed, a rerun grades them and whatever had not been graded, and keeps what had."""
    correct = (EXAMPLES / "correct" / "two_layer_net.py").read_text()
    sleeping = correct.replace("def mse_loss(y_hat, y):\n",
                               "def mse_loss(y_hat, y):\n    import time\n    time.sleep(600)\n")
    assert sleeping != correct
    folder = tmp_path / "class"
    for i in range(6):
        (folder / f"s{i}").mkdir(parents=True)
        (folder / f"s{i}" / "two_layer_net.py").write_text(sleeping if i % 2 else correct)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "batch", str(folder), "--out", str(out), "-j", "2"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=as_in_a_terminal)
    deadline = time.monotonic() + 60
    while not list((out / "results").glob("[!.]*.json")) if (out / "results").exists() else True:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    said = [line for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines() if line.startswith("Sig")]
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    proc.communicate(timeout=60)
    assert proc.returncode == 130, said  # (its signal masks, should it ever not stop)
    assert not (out / "grades.csv").exists()
    kept = sorted(p.stem for p in (out / "results").glob("[!.]*.json"))
    assert kept and set(kept) <= {"s0", "s2", "s4"}  # no sleeper was done
    for i in (1, 3, 5):
        (folder / f"s{i}" / "two_layer_net.py").write_text(correct)
    again = batch(str(folder), "--out", str(out), "-j", "2")
    assert again.returncode == 0
    assert f"({6 - len(kept)} graded, {len(kept)} unchanged" in again.stdout
    assert len(rows(out)) == 6 and {float(r["total"]) for r in rows(out).values()} == {20.0}


def test_a_metadata_file_inside_a_students_folder_does_not_take_over_the_batch(export, tmp_path):
    planted = export / "submission_1002"
    (planted / "submission_metadata.yml").write_text("submission_9999:\n  :submitters:\n  - :name: Nobody\n")
    shutil.copytree(EXAMPLES / "correct", planted / "submission_9999")
    out = tmp_path / "out"
    assert batch(str(export), "--out", str(out)).returncode == 0
    graded = rows(out)
    assert set(graded) == set(STUDENTS)
    assert float(graded["1001"]["total"]) == 20 and float(graded["1002"]["total"]) < 20  # its own file


def test_a_zip_member_leading_out_of_the_input_is_refused(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("class/alice/two_layer_net.py", (EXAMPLES / "correct" / "two_layer_net.py").read_text())
        zf.writestr("../input_x/two_layer_net.py", "x = 1\n")  # passed a prefix test without a separator
    proc = batch(str(archive), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1 and "unsafe path in the zip: ../input_x/two_layer_net.py" in proc.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_links_and_special_files_in_a_zip_are_left_out_with_a_warning(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("class/alice/two_layer_net.py", (EXAMPLES / "correct" / "two_layer_net.py").read_text())
        link = zipfile.ZipInfo("class/bob/two_layer_net.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    out = tmp_path / "out"
    proc = batch(str(archive), "--out", str(out))
    assert proc.returncode == 0 and "left out class/bob/two_layer_net.py (a link or special file)" in proc.stderr
    graded = rows(out)
    assert set(graded) == {"alice"} and float(graded["alice"]["total"]) == 20  # nothing of bob was extracted


@pytest.mark.parametrize("layer", ["off", "auto"])
def test_no_student_reads_a_classmates_submission_as_the_sandbox_user(runtime, tmp_path, layer):
    """Batch from a zip with the Gradescope runtime's Python (so as root the sandbox users run student
    code), without and with bubblewrap: the extracted input and the other pool process's scratch
    copy are closed to it."""
    root = tmp_path / "export"
    for sid in ("2001", "2003", "2005"):
        shutil.copytree(EXAMPLES / "correct", root / f"submission_{sid}")
    (root / "submission_2002").mkdir()
    shutil.copy(REPO / "examples" / "hostile" / "read_classmates.py", root / "submission_2002" / "two_layer_net.py")
    shutil.copy(EXAMPLES / "correct" / "two_layer_net.py", root / "submission_2002" / "honest.py")
    (root / "submission_metadata.yml").write_text("".join(f"submission_{s}:\n  :submitters: []\n"
                                                          for s in ("2001", "2002", "2003", "2005")))
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(root.rglob("*")):
            zf.write(path, path.relative_to(tmp_path))
    out = tmp_path / "out"
    config = tmp_path / "grading.toml"
    config.write_text((runtime / "source" / "grading.toml").read_text().replace(
        'bubblewrap = "off"', f'bubblewrap = "{layer}"'))
    proc = subprocess.run([str(runtime / "venv" / "bin" / "python"), "-m", "autograder", "batch", str(archive),
                           "--out", str(out), "-j", "2", "--config", str(config)], cwd=runtime / "source",
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    graded = rows(out)
    assert {sid: float(r["total"]) for sid, r in graded.items()} == {"2001": 20, "2002": 19, "2003": 20, "2005": 20}
    isolation = json.loads((out / "results" / "2002.json").read_text())["extra_data"]["isolation"]
    if os.geteuid() == 0:
        assert "unprivileged user ag-student" in isolation  # the attack ran as a sandbox user


@pytest.mark.parametrize("form", ["folder", "zip", "export"])
def test_batch_with_the_sandbox_user_and_bubblewrap_gives_what_grade_gives(runtime, tmp_path, form):
    """The Gradescope runtime's Python (as root, student code runs as the sandbox users) with
    bubblewrap on: each row equals `grade` of the same submission with the same id."""
    source = runtime / "source"
    config = tmp_path / "grading.toml"
    config.write_text((source / "grading.toml").read_text().replace('bubblewrap = "off"', 'bubblewrap = "auto"'))
    python = str(runtime / "venv" / "bin" / "python")
    names = {"s1": "correct", "s2": "relu_ge", "s3": "missing_factor_2"}
    folder = tmp_path / "class"
    for sid, example in names.items():
        shutil.copytree(EXAMPLES / example, folder / (f"submission_{sid}" if form == "export" else sid))
    if form == "export":
        (folder / "submission_metadata.yml").write_text("".join(f"submission_{s}:\n  :submitters: []\n"
                                                                for s in names))
    target = folder
    if form == "zip":
        target = tmp_path / "class.zip"
        with zipfile.ZipFile(target, "w") as zf:
            for path in sorted(folder.rglob("*")):
                zf.write(path, path.relative_to(tmp_path))
    out = tmp_path / "out"
    proc = subprocess.run([python, "-m", "autograder", "batch", str(target), "--out", str(out), "-j", "2",
                           "--config", str(config)], cwd=source, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    graded = rows(out)
    for sid, example in names.items():
        single = tmp_path / f"{sid}.json"
        subprocess.run([python, "-m", "autograder", "grade", str(EXAMPLES / example), "--results", str(single),
                        "--submission-id", sid, "--config", str(config)], cwd=source, check=True,
                       capture_output=True, timeout=120)
        alone = json.loads(single.read_text())
        assert float(graded[sid]["total"]) == alone["score"], (sid, graded[sid]["status"])
        isolation = json.loads((out / "results" / f"{sid}.json").read_text())["extra_data"]["isolation"]
        if os.geteuid() == 0:
            assert "unprivileged user ag-student" in isolation
        if "no bubblewrap layer" not in alone["extra_data"]["isolation"]:
            assert "bubblewrap:" in isolation
    assert {float(graded[s]["total"]) for s in names} == {20.0, 19.0, 10.6667}


def test_links_in_a_students_folder_change_nothing_outside_in_a_batch(tmp_path):
    victim = tmp_path / "victim.py"
    victim.write_text("precious = True\n")
    folder = tmp_path / "class" / "alice"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLES / "notebook_correct" / "homework2.ipynb", folder)
    (folder / "two_layer_net.py").symlink_to(victim)
    out = tmp_path / "out"
    proc = batch(str(tmp_path / "class"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "precious = True\n"
    assert float(rows(out)["alice"]["total"]) == 20
    assert "alice/two_layer_net.py (a link to" in proc.stderr  # left out of the class's private copy


def test_graders_side_by_side_each_keep_their_own_sandbox_user(runtime, tmp_path):
    """A slow correct submission graded while two batches run beside it, all as root with the runtime's
    Python: each grader leases a sandbox user of its own, so no grader's cleanup kills another's
    worker, and every grade is what it is alone."""
    python, source = str(runtime / "venv" / "bin" / "python"), runtime / "source"
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "two_layer_net.py").write_text((EXAMPLES / "correct" / "two_layer_net.py").read_text().replace(
        "def affine(x, W, b):", "def affine(x, W, b):\n    __import__('time').sleep(0.1)"))  # (outlasts both batches)
    classes = []
    for name in ("a", "b"):
        folder = tmp_path / f"class_{name}"
        for i, example in enumerate(("correct", "relu_ge", "missing_factor_2", "correct")):
            shutil.copytree(EXAMPLES / example, folder / f"{example}_{i}")
        classes.append(folder)
    grade = subprocess.Popen([python, "-m", "autograder", "grade", str(slow), "--results", str(tmp_path / "slow.json")],
                             cwd=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    batches = [subprocess.Popen([python, "-m", "autograder", "batch", str(folder), "--out", str(tmp_path / f"out_{i}"),
                                 "-j", "2"], cwd=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i, folder in enumerate(classes)]
    assert grade.wait(timeout=120) == 0, grade.stderr.read()
    for proc in batches:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    slow_results = json.loads((tmp_path / "slow.json").read_text())
    assert slow_results["score"] == 20, slow_results["output"]
    users = {slow_results["extra_data"]["sandbox_uid"]}
    for i in range(2):
        totals = {sid: float(r["total"]) for sid, r in rows(tmp_path / f"out_{i}").items()}
        assert totals == {"correct_0": 20, "relu_ge_1": 19, "missing_factor_2_2": 10.6667, "correct_3": 20}
        users |= {json.loads(p.read_text())["extra_data"]["sandbox_uid"]
                  for p in (tmp_path / f"out_{i}" / "results").glob("*.json")}
    if os.geteuid() == 0:
        assert len(users) >= 3  # the grade and at least one pool process of each batch: users of their own


def status_table(out) -> dict[str, tuple[str, str]]:
    return {sid: (r["status"], r["total"]) for sid, r in rows(out).items()}


KILLED_CLASS = ["correct", "relu_ge", "missing_factor_2", "sign_error", "mean_loss", "segfault_in_loss"]


@pytest.fixture(scope="module")
def class_graded_once(tmp_path_factory):
    """(a class of 12, its batch's table of statuses and totals, graded without interruption)."""
    folder = tmp_path_factory.mktemp("killed") / "class"
    for i, example in enumerate(KILLED_CLASS * 2):
        shutil.copytree(EXAMPLES / example, folder / f"s{i:02d}_{example}")
    uninterrupted = folder.parent / "uninterrupted"
    assert batch(str(folder), "--out", str(uninterrupted)).returncode == 0
    return folder, status_table(uninterrupted)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.slow
def test_a_killed_batch_leaves_nothing_and_a_rerun_equals_an_uninterrupted_one(tmp_path, signum, own_tmpdir,
                                                                               class_graded_once):
    """Killed while two submissions sleep in mse_loss (each stopped only after 20 s of the clock: the
    batch is still busy whenever the signal comes, and waits without spending CPU); the two then
    given back their own code, a rerun grades them and whatever had not been graded, and the table
    is the uninterrupted batch's."""
    graded, uninterrupted = class_graded_once
    folder = tmp_path / "class"
    shutil.copytree(graded, folder)
    sleepers = [path for path in sorted(folder.glob("*/two_layer_net.py")) if "correct" in path.parent.name]
    for path in sleepers:
        path.write_text(path.read_text().replace(
            "def mse_loss(y_hat, y):\n", "def mse_loss(y_hat, y):\n    import time\n    time.sleep(600)\n"))
        assert "time.sleep(600)" in path.read_text()
    assert len(sleepers) == 2
    temporary, env = own_tmpdir
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "batch", str(folder), "--out", str(out), "-j", "2"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env)
    deadline = time.monotonic() + 60
    while not (out / "results").exists() or not list((out / "results").glob("[!.]*.json")):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    family = descendants(proc.pid)
    assert family  # pool processes, zygotes, workers
    class_copies = f"{CLASS_COPY_PREFIX}{proc.pid}-*"  # the input's copy: in memory where there is room
    assert list(Path(MEMORY_FOLDER).glob(class_copies)) or class_copy_home(folder) is None
    os.kill(proc.pid, signum)
    status = proc.wait(timeout=30)
    stderr = proc.stderr.read()
    deadline = time.monotonic() + 30
    while alive(family):
        assert time.monotonic() < deadline, "processes of the killed batch outlived it"
        time.sleep(0.05)
    assert not (out / "grades.csv").exists()
    if signum != signal.SIGKILL:
        assert status == 128 + signum and "run the same command again to finish" in stderr
    deadline = time.monotonic() + 30
    # its input copy and scratch folders go (the pool's last clean-up)
    while list(temporary.iterdir()) or list(Path(MEMORY_FOLDER).glob(class_copies)):
        assert time.monotonic() < deadline, list(temporary.iterdir()) + list(Path(MEMORY_FOLDER).glob(class_copies))
        time.sleep(0.05)
    assert not any((out / "results" / f"{path.parent.name}.json").exists() for path in sleepers)
    for path in sleepers:
        shutil.copy(graded / path.parent.name / "two_layer_net.py", path)
    assert batch(str(folder), "--out", str(out)).returncode == 0
    assert status_table(out) == uninterrupted and len(uninterrupted) == 12


def test_an_incomplete_sandbox_is_said_once_on_stderr_and_in_the_report(tmp_path):
    """Without bubblewrap, this project's .venv may sit where the sandbox user cannot run it (a pyenv
    under /root, as on the development machine), or the tests may run as a user without root:
    either way some guarantee is missing, and batch says which."""
    folder = tmp_path / "class"
    for i in range(3):
        shutil.copytree(EXAMPLES / "correct", folder / f"s{i}")
    config = tmp_path / "grading.toml"  # (allowed to run as the grader: else it refuses, test_fail_closed.py)
    config.write_text(without_bubblewrap((REPO / "grading.toml").read_text()).replace(
        "unsafe_run_as_grader = false", "unsafe_run_as_grader = true"))
    out = folder / "out"  # (inside the class: the batch says it left it out, once it has looked at the class)
    out.mkdir()  # (a folder that does not exist yet is made after the class is copied: nothing to leave out)
    proc = batch(str(folder), "--out", str(out), "-j", "2", "--config", str(config))
    assert proc.returncode == 0
    extra = json.loads((out / "results" / "s0.json").read_text())["extra_data"]
    report = (out / "report.html").read_text()
    missing = extra["missing_guarantees"]
    assert ("MISSING guarantees: " + "; ".join(missing) in extra["isolation"]) == bool(missing)
    if not missing:
        assert "sandbox is incomplete" not in proc.stderr and "sandbox was incomplete" not in report
        pytest.skip("the sandbox is complete here")
    assert proc.stderr.count("the sandbox is incomplete") == 1
    assert all(m in proc.stderr for m in missing)
    # said before any student code ran: before the batch even looked at what it would grade
    assert proc.stderr.index("the sandbox is incomplete") < proc.stderr.index("left out")
    assert "The sandbox was incomplete" in report and html.escape(missing[0]) in report


def test_a_complete_sandbox_gets_no_warning(runtime, tmp_path):
    folder = tmp_path / "class"
    shutil.copytree(EXAMPLES / "correct", folder / "s0")
    proc = subprocess.run([str(runtime / "venv" / "bin" / "python"), "-m", "autograder", "batch", str(folder), "--out",
                           str(tmp_path / "out")], cwd=runtime / "source", capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0
    isolation = json.loads((tmp_path / "out" / "results" / "s0.json").read_text())["extra_data"]["isolation"]
    assert ("MISSING" in isolation) == ("the sandbox is incomplete" in proc.stderr)
    if os.geteuid() == 0:
        assert "MISSING" not in isolation


def test_compare_lists_whose_scores_change_under_a_new_config(tmp_path):
    """What-if: loosening mse_grad's tolerance changes the float16 submission only, in that part only."""
    folder = tmp_path / "class"
    for example in ("correct", "float16_mse_grad", "missing_factor_2"):
        shutil.copytree(EXAMPLES / example, folder / example)
    loose = tmp_path / "loose.toml"
    loose.write_text((REPO / "grading.toml").read_text().replace('"mse_grad" = { points = 2 }',
                                                                 '"mse_grad" = { points = 2, rtol = 1e-2 }'))
    before = tmp_path / "before"
    subprocess.run([sys.executable, "-m", "autograder", "batch", str(folder), "--out", str(before)], cwd=REPO,
                   check=True, capture_output=True, timeout=300)
    done = subprocess.run([sys.executable, "-m", "autograder", "batch", str(folder), "--out", str(tmp_path / "after"),
                           "--config", str(loose), "--compare", str(before)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 of 3 submissions change (1 gain, 0 lose):" in done.stdout
    changed = [line for line in done.stdout.splitlines() if line.startswith("  float16_mse_grad")]
    assert len(changed) == 1 and changed[0].endswith("mse_grad +1.5")
    report = (tmp_path / "after" / "report.html").read_text()
    assert "Changes against" in report and "Loss gradient dl/dy_hat = 2 (y_hat - y): 0.4167 -&gt; 1.9167" in report
    missing = subprocess.run([sys.executable, "-m", "autograder", "batch", str(folder), "--out", str(tmp_path / "x"),
                              "--compare", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and "no grades.csv there" in missing.stderr


def test_the_report_lists_the_guarantees_a_submission_was_graded_without_from_the_results_data(tmp_path):
    """The list travels as data (extra_data.missing_guarantees), never parsed back from the isolation
    text; a guarantee two submissions lacked is said once, in the grader's words, escaped."""
    lacked = ["network access is not blocked (no seccomp filter on this machine)", "a <b>bold</b> claim"]
    rows = [from_results(f"s{i}", (), {"score": 1, "tests": [], "extra_data": {
        "status": "ok", "isolation": "whatever it says", "missing_guarantees": lacked[:i + 1]}}, PART_IDS)
        for i in range(2)]
    assert missing_guarantees(rows) == lacked
    page = render_report(rows, load_config())
    assert "The sandbox was incomplete" in page and html.escape(lacked[1]) in page and lacked[1] not in page


def test_an_attention_entry_says_its_score_and_what_failed(tmp_path):
    """A crash at 19/20 is worth a look, and its entry says so: the score and each failing part's first
    failure, in the grader's words (escaped: a failure line can quote student text)."""
    crash = {"score": 19.0, "tests": [
        {"tags": ["affine"], "score": 1.0, "max_score": 1.0, "extra_data": {"hidden": False, "failures": []}},
        {"tags": ["loss"], "score": 0.0, "max_score": 1.0, "extra_data": {"hidden": False, "failures": [
            "all 12 failing cases: crash: mse_loss the process crashed with SIGSEGV (segmentation fault) <b>"]}}],
        "extra_data": {"status": "crash"}}
    row = from_results("s1", (Submitter("Ada"),), crash, PART_IDS)
    assert row.failures == {"loss": crash["tests"][1]["extra_data"]["failures"][0]}
    page = render_report([row], load_config())
    entry = page[page.index("<h2>Needs attention</h2>"):page.index("<h2>Scores</h2>")]
    assert "status crash; 19/2" in entry and "(segmentation fault) &lt;b&gt;" in entry and "<b>" not in entry


def test_the_class_is_copied_into_memory_only_where_it_fits(tmp_path, monkeypatch):
    """A tmpfs with room for twice the class and a gigabyte besides; else the system's temporary folder."""
    folder = tmp_path / "class"
    shutil.copytree(EXAMPLES / "correct", folder / "alice")
    big = folder / "bob" / "data.bin"
    big.parent.mkdir()
    with open(big, "wb") as f:
        f.truncate(5 << 20)  # (sparse: counted by its size, as a copy would hold it)
    from autograder.instructor import batch as batch_module
    from autograder.sandbox.isolation import on_tmpfs

    def free(megabytes):  # the tmpfs's free space, as statvfs says it
        monkeypatch.setattr(batch_module.os, "statvfs", lambda path: os.statvfs_result(
            (4096, 4096, 1 << 30, megabytes << 8, megabytes << 8, 0, 0, 0, 0, 255)))

    in_memory = MEMORY_FOLDER if on_tmpfs(Path(MEMORY_FOLDER)) else None
    free(1024 + 11)
    assert class_copy_home(folder) == in_memory
    free(1024 + 9)  # (2 x 5 MB no longer fits beside the gigabyte kept free)
    assert class_copy_home(folder) is None
