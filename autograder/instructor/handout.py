"""Build the student handout: the template (as a .py and as a notebook), selfcheck.py and a README,
as a folder and a zip.

selfcheck.py is assembled from handout/selfcheck.py: the comparison rule is copied in from
compare.py and the evidence rule of diagnoses from evidence.py (one rule each, the grader's); the
public test vectors are the visible cases' inputs and expected values, with the diagnostic cases
the grader runs only to explain; and the claims a diagnosis may make come as numbers: each claim's
answer on each case (the grader's diagnose.py computes them). Nothing else of the grader goes in:
no reference code, no hidden cases, no secret (a test in the project proves it).
"""

from __future__ import annotations

import ast
import io
import json
import shutil
import textwrap
import tokenize
import zipfile
from pathlib import Path

import numpy as np

from .. import escape
from ..config import Config
from ..core import compare
from ..core.cases import diagnostic_cases, visible_cases
from ..core.conventions import Conventions
from ..core.homework import Homework
from ..diagnosis import evidence, relations, upstream
from ..diagnosis.diagnose import Diagnoser, answer_functions, magnitude
from ..diagnosis.evidence import right_of
from ..diagnosis.mistakes import catalogue, messages, quantities, signals
from ..grading.answer_key import Accepted, expected_answers
from ..grading.fingerprint import fingerprint
from ..grading.results import as_lists
from ..sandbox import runtime, toplevel
from ..sandbox.calls import TOPLEVEL_SHARE

HANDOUT_SOURCE = Path(__file__).absolute().parents[2] / "handout"
COMPARE_SOURCE = Path(compare.__file__).absolute()
EVIDENCE_SOURCE = Path(evidence.__file__).absolute()
RELATIONS_SOURCE = Path(relations.__file__).absolute()
UPSTREAM_SOURCE = Path(upstream.__file__).absolute()
ESCAPE_SOURCE = Path(escape.__file__).absolute()
RUNTIME_SOURCE = Path(runtime.__file__).absolute()
TOPLEVEL_SOURCE = Path(toplevel.__file__).absolute()
SHARED_BEGIN = "# --- shared with the students' selfcheck.py"
SHARED_END = "# --- end of the part shared with selfcheck.py ---"
COMPARE_SLOT = "# === the comparison rule, the autograder's own (filled in by `python -m autograder handout`) ==="
EVIDENCE_SLOT = "# === the evidence rule of diagnoses, the autograder's own (filled in likewise) ==="
RELATIONS_SLOT = "# === how an answer relates to the right one: rounded, reshaped, localised (filled in likewise) ==="
UPSTREAM_SLOT = "# === across the parts: each explained after those it is built from (filled in likewise) ==="
ESCAPE_SLOT = "# === what makes text safe to print, the autograder's own (filled in likewise) ==="
RUNTIME_SLOT = "# === what your code may import, the autograder's own rule (filled in likewise) ==="
TOPLEVEL_SLOT = "# === how your file's top-level code runs, the autograder's own rule (filled in likewise) ==="


def public_cases(diagnoser: Diagnoser, part_ids: tuple[str, ...]) -> list[dict]:
    """The visible cases, then the diagnostic ones, as plain data: inputs, the values the grader hands
    functions, expected values, and what a diagnosis needs (see claims_data)."""
    conventions = diagnoser.conventions
    cases = [(case, False) for case in visible_cases()] + [(case, True) for case in diagnostic_cases()]
    functions = {part: answer_functions(part, conventions) for part in part_ids}
    shipped = {part: [key for key in functions[part] if diagnoser.classes(part)[key] == key] for part in part_ids}
    out = []
    for case, diagnostic in cases:
        i = case.inputs
        s = signals(i, conventions)
        answers = expected_answers(i, conventions)
        # where the course accepts two answers, the first is the handout's form (the claims' reference)
        expected = {part: np.asarray(v[0] if isinstance(v, Accepted) else v) for part, v in answers.items()}
        assert set(expected) == set(part_ids)
        data = {
            "title": case.title, "diagnostic": diagnostic,
            "inputs": {name: getattr(i, name).tolist() for name in ("x", "W1", "b1", "W2", "b2", "y")},
            "given": {name: s[name].tolist() for name in ("z1", "z3")} | {"y_hat": s["z3"].tolist()},
            "expected": {part: value.tolist() for part, value in expected.items()},
            "magnitude": {part: _numbers(magnitude(part, s, conventions)) for part in part_ids},
            "answers": {part: _answers(functions[part], s, expected[part], shipped[part]) for part in part_ids},
        }
        accepted = {part: [a.tolist() for a in v] for part, v in answers.items() if isinstance(v, Accepted)}
        if accepted:
            data["accepted"] = accepted
        out.append(data)
    return out


