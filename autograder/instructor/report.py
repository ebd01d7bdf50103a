"""The batch's HTML report: one self-contained page (inline CSS, SVG and a small sorting script), no server.

For a busy instructor: who needs attention first (each linked to their results), then the score
histogram, the parts' success rates, the wrong answers several students share (groups.py), the named
mistakes with how many students made each, and a
sortable table of every student with their points per part; the footer says which grader and which
fingerprint of cases, tolerances and conventions produced it.
"""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime
from pathlib import Path

from .. import __version__
from ..config import Config
from ..core.parts import PARTS, PARTS_BY_ID, Conventions, part_title
from ..diagnosis.diagnose import describe
from ..grading.grade import Status
from ..grading.results import atomic_write_text
from .groups import MistakeGroup
from .rows import Row
from .whatif import Comparison


def write_report(path: Path, rows: list[Row], config: Config, comparison: Comparison | None = None,
                 groups: list[MistakeGroup] = ()) -> None:
    """The class's report, written atomically, readable by its owner alone (it names every student)."""
    atomic_write_text(path, render_report(rows, config, comparison, groups), mode=0o600)


def missing_guarantees(rows: list[Row]) -> list[str]:
    """The sandbox guarantees some submission of the batch was graded without (from each results'
    extra_data.missing_guarantees), each said once."""
    return list(dict.fromkeys(m for r in rows for m in r.missing_guarantees))


