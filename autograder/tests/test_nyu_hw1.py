"""nyu-hw1, NYU Deep Learning's homework 1 as the course hands it out, graded by the one engine.

Its answers (numpy) against torch's autograd, the oracle; its cases (float32 numbers, none an
untouched template's zeros answers right, the hidden ones the same problems relabelled per upload);
then the product end to end: each example through run_autograder with torch in the runtime and
bubblewrap off, as Gradescope runs it (the correct one full marks, each typical mistake losing
exactly its parts), build-zip's smoke test, batch and pytest.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from autograder.config import load_config
from autograder.core.homework import homework_named
from autograder.grading.fingerprint import fingerprint, stamped
from autograder.homeworks.nyu_hw1 import answers
from autograder.homeworks.nyu_hw1.cases import CONFIGURATIONS, Network, Targets
from autograder.homeworks.nyu_hw1.diagnosis import CATALOGUE
from autograder.instructor.batch import run_batch
from autograder.instructor.bundle import build_zip, copy_grading_files

from .conftest import REPO, run_autograder

HOMEWORK = homework_named("nyu-hw1")
CONFIG_FILE = REPO / "examples" / "configs" / "nyu_hw1" / "grading.toml"
CORRECT = REPO / "examples" / "configs" / "nyu_hw1" / "mlp.py"
MISTAKES = REPO / "examples" / "nyu_hw1"
NO_BUBBLEWRAP = '\n[sandbox]\nbubblewrap = "off"\n'  # as in Gradescope's Docker
GRADS = ("mlp.backward.W1", "mlp.backward.b1", "mlp.backward.W2", "mlp.backward.b2")
# each example's mistake: the parts it touches (and nothing else), and the cause named for them
CAUSES = {
    "half_mse": "nyu:half_mse", "batch_mean_loss": "nyu:reduction:batch_mean", "no_output_derivative":
    "nyu:no_g_derivative", "sigmoid_derivative_from_z": "nyu:sigmoid_derivative_from_z",
    "averaged_grads": "nyu:grads_averaged", "transposed_dW1": "nyu:transposed", "step_in_backward": None,
}
TITLE = {m.id: m.title for m in CATALOGUE}
SELFCHECK_CAUSES = {  # example -> {part: the cause selfcheck.py names, in the grader's words}
    "half_mse": dict.fromkeys(("mlp.mse_loss", "mlp.mse_grad"), TITLE["nyu:half_mse"]),
    "batch_mean_loss": dict.fromkeys(("mlp.mse_loss", "mlp.mse_grad", "mlp.bce_loss", "mlp.bce_grad"),
                                     TITLE["nyu:reduction:batch_mean"]),
    "split_normalisation": {**dict.fromkeys(GRADS, TITLE["nyu:grads_scaled_by_n"]),
                            "mlp.mse_grad": TITLE["nyu:gradient_without_1_over_n"]},
    "no_output_derivative": dict.fromkeys(GRADS, TITLE["nyu:no_g_derivative"]),
    "averaged_grads": dict.fromkeys(("mlp.backward.b1", "mlp.backward.b2"), TITLE["nyu:grads_averaged"]),
    "transposed_dW1": {"mlp.backward.W1": TITLE["nyu:transposed"]},
}
LOSES = {
    "half_mse": {"mlp.mse_loss", "mlp.mse_grad"},
    "batch_mean_loss": {"mlp.mse_loss", "mlp.mse_grad", "mlp.bce_loss", "mlp.bce_grad"},
    "split_normalisation": {"mlp.mse_grad", *GRADS},
    "no_output_derivative": set(GRADS),
    "sigmoid_derivative_from_z": set(GRADS),
    "averaged_grads": {"mlp.backward.b1", "mlp.backward.b2"},
    "transposed_dW1": {"mlp.backward.W1"},
    "step_in_backward": {"mlp.repeat"},
}


def all_cases() -> list:
    return HOMEWORK.visible_cases() + HOMEWORK.relabel(HOMEWORK.hidden_bases("a secret", 4), "a secret", "123")


def by_autograd(net: Network) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """y_hat and the grads by torch's autograd, in float64."""
    w = net.weights
    params = {k: torch.tensor(getattr(w, k), requires_grad=True) for k in ("W1", "b1", "W2", "b2")}
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda z: z}
    x = torch.tensor(w.x)
    y_hat = act[net.g](act[net.f](x @ params["W1"].T + params["b1"]) @ params["W2"].T + params["b2"])
    y_hat.backward(torch.tensor(w.dJdy_hat))
    return y_hat.detach().numpy(), {f"dJd{k}": p.grad.numpy() for k, p in params.items()}


