"""The staff-only signals (instructor/integrity.py) and the parts nearly everyone fails (items.py),
from rows and files as a batch has them."""

from __future__ import annotations

import json

from autograder.config import load_config
from autograder.homeworks.two_layer_net import HOMEWORK
from autograder.instructor.groups import MistakeGroup
from autograder.instructor.handout import notebook_source, template_source
from autograder.instructor.integrity import normalised_source, rare_answers, same_sources, source_print
from autograder.instructor.items import hard_parts, part_rates
from autograder.instructor.rows import Row

from .conftest import EXAMPLES

PART_IDS = HOMEWORK.part_ids

CONFIG = load_config()
CORRECT = (EXAMPLES / "correct" / "two_layer_net.py").read_text()


def group(*students: str, cause: str = "", part: str = "relu") -> MistakeGroup:
    return MistakeGroup((part,), students, cause, "on a case: ...")


def test_a_rare_shared_answer_is_a_signal_and_a_common_or_named_or_empty_one_is_not():
    odd = {"relu": {"small": [1.37, 0.37]}}
    rows = [Row(s, status="ok", answers=odd) for s in ("a", "b")]
    rows += [Row(s, status="ok", answers={"relu": {"small": [0.0, 0.0]}}) for s in ("z1", "z2")]  # a stub's zeros
    rows += [Row(s, status="ok", answers={"relu": {"small": "timeout"}}) for s in ("t1", "t2")]  # only a status
    rows += [Row(s, status="ok", answers=odd) for s in ("c1", "c2", "c3", "c4")]  # (for the common group)
    rows += [Row(f"ok{i}", status="ok") for i in range(10)]
    groups = [group("a", "b"), group("z1", "z2"), group("t1", "t2"), group("c1", "c2", "c3", "c4"),
              group("a", "b", cause="missing factor 2")]
    (found,) = rare_answers(groups, rows)
    assert found.group.students == ("a", "b") and found.graded == len(rows) and found.wrong == 10


def test_identical_files_are_found_whatever_their_comments_and_spacing_and_the_template_is_not(tmp_path):
    def submit(name: str, text: str, file: str = "two_layer_net.py") -> Row:
        (tmp_path / name).mkdir()
        (tmp_path / name / file).write_text(text)
        return Row(name, source=source_print(tmp_path / name, "two_layer_net.py") or {})

    relaid = ("# my solution\n" + CORRECT.replace("\n\n", "\n\n\n").replace("W @ x + b", "W@x  +  b")
              .replace("    return", "    # done\n    return"))
    notebook = json.dumps({"cells": [{"cell_type": "markdown", "source": "# mine"},
                                     {"cell_type": "code", "source": CORRECT.splitlines(keepends=True)}]})
    handout = tmp_path / "handout"
    handout.mkdir()
    (handout / "two_layer_net.py").write_text(template_source(CONFIG))
    (handout / "two_layer_net.ipynb").write_text(notebook_source(CONFIG))
    handed_out = [source_print(handout / name, "two_layer_net.py")
                  for name in ("two_layer_net.py", "two_layer_net.ipynb")]
    rows = [submit("a", CORRECT), submit("b", relaid), submit("nb", notebook, "work.ipynb"),
            submit("renamed", CORRECT.replace("dl_dz1", "delta1")),
            submit("t1", template_source(CONFIG)), submit("t2", template_source(CONFIG)),
            submit("broken", "def f(:\n"), submit("broken2", "def f(:\n"),  # (unclosed: not compared)
            Row("nothing")]
    assert rows[6].source == {} and normalised_source(tmp_path / "broken", "two_layer_net.py") is None
    (same,) = same_sources(rows, handed_out)
    assert same.students == ("a", "b", "nb") and same.lines > 20  # the unchanged template is no signal


def test_a_part_nearly_everyone_loses_points_on_is_flagged_and_a_hard_one_is_not():
    full = {pid: CONFIG.parts[pid].points for pid in PART_IDS}
    rows = [Row(f"s{i}", status="ok", parts=full | {"grad.W1": 0.5, "relu": 0.0 if i < 5 else full["relu"]})
            for i in range(10)]
    rows += [Row("crashed", status="crash", parts={pid: 0.0 for pid in PART_IDS})]  # not counted for the flag
    (flagged,) = hard_parts(rows, CONFIG)
    assert (flagged.part, flagged.failing_graded, flagged.graded) == ("grad.W1", 10, 10)
    relu = next(r for r in part_rates(rows, CONFIG) if r.part == "relu")
    assert (relu.full, relu.submissions, relu.nearly_everyone_fails) == (5, 11, False)  # half: hard, not broken
    assert hard_parts(rows[:4], CONFIG) == []  # four students say nothing about a part
