"""Same code, same score: a submission's grade does not depend on its upload (the submission id)
or the term (the secret), and nothing a student sees before the due date depends on a hidden test.

Every example is graded through Grader.grade, the one grading path, under 10 submission ids and 2
secrets; the visible-only submission end to end through run_autograder.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograder.config import load_config
from autograder.core.cases import visible_cases
from autograder.diagnosis import diagnoser_for
from autograder.grading.grade import Grader
from autograder.grading.hidden import hidden_cases
from autograder.grading.results import report_to_results
from reference import two_layer_net as ref

from .conftest import EXAMPLES, REPO

IDS = [str(i) for i in range(100, 110)]  # x 2 secrets: 20 gradings per example (the 60 ids below: right code)
# The examples each of whose gradings runs to a time limit (a call that never returns, a top-level loop):
# graded under the first 4 ids (x 2 secrets); what an id changes, the hidden cases, the others cover under all 10
RUN_TO_A_LIMIT, LIMITED_IDS = {"hang_in_loss", "training_loop_at_top", "notebook_correct"}, IDS[:4]
SECRETS = ("term-one-secret", "another-term")
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def graders():
    """One Grader per secret. Short time limits keep the hanging examples and the top-level loops quick
    (a timeout is a timeout at any limit; a stopped statement is stopped at any budget)."""
    config = load_config()
    limits = dataclasses.replace(config.limits, call_timeout=0.5, timeouts_before_skip=1, import_timeout=1.0)
    graders = [Grader(dataclasses.replace(config, secret=secret, limits=limits), diagnoser=diagnoser_for)
               for secret in SECRETS]
    yield graders
    for grader in graders:
        grader.close()


def per_test_scores(report) -> list[tuple[str, float]]:
    return [(t.number, round(t.score, 6)) for t in report.tests]


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
@pytest.mark.slow
def test_every_example_gets_the_same_score_on_every_upload_and_every_term(graders, example):
    seen = {}
    for grader in graders:
        for submission_id in LIMITED_IDS if example in RUN_TO_A_LIMIT else IDS:
            report = grader.grade(EXAMPLES / example, submission_id)
            seen[(grader.config.secret, submission_id)] = per_test_scores(report)
    first = next(iter(seen.values()))
    differing = {key: scores for key, scores in seen.items() if scores != first}
    assert not differing, f"{example}: {len(differing)} of {len(seen)} gradings differ, e.g. {next(iter(differing))}"


@pytest.mark.parametrize("example", ["correct", "float32", "plain_python", "column_vectors"])
@pytest.mark.slow
def test_correct_code_gets_full_marks_under_every_id(graders, example):
    for submission_id in [f"upload-{i}" for i in range(60)]:
        report = graders[0].grade(EXAMPLES / example, submission_id)
        assert report.score == report.max_score, (example, submission_id, report.output)


def visible_only_submission(path: Path) -> Path:
    """A submission that answers right on the visible cases' exact inputs only, and wrong on
    anything else: what hard-coding the visible cases would earn."""
    arrays = []
    for case in visible_cases():
        i = case.inputs
        f = ref.forward(i.x, *i.params)
        arrays += [i.x, i.W1, i.b1, i.W2, i.b2, i.y, f["z1"], f["z3"], f["y_hat"]]
    known = [repr(a.tolist()) for a in arrays]
    reference = (REPO / "reference" / "two_layer_net.py").read_text()
    source = textwrap.dedent(f"""\
        import numpy as np

        _REFERENCE = {{}}
        exec({reference!r}, _REFERENCE)  # its functions call each other, not the wrappers below
        _KNOWN = [np.array(a, dtype=float) for a in [{", ".join(known)}]]


        def _seen(args):
            return all(any(np.shape(a) == k.shape and np.array_equal(a, k) for k in _KNOWN) for a in args)


        def _only_on_visible_inputs(name):
            def function(*args):
                answer = _REFERENCE[name](*args)
                if _seen(args):
                    return answer
                if isinstance(answer, dict):
                    return {{key: 1.5 * value + 1 for key, value in answer.items()}}
                return 1.5 * answer + 1
            return function


        for _name in ("affine", "relu", "forward", "mse_loss", "relu_jacobian", "output_jacobian", "mse_grad",
                      "backward"):
            globals()[_name] = _only_on_visible_inputs(_name)
    """)
    path.mkdir()
    (path / "two_layer_net.py").write_text(source)
    return path


def test_hard_coding_the_visible_inputs_earns_the_visible_points_and_nothing_hidden(graders, tmp_path):
    submission = visible_only_submission(tmp_path / "hard_coded")
    for grader in graders:
        for submission_id in IDS[:5]:
            tests = grader.grade(submission, submission_id).tests
            assert all(t.score == t.max_score for t in tests if not t.hidden)
            assert all(t.score == 0 for t in tests if t.hidden) and any(t.hidden for t in tests)


def test_what_a_student_sees_before_the_due_date_does_not_depend_on_hidden_results(gradescope, tmp_path):
    """The visible-only submission and correct code differ only in hidden tests, so the top-level
    output and the visible tests (all Gradescope shows before the due date) must be the same."""
    hard_coded = gradescope(visible_only_submission(tmp_path / "hard_coded"), metadata={"id": 31})
    correct = gradescope(EXAMPLES / "correct", metadata={"id": 31})

    def shown(run) -> tuple:
        return run.results["output"], [t for t in run.results["tests"] if t["visibility"] == "visible"]

    assert hard_coded.results["score"] == 10 and correct.results["score"] == 20
    assert shown(hard_coded) == shown(correct)
    assert "20" not in hard_coded.results["output"].splitlines()[0]  # no total, no hidden points in it
    assert "Hidden tests worth 10 more points will be shown after the due date" in correct.results["output"]
    held = [t for t in hard_coded.results["tests"] if t["visibility"] != "visible"]
    assert held and all(t["score"] == 0 and t["visibility"] == "after_due_date" for t in held)


def written(x) -> str:
    """What the submission below writes for an input x: short, so the visible cases' part of it
    stays well under the cap on shown output, and the hidden cases' part would fit too."""
    return f"[{len(x)}:{float(np.sum(x)):.9f}]"