def _answers(functions: dict, s: dict, expected: np.ndarray, keys: list[str]) -> dict:
    """{key: answer} on one case of the shipped claims (`keys`: one per class of equal functions, see
    Diagnoser.classes), left out where it is exactly the expected answer."""
    out = {}
    for key in keys:
        answer = np.asarray(functions[key](s), dtype=np.float64)
        if answer.shape != expected.shape or not np.array_equal(answer, expected):
            out[key] = _numbers(answer)
    return out


def _numbers(a: np.ndarray):
    """An array as nested lists of 9-significant-digit floats (enough for any tolerance, half the size)."""
    return as_lists(a, 9)


def claims_data(diagnoser: Diagnoser, part_ids: tuple[str, ...]) -> dict:
    """Per part, the claims a diagnosis may make (their words; answers are in each case's data) and
    which claims are the same function (evidence.one_of_each)."""
    out = {}
    conventions = diagnoser.conventions
    said = messages(conventions)
    for part in part_ids:
        classes = diagnoser.classes(part)
        shape = right_of(part, conventions.as_dict())[1]
        out[part] = {
            "known": [[m.id, m.title, said[m.id], f"{m.id}#{form}", m.upstream]
                      for form, m in enumerate(catalogue(part, conventions))],
            "computed": [[q.id, q.words, q.step] for q in quantities(part, shape, conventions)],
            "classes": {key: first for key, first in classes.items() if key != first},
        }
    return out


def selfcheck_source(config: Config) -> str:
    """handout/selfcheck.py with the rules, the tolerances, the public cases and the claims filled in."""
    template = (HANDOUT_SOURCE / "selfcheck.py").read_text()
    tolerances = {pid: [p.tolerance.rtol, p.tolerance.atol] for pid, p in config.parts.items()}
    diagnoser = Diagnoser({}, config.conventions)  # its classes of equal claims serve the cases' answers and the claims
    slots = {COMPARE_SLOT: shared_part(COMPARE_SOURCE), EVIDENCE_SLOT: shared_part(EVIDENCE_SOURCE),
             RELATIONS_SLOT: shared_part(RELATIONS_SOURCE), UPSTREAM_SLOT: shared_part(UPSTREAM_SOURCE),
             ESCAPE_SLOT: shared_part(ESCAPE_SOURCE), RUNTIME_SLOT: shared_part(RUNTIME_SOURCE),
             TOPLEVEL_SLOT: shared_part(TOPLEVEL_SOURCE),
             "TOPLEVEL_SECONDS = None": f"TOPLEVEL_SECONDS = {TOPLEVEL_SHARE * config.limits.import_timeout!r}",
             "WALL_CLOCK_FACTOR = None": f"WALL_CLOCK_FACTOR = {config.limits.wall_clock_factor!r}",
             "PUBLIC_CASES = None": "PUBLIC_CASES = " + repr(public_cases(diagnoser, config.homework.part_ids)),
             "TOLERANCES = None": "TOLERANCES = " + json.dumps(tolerances),
             "CLAIMS = None": "CLAIMS = " + repr(claims_data(diagnoser, config.homework.part_ids)),
             "FINGERPRINT = None": "FINGERPRINT = " + repr(fingerprint(config)),
             "RUNTIME_PACKAGES = None": "RUNTIME_PACKAGES = " + repr(list(config.student_packages)),
             "CONVENTIONS = None": "CONVENTIONS = " + repr(config.conventions.as_dict())}
    for slot, text in slots.items():
        assert template.count(slot) == 1, f"handout/selfcheck.py must hold {slot!r} once"
        template = template.replace(slot, text)
    return template