def test_the_answers_are_autograds_for_every_activation_and_case():
    networks = [c.inputs for c in all_cases() if isinstance(c.inputs, Network)]
    assert {(n.f, n.g) for n in networks} == set(CONFIGURATIONS) and len(CONFIGURATIONS) == 9
    for net in networks:
        y_hat, grads = by_autograd(net)
        np.testing.assert_allclose(answers.reference_answer(net.call("forward"), net.given, answers.Conventions()),
                                   y_hat, rtol=1e-12, atol=1e-12)
        mine = answers.reference_answer(net.call("backward"), net.arrays, answers.Conventions())
        for key, value in grads.items():
            np.testing.assert_allclose(mine[key], value, rtol=1e-10, atol=1e-12, err_msg=f"{net.f}, {net.g}: {key}")


@pytest.mark.parametrize("reduction", answers.REDUCTIONS)
def test_the_losses_are_torchs_under_each_reduction(reduction):
    for case in all_cases():
        if not isinstance(case.inputs, Targets):
            continue
        y, y_hat = torch.tensor(case.inputs.y), torch.tensor(case.inputs.y_hat, requires_grad=True)
        for name, loss in (("mse_loss", torch.nn.functional.mse_loss),
                           ("bce_loss", torch.nn.functional.binary_cross_entropy)):
            if not case.grades(f"mlp.{name}"):
                continue  # (values outside (0, 1): the MSE's only)
            J = loss(y_hat, y, reduction="sum") / {"mean": y.numel(), "batch_mean": y.shape[0], "sum": 1}[reduction]
            J.backward()
            mine = answers.reference_answer(name, case.inputs.arrays, answers.Conventions(reduction))
            np.testing.assert_allclose(mine["J"], J.item(), rtol=1e-10, err_msg=f"{case.id}: {name}")
            np.testing.assert_allclose(mine["dJdy_hat"], y_hat.grad.numpy(), rtol=1e-8, atol=1e-12)
            y_hat.grad = None


def test_cases_hold_float32_numbers_and_no_zeros_answer_is_right():
    """What the student's float32 code is given is what the reference computes on; an untouched
    template (grads of zeros) is wrong on every network case."""
    for case in all_cases():
        for array in case.inputs.arrays:
            assert np.array_equal(array.astype(np.float32).astype(np.float64), array) and not array.flags.writeable
        if isinstance(case.inputs, Network):
            expected = HOMEWORK.expected_answers(case.inputs, answers.Conventions())
            assert all(np.any(expected[part] != 0) for part in ("mlp.forward", *GRADS)), case.id


def test_hidden_cases_are_the_terms_problems_relabelled_per_upload():
    """Two uploads get the same problems, each relabelled: the same answers up to order and sign, other
    values."""
    bases = HOMEWORK.hidden_bases("a secret", 4)
    one, two = (HOMEWORK.relabel(bases, "a secret", upload) for upload in ("123", "456"))
    assert [c.id for c in one] == [c.id for c in two] and len(one) == 4 * 10
    conventions = answers.Conventions()
    for a, b in zip(one, two):
        for part, answer in HOMEWORK.expected_answers(a.inputs, conventions).items():
            other = HOMEWORK.expected_answers(b.inputs, conventions)[part]
            # (an input's sign flipped flips its column of dJdW1: the same magnitudes)
            np.testing.assert_allclose(np.sort(np.abs(np.ravel(answer))), np.sort(np.abs(np.ravel(other))),
                                       rtol=1e-9, atol=1e-12, err_msg=f"{a.id}: {part}")
    assert any(not np.array_equal(a.inputs.arrays[0], b.inputs.arrays[0]) for a, b in zip(one, two))
    assert HOMEWORK.relabel(bases, "a secret", "123")[0].inputs.arrays[0].tobytes() == one[0].inputs.arrays[0].tobytes()
    other_term = HOMEWORK.relabel(HOMEWORK.hidden_bases("another secret", 4), "another secret", "123")
    assert not np.array_equal(other_term[0].inputs.weights.W1, one[0].inputs.weights.W1)


# --- end to end ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nyu_source(tmp_path_factory):
    """The grader's files with the nyu-hw1 config, bubblewrap off (as in Gradescope's Docker)."""
    return copy_grading_files(tmp_path_factory.mktemp("nyu") / "source", CONFIG_FILE.read_text() + NO_BUBBLEWRAP)


def graded(root, submission, nyu_source, packages_root):
    """run_autograder's results for `submission` in a root of the nyu config, with the venv setup.sh made
    for a config listing torch."""
    return run_autograder(root, submission, source=nyu_source, python=str(packages_root / "venv" / "bin" / "python"))


