"""Every example submission graded end to end through run_autograder, as Gradescope runs it."""

from __future__ import annotations

import json

import pytest

from autograder.diagnosis.mistakes import CATALOGUE, RELATIONS
from autograder.homeworks.two_layer_net import HOMEWORK
from autograder.instructor.bundle import copy_grading_files
from autograder.sandbox.isolation import running_as_root

from .conftest import EXAMPLES, REPO, zygotes_and_workers

PART_IDS = HOMEWORK.part_ids

GRADIENTS = {"grad.W1", "grad.b1", "grad.W2", "grad.b2"}

# example -> the parts it must lose points on; every other part must get full marks.
MISTAKES = {
    "missing_factor_2": {"mse_grad"} | GRADIENTS,
    "sign_error": {"mse_grad"} | GRADIENTS,
    "mean_loss": {"loss"},
    "relu_ge": {"relu_jacobian", "grad.W1", "grad.b1"},
    "jacobians_as_vectors": {"relu_jacobian", "output_jacobian"},
    "transposed_dW1": {"grad.W1"},
    "missing_relu_mask": {"grad.W1", "grad.b1"},
    "missing_function": {"output_jacobian"},
    "dW2_from_z1": {"grad.W2"},
    "jacobian_not_diagonal": {"relu_jacobian"},
    "float16_mse_grad": {"mse_grad"},
    "integer_affine": {"affine"},
    "flat_dW1": {"grad.W1"},
    "relu_on_output": {"forward.y_hat"} | GRADIENTS,
    "relu_mask_inverted": {"relu_jacobian", "grad.W1", "grad.b1"},
}

# example -> (part, mistake id, words of the diagnosis its visible output must carry)
DIAGNOSES = {
    "missing_factor_2": [("mse_grad", "missing_factor_2", "the factor 2"),
                         ("grad.W1", "missing_factor_2", "the factor 2")],
    "sign_error": [("mse_grad", "sign_flipped", "wrong sign"), ("grad.b2", "sign_flipped", "wrong sign")],
    "mean_loss": [("loss", "mean_not_sum", "not their mean")],
    "relu_ge": [("relu_jacobian", "relu_ge", "Use z1 > 0, not z1 >= 0"), ("grad.b1", "relu_ge", "Use z1 > 0")],
    "jacobians_as_vectors": [("relu_jacobian", "jacobian_as_vector", "diagonal as a vector"),
                             ("output_jacobian", "jacobian_as_vector", "diagonal as a vector")],
    "jacobian_not_diagonal": [("relu_jacobian", "jacobian_not_diagonal", "off the diagonal")],
    "transposed_dW1": [("grad.W1", "transposed", "transpose of the right one")],
    "missing_relu_mask": [("grad.W1", "missing_relu_mask", "ReLU step is missing"),
                          ("grad.b1", "missing_relu_mask", "ReLU step is missing")],
    "relu_on_output": [("forward.y_hat", "relu_on_output", "ReLU to the output"),
                       ("grad.W2", "relu_on_output", "ReLU to the output")],
    "dW2_from_z1": [("grad.W2", "dW2_from_z1", "built from z1")],
    "float16_mse_grad": [("mse_grad", "low_precision", "low-precision type")],
    "integer_affine": [("affine", "integer_values", "whole numbers")],
    "flat_dW1": [("grad.W1", "wrong_shape_same_values", "the shape is not")],
    "relu_mask_inverted": [("relu_jacobian", "relu_mask_inverted", "mask is inverted"),
                           ("grad.W1", "relu_mask_inverted", "mask is inverted")],
}


def test_every_diagnosis_in_the_catalogue_has_an_example():
    named = {mistake for cases in DIAGNOSES.values() for _, mistake, _ in cases}
    assert named == {m.id for m in CATALOGUE} | set(RELATIONS)

CORRECT = ["correct", "float32", "column_vectors", "plain_python"]
# a function that misbehaves: its own part fails with a named reason, the others are graded
MISBEHAVING = {
    "hang_in_loss": "timeout",
    "segfault_in_loss": "SIGSEGV (segmentation fault)",
    "exit_in_loss": "exited with status 3",
    "oom_in_loss": "out of memory",
}


def source_with_config(tmp_path, config_text: str):
    """A grader source folder like the repository's, with its own grading.toml."""
    return copy_grading_files(tmp_path / "source", config_text)


@pytest.mark.parametrize("example", CORRECT)
def test_correct_submissions_score_full_marks(gradescope, example):
    run = gradescope(EXAMPLES / example)
    assert run.failed_parts() == set(), run.results["output"]
    assert run.results["score"] == 20
    assert {t["status"] for t in run.results["tests"]} == {"passed"}
    assert len(run.results["tests"]) == 2 * len(PART_IDS)
    if running_as_root():  # as on Gradescope: student code ran as the unprivileged user
        assert run.results["extra_data"]["isolation"].startswith("student code ran as the unprivileged user")


