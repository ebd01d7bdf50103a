"""One submission's results as a readable HTML page, for staff: the tests as the student sees them
on Gradescope (each test's Markdown rendered, with its visibility), then the staff detail that
results.json carries for the grader alone (status, graded file, sandbox, named mistakes).

Made from the results.json a batch wrote; nothing in it is trusted to be well formed, and every
text in it is escaped: outputs quote student code's prints and errors. The class's integrity
signals are never put here (a page may be shown to its student).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from ..diagnosis.diagnose import describe
from ..grading.results import atomic_write_text
from .rows import PRIVATE_FILE, Row

VISIBILITY = {"visible": "shown to the student", "hidden": "never shown to the student",
              "after_due_date": "shown after the due date", "after_published": "shown once grades are published"}


MAX_OUTPUT_CHARS = 100_000  # of one output shown (results.json has it whole, up to its own limit)


def page_path(results_path: Path) -> Path:
    """A batch's page of a submission (students/<id>.html), beside its results (results/<id>.json)."""
    return results_path.parent.parent / "students" / f"{results_path.stem}.html"


def write_student_page(path: Path, row: Row, results: dict) -> None:
    atomic_write_text(path, render_student_page(row, results), durable=False, mode=PRIVATE_FILE)


def render_student_page(row: Row, results: dict) -> str:
    """The page of one submission (`results`: its results.json document, as read)."""
    tests = [t for t in results.get("tests", []) if isinstance(t, dict)]
    extra = results.get("extra_data") if isinstance(results.get("extra_data"), dict) else {}
    who = html.escape(row.name or row.submission_id)
    total = f"{_number(results.get('score')):g}/{row.max:g}"
    blocks = []
    for test in tests:
        score, top = _number(test.get("score")), _number(test.get("max_score"))
        state = "full" if score >= top - 1e-9 else ("none" if score == 0 else "part")
        seen = VISIBILITY.get(str(test.get("visibility") or results.get("visibility") or "visible"),
                              "shown to the student")
        blocks.append(f"<section class='test {state}'><h3>{html.escape(str(test.get('name', '')))} "
                      f"<span class=score>{score:g}/{top:g}</span></h3><p class=seen>{html.escape(seen)}</p>"
                      f"{_markdown(_capped(str(test.get('output') or '')))}</section>")
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>{who}: results</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }}
pre {{ background: #f4f4f4; padding: .6em; white-space: pre-wrap; overflow-wrap: anywhere; }}
code {{ background: #f4f4f4; overflow-wrap: anywhere; }}
section.test {{ border-left: .4em solid #ccc; padding-left: .8em; margin-bottom: 1.5em; }}
section.full {{ border-color: #4a7; }} section.part {{ border-color: #da3; }}
section.none {{ border-color: #c44; }} .score {{ float: right; }} .seen {{ color: #666; font-size: .9em; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }} dd {{ margin: 0; }}
</style></head><body>
<p><a href='../report.html'>Class report</a> &middot; <a href='../results/{html.escape(row.submission_id)}.json'>
results.json</a></p>
<h1>{who}</h1>
<p>Submission {html.escape(row.submission_id)}{_people(row)}: <b>{total}</b>, status {html.escape(str(row.status))}.</p>
<h2>What the student sees</h2>
{_markdown(_capped(str(results.get("output") or "")))}
{"".join(blocks) or "<p>No tests.</p>"}
<h2>For staff</h2>
{_staff(row, extra)}
</body></html>
"""


def _people(row: Row) -> str:
    people = [p for p in row.submitters if p.name or p.email]
    if not people:
        return ""
    return " (" + "; ".join(html.escape(" ".join(x for x in (p.name, f"<{p.email}>" if p.email else "",
                                                                  p.sid) if x)) for p in people) + ")"


def _staff(row: Row, extra: dict) -> str:
    """What results.json keeps for the grader alone, as a list of terms."""
    named = sorted({m for ids in row.mistakes.values() if isinstance(ids, list) for m in ids if isinstance(m, str)})
    entries = [("status", str(row.status)), ("graded file", str(extra.get("graded_file") or "")),
               ("likely causes", "; ".join(f"{part}: {cause}" for part, cause in row.causes.items()
                                           if isinstance(cause, str))),
               ("named mistakes", ", ".join(describe(m) for m in named)),
               ("grading time", f"{row.seconds:.2f} s"), ("sandbox", row.isolation),
               ("missing guarantees", "; ".join(row.missing_guarantees)),
               ("grader", f"{extra.get('version', '')} (fingerprint {row.fingerprint})")]
    return "<dl>" + "".join(f"<dt>{html.escape(term)}</dt><dd>{html.escape(value)}</dd>"
                            for term, value in entries if value) + "</dl>"


def _capped(output: str) -> str:
    if len(output) <= MAX_OUTPUT_CHARS:
        return output
    return output[:MAX_OUTPUT_CHARS] + f"\n... [{len(output) - MAX_OUTPUT_CHARS} characters cut: results.json has them]"


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


_FENCE = re.compile(r"^(`{3,}|~{3,})")
_SPAN = re.compile(r"(`+)(.+?)\1")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _markdown(text: str) -> str:
    """The grader's Markdown as HTML: fenced blocks, `- ` lists, paragraphs, code spans and bold, the
    subset results.json's outputs use. Everything is escaped first: student text, which the grader
    keeps inside code, stays text, and anything else stays as written."""
    out, paragraph, items, fence, code = [], [], [], "", []

    def flush() -> None:
        if paragraph:
            out.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        if fence:
            closing = line.strip()
            if set(closing) == {fence[0]} and len(closing) >= len(fence):  # (a run as long, or longer)
                out.append("<pre>" + html.escape("\n".join(code)) + "</pre>")
                fence, code = "", []
            else:
                code.append(line)
            continue
        opened = _FENCE.match(line.strip())
        if opened:
            flush()
            fence = opened.group(1)
            continue
        if not line.strip():
            flush()
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:])
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    if fence:  # (an unclosed block: shown as code all the same)
        out.append("<pre>" + html.escape("\n".join(code)) + "</pre>")
    return "\n".join(out)


def _inline(text: str) -> str:
    """One line: code spans as <code>, **bold** outside them, all else escaped."""
    pieces, at = [], 0
    for span in _SPAN.finditer(text):
        pieces.append(_BOLD.sub(r"<b>\1</b>", html.escape(text[at:span.start()])))
        pieces.append(f"<code>{html.escape(span.group(2).strip() or span.group(2))}</code>")
        at = span.end()
    pieces.append(_BOLD.sub(r"<b>\1</b>", html.escape(text[at:])))
    return "".join(pieces)