def _loss_words(c: Conventions) -> tuple[str, str]:
    """(the loss, dl/dy_hat) in formulas."""
    return ("||y_hat - y||^2 / k", "2 (y_hat - y) / k") if c.loss == "mean" else ("||y_hat - y||^2", "2 (y_hat - y)")


def _jacobian_words(c: Conventions) -> tuple[str, str]:
    """(relu_jacobian's docstring, output_jacobian's) under the conventions."""
    matrix, vector = "the (h, h) matrix diag(1[z1 > 0])", "its diagonal as an (h,) vector: 1 where z1 > 0, else 0"
    relu = {"matrix": matrix, "diagonal": vector, "either": f"{matrix}, or {vector} (either form is accepted)"}
    identity = {"matrix": "the (k, k) identity matrix", "diagonal": "its diagonal, a (k,) vector of ones",
                "either": "the (k, k) identity matrix, or its diagonal, a (k,) vector of ones (either form is "
                          "accepted)"}
    at_zero = {0: "The derivative at exactly 0 is 0.", 1: "The derivative at exactly 0 is taken as 1 (use z1 >= 0).",
               "either": "At exactly 0 the derivative may be taken as 0 or as 1."}
    return (f"Return dz2/dz1, {relu[c.jacobians]}. {at_zero[c.relu_derivative_at_zero]}",
            f"Return dy_hat/dz3 for the identity output: {identity[c.jacobians]}.")


def template_source(config: Config) -> str:
    """handout/two_layer_net.py with the docstrings of the course's conventions."""
    conventions = config.conventions
    loss, grad = _loss_words(conventions)
    relu, identity = _jacobian_words(conventions)
    mean = conventions.loss == "mean"
    text = (HANDOUT_SOURCE / config.homework.submission_file).read_text()
    for old, new in (
        ("Loss: l = ||y_hat - y||^2 (a sum of squares, not a mean).",
         f"Loss: l = {loss} " + ("(the mean of the squares, as torch.nn.functional.mse_loss)." if mean else
                                 "(a sum of squares, not a mean).")),
        ('"""Return the scalar ||y_hat - y||^2."""', f'"""Return the scalar {loss}."""'),
        ('"""Return dz2/dz1, the (h, h) matrix diag(1[z1 > 0]). The derivative at exactly 0 is 0."""',
         _docstring(relu)),
        ('"""Return dy_hat/dz3 for the identity output: the (k, k) identity matrix."""', _docstring(identity)),
        ('"""Return dl/dy_hat = 2 (y_hat - y), shape (k,)."""', f'"""Return dl/dy_hat = {grad}, shape (k,)."""'),
    ):
        assert text.count(old) == 1, f"handout/two_layer_net.py must hold {old!r} once"
        text = text.replace(old, new)
    return text


def notebook_file(homework: Homework) -> str:
    """The handout's notebook: the submission file's name, as a notebook (two_layer_net.ipynb)."""
    return Path(homework.submission_file).with_suffix(".ipynb").name