def test_torch_tensors_get_full_marks_where_the_runtime_has_torch(gradescope, tmp_path):
    """The memory limit counts memory, not the address space torch's libraries reserve (640 MB)."""
    pytest.importorskip("torch")
    # the dev venv has torch (the default Gradescope runtime does not); a config listing it lets it in
    config = (REPO / "grading.toml").read_text() + '\n[runtime]\npackages = ["torch"]\n'
    run = gradescope(EXAMPLES / "torch_tensors", dev_python=True, source=copy_grading_files(tmp_path / "src", config))
    assert run.results["score"] == 20, run.results["output"]


def test_a_package_the_grader_lacks_is_named_with_what_it_has(gradescope):
    run = gradescope(EXAMPLES / "torch_tensors")  # the Gradescope runtime: numpy, no torch
    assert run.results["score"] == 0
    assert "The package 'torch' is not available on the grader: student code may import numpy" in \
        run.results["output"]


def test_column_vectors_pass_with_a_note(gradescope):
    run = gradescope(EXAMPLES / "column_vectors")
    out = run.output_of("affine")
    assert "Shapes accepted because they differ from the expected ones only by axes of length 1:" in out
    # each shape once, with the cases it was returned in (h = 4 in the small case)
    line = next(line for line in out.splitlines() if line.startswith("- (4, 1) for (4,): "))
    assert "small random inputs" in line and "n = h = k = 1" not in line, out


@pytest.mark.parametrize("example", sorted(MISTAKES))
def test_each_mistake_loses_exactly_its_own_parts(gradescope, example):
    run = gradescope(EXAMPLES / example)
    assert run.failed_parts() == MISTAKES[example]
    for part in MISTAKES[example]:
        score, max_score = run.part_scores()[part]
        assert score < max_score


@pytest.mark.parametrize("example", sorted(DIAGNOSES))
def test_each_mistake_gets_its_diagnosis_on_the_visible_output(gradescope, example):
    run = gradescope(EXAMPLES / example)
    for part, mistake, words in DIAGNOSES[example]:
        assert run.results["extra_data"]["mistakes"][part] == [mistake]  # one explanation, not guesses
        visible = [t for t in run.results["tests"] if part in t["tags"] and "visible cases" in t["name"]]
        assert "**Likely cause:**" in visible[0]["output"] and words in visible[0]["output"], visible[0]["output"]
        assert visible[0]["output_format"] == "md"
        assert "likely:" in run.results["output"]  # and in the summary a student reads first
    for test in run.results["tests"]:
        if "hidden cases" in test["name"]:
            assert "Likely cause" not in test["output"] and "Expected" not in test["output"]


@pytest.mark.parametrize("example", CORRECT)
def test_correct_code_never_gets_a_diagnosis(gradescope, example):
    run = gradescope(EXAMPLES / example)
    assert "Likely cause" not in json.dumps(run.results) and "likely" not in run.results["output"]
    assert run.results["extra_data"]["mistakes"] == {}


def test_visible_failures_show_inputs_expected_and_received(gradescope):
    run = gradescope(EXAMPLES / "relu_ge")
    out = run.output_of("relu_jacobian")
    assert "Called `relu_jacobian` with:" in out and "z1 = [0." in out
    assert "Expected:" in out and "Received:" in out
    assert run.results["output"].startswith("Tests shown now: 9.75/10. Score by part:")  # visible points only


def test_the_first_failing_case_is_shown_in_full_the_others_in_a_line(gradescope):
    run = gradescope(EXAMPLES / "missing_factor_2")
    out = next(t["output"] for t in run.results["tests"] if t["tags"] == ["mse_grad"] and "visible" in t["name"])
    assert out.count("Called `mse_grad` with:") == 1 and out.count("Worst at index") == 1
    failing = [line for line in out.splitlines() if line.startswith("- ")]
    assert len(failing) == 11 and all("wrong values, " in line and " instead of " in line for line in failing)
    assert len(out.splitlines()) < 60


def test_relu_ge_is_caught_on_the_exact_zero_case(gradescope):
    run = gradescope(EXAMPLES / "relu_ge")
    out = run.output_of("relu_jacobian")
    assert "\n- some entries of z1 exactly 0 (n=4, h=6, k=3): wrong values" in out
    assert "Passing: small random inputs" in out


def test_failures_explain_where_and_by_how_much(gradescope):
    run = gradescope(EXAMPLES / "missing_factor_2")
    out = run.output_of("mse_grad")
    assert "wrong values" in out and "Worst at index" in out and "Max relative difference: 0.5" in out