def render_report(rows: list[Row], config: Config, comparison: Comparison | None = None,
                  groups: list[MistakeGroup] = ()) -> str:
    """The page: who needs attention first, then the scores, the parts, the mistakes several students
    share, the named mistakes, every student."""
    total_max = config.total_points
    missing = missing_guarantees(rows)
    warning = ("<p class=warn><b>The sandbox was incomplete</b> for this batch: "
               + "; ".join(html.escape(m) for m in missing) + ".</p>") if missing else ""
    scores = [float(r.total) for r in rows]
    statuses = Counter(str(r.status) for r in rows)
    mean = sum(scores) / len(scores) if scores else 0.0
    median = sorted(scores)[len(scores) // 2] if scores else 0.0
    status_text = ", ".join(f"{html.escape(s)}: {n}" for s, n in statuses.most_common())
    stamps = sorted({r.fingerprint for r in rows} - {""})
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>Two-layer network: class report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 70em; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }} td, th {{ padding: .2em .8em; text-align: left; }}
tr:nth-child(even) {{ background: #f4f4f4; }} .bar {{ display: inline-block; height: .8em; background: #4a7; }}
.warn {{ background: #fdd; padding: .6em; }} th.sort {{ cursor: pointer; text-decoration: underline dotted; }}
td.num {{ text-align: right; }} .scroll {{ overflow-x: auto; }}
footer {{ color: #666; font-size: .9em; margin-top: 3em; }}
</style></head><body>
<h1>Two-layer network: class report</h1>
{warning}
<p>{len(rows)} submissions; mean {mean:.2f} / {total_max:g}, median {median:.2f}. Status: {status_text or "none"}.</p>
{_attention(rows, median)}
{_changes(comparison, config.conventions)}
<h2>Scores</h2>
{_histogram(scores, total_max)}
<h2>Parts: submissions with full points</h2>
{_parts(rows, config)}
<h2>Mistakes several students share</h2>
{_groups(groups, rows, config.conventions)}
<h2>Named mistakes: how many students made each</h2>
{_mistakes(rows)}
<h2>Every student</h2>
{_students(rows)}
<footer>Graded by autograder {html.escape(__version__)}; cases, tolerances and conventions: fingerprint
{html.escape(", ".join(stamps) or "unknown")}; report written {datetime.now().strftime("%Y-%m-%d %H:%M")}.</footer>
{_SORT_SCRIPT}
</body></html>
"""


def needs_attention(rows: list[Row], median: float) -> list[tuple[Row, str]]:
    """(row, why) for each submission staff should look at: not graded as ok (an import error, a timeout,
    a crash: attacks look like these), a score of zero, or one far below the class (under half the median)."""
    out = []
    for r in rows:
        total = float(r.total)
        why = []
        if r.status != Status.OK:
            why.append(f"status {r.status}")
        if total == 0:
            why.append("score 0")
        elif median > 0 and total < median / 2:
            why.append(f"score {total:g}, under half the median ({median:g})")
        if why:
            out.append((r, "; ".join(why)))
    return sorted(out, key=lambda item: (float(item[0].total), item[0].submission_id))


def _attention(rows: list[Row], median: float) -> str:
    found = needs_attention(rows, median)
    items = "".join(f"<li><a href='results/{html.escape(r.submission_id)}.json'>{html.escape(r.submission_id)}"
                    f"</a> {html.escape(r.name)}: {html.escape(why)}; {float(r.total):g}/{float(r.max):g}"
                    + "".join(f"<br><small>{html.escape(part)}: {html.escape(failure)}</small>"
                              for part, failure in list(r.failures.items())[:3]) + "</li>" for r, why in found)
    return ("<h2>Needs attention</h2>" + (f"<ul>{items}</ul>" if items else "<p>Nobody: every submission was "
                                                                          "graded normally.</p>"))


def _parts(rows: list[Row], config: Config) -> str:
    lines = []
    for part in PARTS:
        points = config.parts[part.id].points
        full = sum(1 for r in rows if float(r.parts.get(part.id, 0.0)) >= points - 1e-9)
        rate = full / len(rows) if rows else 0.0
        lines.append(f"<tr><td>{html.escape(part_title(part, config.conventions))}</td><td>{full}/{len(rows)}</td>"
                     f"<td><div class=bar style='width:{rate * 200:.0f}px'></div> {rate:.0%}</td></tr>")
    return f"<table><tr><th>part</th><th>full points</th><th>rate</th></tr>{''.join(lines)}</table>"


def _mistakes(rows: list[Row]) -> str:
    students = Counter(m for r in rows for m in {m for ids in r.mistakes.values() for m in ids})
    lines = "".join(f"<tr><td>{html.escape(describe(m))}</td><td>{n}</td></tr>" for m, n in students.most_common())
    return (f"<table><tr><th>mistake</th><th>students</th></tr>{lines or '<tr><td colspan=2>none</td></tr>'}"
            "</table>")


def _groups(groups: list[MistakeGroup], rows: list[Row], conventions: Conventions) -> str:
    """The groups of students whose wrong answers agree, largest first, each with its parts, its cause
    (or its answer) and its students, linked."""
    if not groups:
        return "<p>None: no two students share a wrong answer.</p>"
    names = {r.submission_id: r.name for r in rows}
    lines = []
    for g in groups:
        parts = ", ".join(part_title(PARTS_BY_ID[p], conventions) for p in g.parts)
        what = (html.escape(g.cause) if g.cause else
                "<i>not named</i>" + (f": <code>{html.escape(g.answer)}</code>" if g.answer else ""))
        students = ", ".join(f"<a href='results/{html.escape(s)}.json'>{html.escape(names.get(s) or s)}</a>"
                             for s in g.students)
        lines.append(f"<tr><td class=num>{len(g.students)}</td><td>{html.escape(parts)}</td><td>{what}</td>"
                     f"<td>{students}</td></tr>")
    return ("<p>Students whose wrong answers to a part agree on every visible case (mistakes.csv lists them "
            "too).</p><table><tr><th>students</th><th>parts</th><th>likely cause, or their answer</th>"
            f"<th>who</th></tr>{''.join(lines)}</table>")


def _students(rows: list[Row]) -> str:
    head = "".join(f"<th class=sort>{html.escape(h)}</th>" for h in ["submission", "name", "status", "total",
                                                                     *[p.id for p in PARTS]])
    body = "".join(
        f"<tr><td><a href='results/{html.escape(r.submission_id)}.json'>{html.escape(r.submission_id)}</a></td>"
        f"<td>{html.escape(r.name)}</td><td>{html.escape(str(r.status))}</td>"
        f"<td class=num>{float(r.total):g}</td>"
        + "".join(f"<td class=num>{float(r.parts.get(p.id, 0.0)):g}</td>" for p in PARTS) + "</tr>"
        for r in sorted(rows, key=lambda r: (float(r.total), r.submission_id)))
    return (f"<p>Lowest total first; click a heading to sort by it.</p><div class=scroll><table id=students>"
            f"<tr>{head}</tr>{body}</table></div>")


# Sorting the students' table by a clicked heading: the page's only script, inline (no network).
_SORT_SCRIPT = """<script>
document.querySelectorAll("#students th.sort").forEach((th, col) => th.addEventListener("click", () => {
  const table = th.closest("table"), rows = Array.from(table.rows).slice(1);
  const key = r => { const t = r.cells[col].innerText; const n = parseFloat(t); return isNaN(n) ? t : n; };
  const up = th.dataset.up !== "1"; th.dataset.up = up ? "1" : "0";
  rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (up ? 1 : -1));
  rows.forEach(r => table.tBodies[0].appendChild(r));
}));
</script>"""


def _changes(comparison: Comparison | None, conventions: Conventions) -> str:
    """What-if: the submissions whose score changed against an earlier batch, biggest loss first."""
    if comparison is None:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(c.submission_id)}</td><td>{html.escape(c.name)}</td>"
        + (f"<td>{c.before:g}/{c.max_before:g}</td><td>{c.after:g}/{c.max_after:g}</td><td>{c.delta:+g} % points</td>"
           if c.max_changed else f"<td>{c.before:g}</td><td>{c.after:g}</td><td>{c.delta:+g}</td>") + "<td>"
        + html.escape(", ".join(f"{part_title(PARTS_BY_ID[pid], conventions)}: {b:g} -> {a:g}"
                                for pid, b, a in c.parts)) + "</td></tr>"
        for c in comparison.changes) or "<tr><td colspan=6>no score changes</td></tr>"
    extra = (f" {len(comparison.new)} new, {len(comparison.gone)} no longer there."
             if comparison.new or comparison.gone else "")
    return (f"<h2>Changes against {html.escape(str(comparison.earlier))}</h2>"
            f"<p>{len(comparison.changes)} of {comparison.compared} submissions change.{extra}</p>"
            "<table><tr><th>submission</th><th>name</th><th>before</th><th>now</th><th>change</th><th>parts</th></tr>"
            f"{rows}</table>")


def _histogram(scores: list[float], top: float, bins: int = 10) -> str:
    """An inline SVG bar chart of the scores in `bins` equal bins from 0 to top; every label inside it."""
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, int(bins * s / top)) if top else 0] += 1
    height, width, above = 120, 40, 16  # room above the tallest bar for its count
    peak = max(counts) or 1
    bars = []
    for i, n in enumerate(counts):
        h = height * n / peak
        low = top * i / bins
        y = above + height - h
        bars.append(f"<rect x={i * width} y={y:.1f} width={width - 4} height={h:.1f} fill='#4a7'>"
                    f"<title>{low:g}-{low + top / bins:g}: {n}</title></rect>"
                    f"<text x={i * width + 2} y={above + height + 14} font-size=10>{low:g}</text>"
                    f"<text x={i * width + 2} y={y - 3:.1f} font-size=10>{n or ''}</text>")
    return (f"<svg width={bins * width} height={above + height + 20} viewBox='0 0 {bins * width} "
            f"{above + height + 20}' role=img aria-label='score histogram'>{''.join(bars)}</svg>")
