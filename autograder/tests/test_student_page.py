"""A submission's results as an HTML page for staff (instructor/student_page.py): what the student
reads, rendered, and nothing a student wrote ever becomes markup."""

from __future__ import annotations

from autograder.escape import markdown_block, markdown_span
from autograder.homeworks.two_layer_net import HOMEWORK
from autograder.instructor.intake import Submitter
from autograder.instructor.rows import from_results
from autograder.instructor.student_page import render_student_page

PART_IDS = HOMEWORK.part_ids

HOSTILE = "<script>alert(1)</script> ``` **not bold** <img src=x onerror=alert(2)>"


def test_the_graders_markdown_is_rendered_and_student_text_stays_text():
    output = ("1/12 cases passed.\n\n**Likely cause:** half the right one.\n\nFailing cases:\n"
              f"- small: raised {markdown_span(HOSTILE)}\n- single: wrong values\n\n"
              f"Your code printed:\n{markdown_block(HOSTILE)}\n")
    results = {"score": 0.5, "output": f"Printed at import: {markdown_span(HOSTILE)}", "tests": [
        {"name": "Loss gradient (visible cases)", "score": 0.5, "max_score": 1.0, "output": output,
         "visibility": "visible", "tags": ["mse_grad"]},
        {"name": "Loss gradient (hidden cases)", "score": 0.0, "max_score": 1.0, "output": "**0/4 passed**",
         "visibility": "after_published", "tags": ["mse_grad"]}],
        "extra_data": {"status": "ok", "graded_file": "two_layer_net.py", "causes": {"mse_grad": "half <b>"}}}
    row = from_results("s1", (Submitter("<i>Ada</i>", "ada@uni.edu", "S1"),), results, PART_IDS)
    page = render_student_page(row, results)
    assert "<script" not in page and "<img" not in page and "<i>Ada" not in page and "half <b>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3  # the import output, the span, the block
    assert "<b>Likely cause:</b>" in page and "<li>small: raised <code>" in page  # the grader's own Markdown
    assert "<b>not bold</b>" not in page  # (inside code: stays as written)
    assert "<pre>" + "&lt;script&gt;" in page and "shown once grades are published" in page
    assert "0.5/1" in page and "0/1" in page and "&lt;i&gt;Ada&lt;/i&gt; &lt;ada@uni.edu&gt; S1" in page
    assert "mse_grad: half &lt;b&gt;" in page  # the staff detail


def test_a_malformed_results_document_still_gives_a_page():
    for results in ({}, {"tests": "nope", "score": "x", "extra_data": []},
                    {"tests": [{"name": 3, "score": None, "output": "```\nunclosed"}]}):
        row = from_results("s2", (), results if isinstance(results, dict) else {}, PART_IDS)
        page = render_student_page(row, results)
        assert page.startswith("<!doctype html>") and "<h2>For staff</h2>" in page


def test_a_huge_output_is_cut_on_the_page_and_says_where_the_rest_is():
    results = {"score": 0, "tests": [{"name": "t", "score": 0, "max_score": 1, "output": "```\n" + "x" * 300_000}]}
    page = render_student_page(from_results("s3", (), results, PART_IDS), results)
    assert len(page) < 150_000 and "characters cut: results.json has them" in page