def test_hidden_cases_reveal_no_values(gradescope):
    run = gradescope(EXAMPLES / "transposed_dW1")
    hidden = [t for t in run.results["tests"] if "hidden cases" in t["name"]]
    assert hidden and all(t["visibility"] == "after_due_date" for t in hidden)
    for t in hidden:
        assert "expected" not in t["output"] and "Worst at" not in t["output"]


@pytest.mark.parametrize("example", sorted(MISBEHAVING))
def test_a_misbehaving_function_fails_alone_with_a_named_reason(gradescope, example):
    run = gradescope(EXAMPLES / example)
    assert run.failed_parts() == {"loss"}
    assert run.part_scores()["loss"][0] == 0
    assert MISBEHAVING[example] in run.output_of("loss")
    assert run.results["score"] == 19


def test_no_worker_survives_a_hang(gradescope):
    gradescope(EXAMPLES / "hang_in_loss", fresh=True)
    assert zygotes_and_workers() == ""


def test_unimportable_submission_scores_zero_with_the_reason_on_top(gradescope):
    run = gradescope(EXAMPLES / "syntax_error")
    assert run.results["score"] == 0
    assert "SyntaxError: expected ':' (line 10" in run.results["output"]
    assert len(run.results["tests"]) == 2 * len(PART_IDS)
    assert run.results["extra_data"]["status"] == "import error"


def test_sys_exit_at_the_top_level_stops_only_itself(gradescope):
    """Left-over script code: the statement is named, what the file defines after it is graded."""
    run = gradescope(EXAMPLES / "exit_at_import")
    assert run.results["score"] == 1  # its affine, defined after the exit; nothing else is defined
    assert run.part_scores()["affine"] == (1, 1)
    assert "- line 8 `sys.exit(0)`: the code called sys.exit(0)" in run.results["output"]
    assert "training my network..." in run.results["output"]  # what it printed at import
    assert run.results["extra_data"]["status"] == "ok"


def test_a_training_loop_at_the_top_level_is_stopped_and_every_function_graded(gradescope):
    """15 s of CPU at the top level, between the functions: stopped within the import's time, and
    the functions before and after it earn full marks, with the line named and the fix suggested."""
    run = gradescope(EXAMPLES / "training_loop_at_top")
    out = run.results["output"]
    assert run.results["score"] == 20, out
    assert "- line 31 `for step in range(3_000_000):`: stopped after 4 s of CPU time" in out
    assert 'if __name__ == "__main__":' in out


def test_untouched_template_scores_zero(gradescope):
    run = gradescope(REPO / "handout" / "two_layer_net.py")
    assert run.results["score"] == 0
    assert "not implemented yet" in run.output_of("affine")


def test_other_file_name_is_graded_and_said(gradescope):
    run = gradescope(EXAMPLES / "other_name")
    assert run.results["score"] == 20
    assert "homework2.py" in run.results["output"] and "two_layer_net.py" in run.results["output"]


def test_missing_submission(gradescope):
    run = gradescope(None)
    assert run.results["score"] == 0
    assert "No two_layer_net.py found" in run.results["output"]
    assert run.results["extra_data"]["status"] == "no submission"


