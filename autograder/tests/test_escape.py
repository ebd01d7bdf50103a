"""The neutralisers of student text (autograder/escape.py) and results.json's byte budget."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt

from autograder.escape import csv_cell, markdown_block, markdown_span, one_line, terminal
from autograder.grading.results import encode_results, open_fence

HOSTILE_TEXTS = [
    "plain", "", "`", "``", "```", "````\n```\n", "``` ````` `", "a ` b `` c",
    "\n# heading\n**bold** ![img](http://x/y.png) <img src=x> [l](javascript:1)\n",
    "```\n# out of the fence\n```", "~~~\n# tilde fence\n~~~", "    indented\n\n\n<div>html</div>",
    " leading and trailing ", "`starts", "ends`", "\r\n# CRLF heading\r\n",
]


def parse(markdown: str):
    return MarkdownIt("commonmark").parse(markdown)


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_a_markdown_block_holds_the_text_verbatim_and_nothing_else(text):
    tokens = parse("Before\n\n" + markdown_block(text) + "\n\nAfter")
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and fences[0].content == text.replace("\r\n", "\n").replace("\r", "\n") + "\n"
    assert [t.type for t in tokens if t.type != "fence"] == ["paragraph_open", "inline", "paragraph_close"] * 2


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_a_markdown_span_is_one_code_span_in_a_list_item(text):
    tokens = parse(f"- case 1: raised ValueError: {markdown_span(text)}, at [0]\n- case 2")
    children = [c for t in tokens if t.type == "inline" for c in t.children]
    kinds = {c.type for c in children}
    assert kinds <= {"text", "code_inline"}
    assert sum(t.type == "list_item_open" for t in tokens) == 2  # the span never ends the item early
    if text.strip():
        code = [c.content for c in children if c.type == "code_inline"]
        assert len(code) == 1 and code[0].strip() == " ".join(text.replace("\r", " ").split("\n")).strip()


def test_the_terminal_sees_no_control_character_but_newline_and_tab():
    text = "a\x1b[2J\x07b\r\x9b2J\x7f\u202eevil\u2066\tok\nnext"
    shown = terminal(text)
    assert shown == "a\\x1b[2J\\x07b\\x0d\\x9b2J\\x7f\\u202eevil\\u2066\tok\nnext"
    assert one_line("x\ny\tz\\") == "x\\ny\\tz\\\\"
    assert terminal("Ada Lovelace, 20/20 ✓ 😀") == "Ada Lovelace, 20/20 ✓ 😀"


@pytest.mark.parametrize("cell,shown", [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'), ("@SUM(A1)", "'@SUM(A1)"), ("+1", "'+1"),
    ("-1", "'-1"), ("\tx", "'\\x09x"), ("\rx", "'\\x0dx"), ("Ada\nLovelace", "Ada\\x0aLovelace"),
    ("Ada Lovelace", "Ada Lovelace"), ("a=b", "a=b"),
])
def test_a_csv_cell_is_never_a_formula(cell, shown):
    assert csv_cell(cell) == shown


def test_results_json_is_cut_to_its_budget_and_says_so():
    flood = "\U0001F600" * 30_000  # 360 KB encoded each
    results = {"score": 1.0, "output": flood, "output_format": "text", "tests": [
        {"name": f"t{i}", "output": f"{i}/12 cases passed.\n\n" + markdown_block(flood), "output_format": "md"}
        for i in range(8)] + [{"name": "small", "output": "all passed", "output_format": "md"}]}
    text = encode_results(results, budget=1_000_000)
    assert len(text.encode()) <= 1_000_000
    decoded = json.loads(text)
    assert decoded["tests"][-1]["output"] == "all passed"  # a small output is never cut
    for test in decoded["tests"][:-1]:
        assert "results.json is limited to 1 MB" in test["output"]
        assert open_fence(test["output"]) is None  # the cut block is closed: the notice is not code
        assert [t.type for t in parse(test["output"]) if t.type == "fence"] == ["fence"]
    assert results["tests"][0]["output"].endswith("```")  # the caller's document is left as it was
    assert encode_results({"output": "short", "tests": []}) == json.dumps({"output": "short", "tests": []}, indent=2)


def test_the_open_fence_follows_commonmark():
    assert open_fence("text\n```text\ncode") == "```"
    assert open_fence("````text\n```\nstill code") == "````"
    assert open_fence("````text\n```\n`````\nafter") is None
    assert open_fence("``` a ` b\nnot a fence") is None  # an info string with a backtick opens nothing