@pytest.mark.slow
@pytest.mark.parametrize("example", ["correct", *LOSES])
def test_through_run_autograder_each_example_loses_exactly_its_parts(example, nyu_source, packages_root, tmp_path):
    submission = CORRECT if example == "correct" else MISTAKES / example / "mlp.py"
    run = graded(tmp_path / "gs", submission, nyu_source, packages_root)
    scores = run.part_scores()
    assert set(scores) == set(HOMEWORK.part_ids) and run.results["extra_data"]["status"] == "ok"
    assert run.failed_parts() == LOSES.get(example, set()), run.results["output"]
    assert sum(m for _, m in scores.values()) == 15
    named = run.results["extra_data"]["mistakes"]
    if example == "split_normalisation":  # right end to end: its gradient and backward each named
        assert named == {**{part: ["nyu:grads_scaled_by_n"] for part in GRADS},
                         "mlp.mse_grad": ["nyu:gradient_without_1_over_n"]}
    else:
        cause = CAUSES.get(example)
        assert named == ({part: [cause] for part in LOSES[example]} if cause else {}), named
    if named:  # the student reads it in the part's visible test
        assert all("**Likely cause:**" in run.output_of(part) for part in named)


@pytest.mark.slow
def test_build_zip_smoke_tests_the_nyu_reference_and_template(tmp_path):
    """The zip's smoke test grades the reference solution (full marks) and the course's template (0)
    as Gradescope would, here with this venv's Python (torch is in it)."""
    config = tmp_path / "grading.toml"
    config.write_text(CONFIG_FILE.read_text() + NO_BUBBLEWRAP + '\n[grading]\nsecret = "a term secret"\n')
    archive = build_zip(tmp_path / "autograder.zip", config, python=sys.executable)
    assert archive.exists()


@pytest.mark.slow
def test_batch_grades_a_nyu_class_and_groups_its_shared_mistakes(tmp_path):
    folder = tmp_path / "class"
    for name, example in (("a", "transposed_dW1"), ("b", "transposed_dW1"), ("c", "step_in_backward"),
                          ("d", "step_in_backward")):
        (folder / name).mkdir(parents=True)
        shutil.copy(MISTAKES / example / "mlp.py", folder / name / "mlp.py")
    (folder / "e").mkdir()
    shutil.copy(CORRECT, folder / "e" / "mlp.py")
    summary = run_batch(folder, tmp_path / "out", load_config(CONFIG_FILE), jobs=1, progress=False)
    assert [r.total for r in sorted(summary.rows, key=lambda r: r.submission_id)] == [13, 13, 14, 14, 15]
    with open(tmp_path / "out" / "grades.csv", encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f))
    assert [c for c in header if c.startswith("part:")] == [f"part:{p}" for p in HOMEWORK.part_ids]
    named, unnamed = sorted(summary.groups, key=lambda g: g.students)
    assert (named.parts, named.students, named.cause) == (("mlp.backward.W1",), ("a", "b"), "transposed")
    assert (unnamed.parts, unnamed.students, unnamed.cause) == (("mlp.repeat",), ("c", "d"), "")
    assert "where" in unnamed.answer and "is expected" in unnamed.answer  # its answer beside the right one