def notebook_source(config: Config) -> str:
    """The template (template_source) as a Jupyter notebook: the homework's statement in a markdown
    cell, the imports, each function in a cell of its own under a heading, and a last cell that runs
    the self-check on the notebook. Its code cells are exactly the template's code."""
    source = template_source(config)
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    statement = ast.get_docstring(tree) or ""
    title, _, rest = statement.partition("\n")
    cells = [_markdown(f"# {title}\n\n{rest.strip()}\n\nWrite your code in the cells below, then run the "
                       "last cell to check it (save the notebook first). Upload this notebook (or your "
                       f"{config.homework.submission_file}) to Gradescope.")]
    body = [node for node in tree.body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    imports = [node for node in body if isinstance(node, (ast.Import, ast.ImportFrom))]
    cells.append(_code("".join(lines[imports[0].lineno - 1:imports[-1].end_lineno])))
    for node in body:
        if isinstance(node, ast.FunctionDef):
            cells.append(_markdown(f"## `{node.name}`"))
            cells.append(_code("".join(lines[node.lineno - 1:node.end_lineno])))
    cells.append(_markdown("## Check your work\n\nSave the notebook, then run this cell (it runs `selfcheck.py` "
                           "from the handout on this notebook; the autograder skips it)."))
    cells.append(_code(f"%run selfcheck.py {notebook_file(config.homework)}"))
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}}, "cells": cells}
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    return json.dumps(notebook, indent=1) + "\n"


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}


def _code(text: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": text.rstrip("\n").splitlines(keepends=True)}


def _docstring(text: str) -> str:
    """A function's docstring, in lines of at most 100 characters (indented under a def)."""
    return '"""' + "\n    ".join(textwrap.wrap(text, 92)) + '"""'


def readme_source(config: Config) -> str:
    """handout/README.md with the course's conventions and the packages its grader has."""
    c = config.conventions
    loss, grad = _loss_words(c)
    forms = {"matrix": "the full matrices", "diagonal": "their diagonals as vectors",
             "either": "the full matrices or their diagonals"}[c.jacobians]
    at_zero = {0: "0", 1: "1", "either": "0 or 1"}[c.relu_derivative_at_zero]
    packages = [p for p in config.student_packages if p != "numpy"]
    text = (HANDOUT_SOURCE / "README.md").read_text()
    for old, new in (
        ("its squared-error loss `l = ||y_hat - y||^2`", f"its squared-error loss `l = {loss}`"),
        ("`dl/dy_hat = 2 (y_hat - y)`", f"`dl/dy_hat = {grad}`"),
        ("- the Jacobians are the full matrices:", f"- the Jacobians are {forms}:"),
        ("0/1 entries and 0 at exactly\n", f"0/1 entries and {at_zero} at exactly\n"),
        ("It may import numpy and Python's\n", "It may import numpy" + "".join(f", {p}" for p in packages)
         + " and Python's\n"),
    ):
        assert text.count(old) == 1, f"handout/README.md must hold {old!r} once"
        text = text.replace(old, new)
    return text


def shared_part(source: Path) -> str:
    """The part of a module shared with selfcheck.py, without its comments (written for maintainers;
    the docstrings stay). (Another homework's self-check copies these parts in too.)"""
    text = source.read_text()
    return without_comments(text[text.index(SHARED_BEGIN):text.index(SHARED_END)]).rstrip() + "\n"


def without_comments(source: str) -> str:
    """Python source without its comments: a line that held only a comment goes, code keeps its line."""
    lines = source.splitlines()
    for token in reversed(list(tokenize.generate_tokens(io.StringIO(source).readline))):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            lines[row - 1] = lines[row - 1][:column].rstrip() or "\0"  # (a comment-only line: marked, dropped)
    return "\n".join(line for line in lines if line != "\0") + "\n"


def build_handout(out: Path, config: Config) -> Path:
    """Write the handout folder `out` (replacing it) and `out`.zip; return the zip's path."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    template, notebook = config.homework.submission_file, notebook_file(config.homework)
    (out / template).write_text(template_source(config))
    (out / notebook).write_text(notebook_source(config))
    (out / "selfcheck.py").write_text(selfcheck_source(config))
    (out / "README.md").write_text(readme_source(config))
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in (template, notebook, "selfcheck.py", "README.md"):
            zf.write(out / name, f"{out.name}/{name}")
    return archive