def test_several_files_are_listed(gradescope, tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    for name in ("part1.py", "part2.py", "notes.pdf"):
        (upload / name).write_text("")
    run = gradescope(upload)
    assert run.results["score"] == 0
    assert all(name in run.results["output"] for name in ("part1.py", "part2.py", "notes.pdf"))


def test_student_prints_are_capped(gradescope, tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    source = (EXAMPLES / "correct" / "two_layer_net.py").read_text()
    source = source.replace("def relu(z):\n", "def relu(z):\n    print('x' * 10**6)\n")
    (upload / "two_layer_net.py").write_text(source)
    run = gradescope(upload)
    assert run.results["score"] == 20
    out = run.output_of("relu")
    assert "characters of output cut" in out
    assert len(out) < 60_000
    assert len(run.results["tests"][1]["output"]) < 60_000


def test_grader_failure_still_writes_valid_results(gradescope, tmp_path):
    # a broken config stands for any failure of the grader itself
    source = source_with_config(tmp_path, '[parts]\n"loss" = { points = -1 }\n')
    run = gradescope(EXAMPLES / "correct", source=source)
    assert run.results["score"] == 0
    assert "could not grade" in run.results["output"] and "points" in run.results["output"]


def test_missing_python_still_writes_valid_results(gradescope):
    run = gradescope(EXAMPLES / "correct", python="/nonexistent/python")
    assert run.results["score"] == 0
    assert "course staff" in run.results["output"]


# --- notebooks -------------------------------------------------------------------------------

def test_notebook_is_graded_with_its_magics_prints_plots_and_endless_loop(gradescope):
    run = gradescope(EXAMPLES / "notebook_correct")
    assert run.results["score"] == 20, run.results["output"]
    out = run.results["output"]
    assert "homework2.ipynb" in out
    # matplotlib is not offered by the runtime: a stand-in takes its place
    assert "- cell 7, line 1 `import matplotlib.pyplot as plt`: matplotlib is not offered by the grader" in out
    assert "- cell 8, line 3 `while True:`: stopped after 4 s of CPU time" in out


def test_failing_cells_are_named_and_the_rest_still_graded(gradescope):
    run = gradescope(EXAMPLES / "notebook_failing_cell")
    assert run.results["score"] == 20
    assert "- cell 4, line 1 `print(undefined_variable)`: NameError: name 'undefined_variable'" in run.results["output"]
    assert "- cell 5, line 1 `def broken(:`: SyntaxError: invalid syntax" in run.results["output"]


def test_a_colab_notebook_gets_what_its_code_earns(gradescope):
    """Exported from Colab: Drive mounted, `!pip`, matplotlib imported before numpy in one cell, tqdm
    around the training loop, `display`, a saved plot: none of it is graded, all of it is harmless."""
    run = gradescope(EXAMPLES / "notebook_colab")
    out = run.results["output"]
    assert run.results["score"] == 20, out
    assert "- cell 4, line 1 `import matplotlib.pyplot as plt`: matplotlib is not offered by the grader" in out
    assert "- cell 2, line 1 `from google.colab import drive`: google.colab is not offered" in out


def test_a_notebook_whose_saved_outputs_weigh_22_mb_is_graded(gradescope, tmp_path):
    """Only the code is graded: saved plots count against the file's cap (tens of MB), not the code's."""
    notebook = json.loads((EXAMPLES / "notebook_colab" / "HW_two_layer_net.ipynb").read_text())
    plot = notebook["cells"][-1]["outputs"][0]["data"]
    plot["image/png"] = plot["image/png"] * (22 * 2**20 // len(plot["image/png"]) + 1)
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "two_layer_net.ipynb").write_text(json.dumps(notebook))
    assert (upload / "two_layer_net.ipynb").stat().st_size > 22 * 2**20
    run = gradescope(upload)
    assert run.results["score"] == 20, run.results["output"]


def test_a_failing_statement_in_a_notebook_stops_only_itself(gradescope, tmp_path):
    """VS Code's export: a cell whose first line fails still runs its second; a failing assert is named;
    the graded mistake (an inverted ReLU mask) scores and is named as the same functions in a .py."""
    run = gradescope(EXAMPLES / "notebook_vscode")
    out = run.results["output"]
    assert "- cell 4, line 1 `print(hidden.shape)`: NameError: name 'hidden' is not defined" in out
    assert "- cell 6, line 5 `assert np.allclose(g[\"b1\"], [0.0, 2.0])`: AssertionError" in out
    cells = json.loads((EXAMPLES / "notebook_vscode" / "gradients.ipynb").read_text())["cells"]
    functions = ["".join(c["source"]) for c in cells if "def " in "".join(c["source"])]
    (tmp_path / "two_layer_net.py").write_text("import numpy as np\n\n" + "\n\n\n".join(functions) + "\n")
    as_py = gradescope(tmp_path / "two_layer_net.py")
    assert run.part_scores() == as_py.part_scores() and run.results["score"] < 20
    assert "Your ReLU mask is inverted" in run.output_of("relu_jacobian") == as_py.output_of("relu_jacobian")


def test_notebook_without_the_functions_says_so(gradescope):
    run = gradescope(EXAMPLES / "notebook_no_functions")
    assert run.results["score"] == 0
    assert "defines none of the functions" in run.results["output"]


def test_notebook_is_graded_like_the_same_code_in_a_py_file(gradescope):
    as_notebook = gradescope(EXAMPLES / "notebook_missing_factor_2")
    as_py = gradescope(EXAMPLES / "missing_factor_2")
    assert as_notebook.part_scores() == as_py.part_scores()
    assert as_notebook.results["score"] == as_py.results["score"] < 20


def test_several_candidates_including_a_notebook_are_listed(gradescope, tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "helpers.py").write_text("x = 1\n")
    (upload / "hw.ipynb").write_text((EXAMPLES / "notebook_correct" / "homework2.ipynb").read_text())
    run = gradescope(upload)
    assert run.results["score"] == 0
    assert "several files could be it: helpers.py, hw.ipynb" in run.results["output"]


def test_unreadable_notebook_gets_a_clear_message(gradescope, tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "hw.ipynb").write_text("{ this is not json")
    run = gradescope(upload)
    assert run.results["score"] == 0
    assert "hw.ipynb is not a valid notebook" in run.results["output"]