@pytest.mark.slow
def test_pytest_runs_the_nyu_grading_tests_with_the_graders_verdicts():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(HOMEWORK.tests_dir), "--config", str(CONFIG_FILE),
                           "--submission", str(MISTAKES / "transposed_dW1")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    failed = {line.split("::")[1].split("[")[0] for line in done.stdout.splitlines() if line.startswith("FAILED")}
    assert failed == {"test_backward_W1"}, done.stdout[-3000:]
    wrong = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HOMEWORK.tests_dir)],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert wrong.returncode != 0 and "give --config the grading.toml of the homework these tests grade" in \
        wrong.stdout + wrong.stderr


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout") / "hw1"
    done = subprocess.run([sys.executable, "-m", "autograder", "handout", "--config", str(CONFIG_FILE),
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


def test_the_handout_is_the_courses_template_a_selfcheck_and_a_readme(handout):
    assert sorted(p.name for p in handout.iterdir()) == ["README.md", "mlp.py", "selfcheck.py"]
    assert (handout / "mlp.py").read_text() == HOMEWORK.handout_files(load_config(CONFIG_FILE))["mlp.py"]
    source = (handout / "selfcheck.py").read_text()
    assert stamped(handout) == fingerprint(load_config(CONFIG_FILE))
    # no answer in it: torch's layers and finite differences, none of the formulas students write
    assert not any(formula in source for formula in (".T @", "@ W", "* (1 - s)", "(y_hat - y)", "sum(dim=0)"))
    assert "the mean over the batch and the outputs" in (handout / "README.md").read_text()


@pytest.fixture(scope="module")
def selfcheck(handout):
    """The handout's selfcheck.py as a module (this process has torch: each check costs no import)."""
    spec = importlib.util.spec_from_file_location("nyu_selfcheck", handout / "selfcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("example", ["correct", "template", *LOSES])
def test_the_selfcheck_fails_exactly_the_parts_the_grader_fails(example, handout, selfcheck):
    """selfcheck.py on each example gives the grader's verdict of each part (test_through_run_autograder:
    LOSES); the untouched template fails every part."""
    path = {"correct": CORRECT, "template": handout / "mlp.py"}.get(example, MISTAKES / example / "mlp.py")
    verdicts, causes = selfcheck.check(path)
    failed = {part for part, problem in verdicts.items() if problem}
    assert failed == (set(HOMEWORK.part_ids) if example == "template" else LOSES.get(example, set())), verdicts
    # the causes it can tell by numbers alone, the grader's words (the grader tells the others too)
    assert causes == SELFCHECK_CAUSES.get(example, {}), causes


@pytest.mark.slow
def test_the_selfcheck_runs_as_a_student_runs_it(handout):
    for path, status in ((CORRECT, 0), (MISTAKES / "half_mse" / "mlp.py", 1), (handout / "missing.py", 2)):
        done = subprocess.run([sys.executable, str(handout / "selfcheck.py"), str(path)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == status, done.stdout + done.stderr
    said = subprocess.run([sys.executable, str(handout / "selfcheck.py"), str(MISTAKES / "half_mse" / "mlp.py")],
                          capture_output=True, text=True, timeout=300).stdout
    assert "FAIL  mse_loss: J" in said and "2 of 10 parts failed." in said and f"fingerprint {stamped(handout)}" in said
    # what a submission's code says reaches the terminal escaped (a TA may run it on a student's file)
    hostile = handout.parent / "hostile" / "mlp.py"
    hostile.parent.mkdir()
    raising = 'def bce_loss(y, y_hat):\n    raise ValueError("\\x1b[2J\\u202egone")\n'
    hostile.write_text(CORRECT.read_text().replace('def bce_loss(y, y_hat):\n', raising))
    shown = subprocess.run([sys.executable, str(handout / "selfcheck.py"), str(hostile)],
                           capture_output=True, text=True, timeout=300).stdout
    assert "raised ValueError: \\x1b[2J\\u202egone" in shown and "\x1b" not in shown and "\u202e" not in shown


def test_a_cause_is_named_only_where_it_holds_on_inputs_the_student_never_saw():
    """Half the MSE on every visible case but the right loss on the diagnostic ones is no half-MSE: a
    cause is a claim about the code, checked where its author could not have tuned it."""
    from autograder.core.explain import Observation
    from autograder.homeworks.nyu_hw1.diagnosis import diagnoser_for

    config = load_config(CONFIG_FILE)
    cases = [c for c in HOMEWORK.visible_cases() + HOMEWORK.diagnostic_cases() if c.grades("mlp.mse_loss")]
    assert any(c.id.startswith("diagnostic") for c in cases)

    def observed(halved) -> dict:
        out = []
        for case in cases:
            right = HOMEWORK.expected_answers(case.inputs, config.conventions)["mlp.mse_loss"]
            received = right / 2 if halved(case) else right
            out.append(Observation(case.id, case.inputs, received, right, bool(np.all(received == right))))
        return {"mlp.mse_loss": out}

    diagnoser = diagnoser_for(config)
    assert diagnoser.explain(observed(lambda case: True))["mlp.mse_loss"].ids == ("nyu:half_mse",)
    assert diagnoser.explain(observed(lambda case: not case.id.startswith("diagnostic"))) == {}
    assert diagnoser.explain(observed(lambda case: False)) == {}


@pytest.mark.slow
def test_a_course_grades_the_activations_it_lists(tmp_path):
    """A mistake in the sigmoid's derivative costs nothing where the course grades relu and identity only;
    a pair outside the nine is refused by name."""
    config = tmp_path / "grading.toml"
    config.write_text(CONFIG_FILE.read_text() + 'activations = [["relu", "identity"], ["identity", "relu"]]\n')
    results = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(MISTAKES / "sigmoid_derivative_from_z"),
                           "--config", str(config), "--results", str(results)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    graded = json.loads(results.read_text())
    assert done.returncode == 0 and graded["score"] == 15, done.stdout
    hidden = [t for t in graded["tests"] if t["extra_data"]["hidden"] and t["tags"] == ["mlp.forward"]]
    assert hidden[0]["output"].startswith("8/8 ")  # four bases, two pairs
    config.write_text(CONFIG_FILE.read_text() + 'activations = [["relu", "tanh"]]\n')
    refused = subprocess.run([sys.executable, "-m", "autograder", "grade", str(CORRECT), "--config", str(config)],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "assignment.activations must be a list of at least one of" in refused.stderr