def test_output_written_while_hidden_cases_run_is_not_shown_before_the_due_date(gradescope, tmp_path):
    """Student code that writes every input it gets straight to fd 1: the visible inputs may be
    shown at once, the hidden ones only to instructors (the log)."""
    correct = (EXAMPLES / "correct" / "two_layer_net.py").read_text()
    assert correct.count("def affine(x, W, b):") == 1
    source = correct.replace("def affine(x, W, b):", textwrap.dedent("""\
        def affine(x, W, b):
            import os
            os.write(1, f"[{len(x)}:{float(np.sum(x)):.9f}]".encode())"""))
    (tmp_path / "leak").mkdir()
    (tmp_path / "leak" / "two_layer_net.py").write_text(source)
    run = gradescope(tmp_path / "leak", metadata={"id": 77})
    assert run.results["score"] == 20
    config = load_config()
    visible = {written(c.inputs.x) for c in visible_cases()}
    hidden = {written(c.inputs.x) for c in hidden_cases(config.secret, "77", config.hidden_cases)} - visible
    student_view = run.results["output"] + "".join(t["output"] for t in run.results["tests"]
                                                   if t["visibility"] == "visible")
    assert visible <= set(re.findall(r"\[\d+:[-\d.]+\]", run.results["output"]))  # visible inputs do show
    shown_writes = run.results["output"].split("Output written directly to the process's stdout/stderr:\n")[1]
    assert hidden and len(shown_writes) + 30 * len(hidden) < load_config().limits.max_output_chars  # room left
    assert not any(x in student_view for x in hidden)
    assert all(x in run.log for x in hidden)  # instructors still see everything


def test_with_hidden_tests_visible_the_summary_shows_the_whole_total(graders, tmp_path):
    config = dataclasses.replace(graders[0].config, hidden_cases_visibility="visible")
    with Grader(config, diagnoser=diagnoser_for) as grader:
        results = report_to_results(grader.grade(EXAMPLES / "missing_factor_2", "5"))
    assert results["output"].startswith(f"Total: {results['score']:.4g}/20. Score by part:")
    assert np.isclose(results["score"], 10.6667, atol=1e-3)
