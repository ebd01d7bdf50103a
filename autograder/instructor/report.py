"""The batch's HTML report: one self-contained page (inline CSS, SVG and a small sorting script), no server.

For a busy instructor: the parts nearly everyone loses points on, who needs attention (each linked
to their results page, student_page.py), then the score histogram, the parts' success rates, the
wrong answers several students share (groups.py), the named mistakes with how many students made
each, a sortable table of every student with their points per part (readable without scrolling
sideways: names stay in sight, part headings are short with the full title on hover) and, for staff
only, the integrity signals (integrity.py); the footer says which grader and which fingerprint of
cases, tolerances and conventions produced it.
"""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime
from pathlib import Path

from .. import __version__
from ..config import Config
from ..diagnosis.diagnose import describe
from ..grading.grade import Status
from ..grading.results import atomic_write_text
from .groups import MistakeGroup
from .insight import Insight
from .items import PartRate, part_rates
from .rows import Row
from .whatif import Comparison


def write_report(path: Path, rows: list[Row], config: Config, comparison: Comparison | None = None,
                 groups: list[MistakeGroup] = (), insight: Insight | None = None) -> None:
    """The class's report, written atomically, readable by its owner alone (it names every student)."""
    atomic_write_text(path, render_report(rows, config, comparison, groups, insight), mode=0o600)


def page_link(submission_id: str, text: str) -> str:
    """A link to the submission's results page (students/<id>.html), `text` escaped."""
    return f"<a href='students/{html.escape(submission_id)}.html'>{html.escape(text)}</a>"


def missing_guarantees(rows: list[Row]) -> list[str]:
    """The sandbox guarantees some submission of the batch was graded without (from each results'
    extra_data.missing_guarantees), each said once."""
    return list(dict.fromkeys(m for r in rows for m in r.missing_guarantees))


def render_report(rows: list[Row], config: Config, comparison: Comparison | None = None,
                  groups: list[MistakeGroup] = (), insight: Insight | None = None) -> str:
    """The page: what nearly everyone fails and who needs attention first, then the scores, the parts,
    the mistakes several students share, the named mistakes, every student, and for staff the
    integrity signals."""
    insight = insight or Insight()
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
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }} p, ul {{ max-width: 70em; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }} td, th {{ padding: .2em .8em; text-align: left; }}
tr:nth-child(even) td {{ background: #f4f4f4; }} .bar {{ display: inline-block; height: .8em; background: #4a7; }}
.warn {{ background: #fdd; padding: .6em; }} th.sort {{ cursor: pointer; }} td.num {{ text-align: right; }}
.scroll {{ overflow-x: auto; }} #students {{ font-size: .92em; }} #students td, #students th {{ padding: .2em .35em; }}
#students td {{ white-space: nowrap; }}
#students th {{ position: sticky; top: 0; background: #fff; vertical-align: bottom; font-weight: 600; }}
#students th small {{ display: block; color: #777; font-weight: normal; }}
#students td:first-child, #students th:first-child {{ position: sticky; left: 0; background: #fff; z-index: 1; }}
#students td:first-child a {{ display: inline-block; max-width: 12em; overflow: hidden; text-overflow: ellipsis;
  vertical-align: bottom; }}
#students tr:nth-child(even) td:first-child {{ background: #f4f4f4; }} td.lost {{ color: #b22; font-weight: 600; }}
.staff {{ border: 2px dashed #999; padding: 0 1em; }}
footer {{ color: #666; font-size: .9em; margin-top: 3em; }}
</style></head><body>
<h1>Two-layer network: class report</h1>
{warning}
{_hard(insight.hard, config)}
<p>{len(rows)} submissions; mean {mean:.2f} / {total_max:g}, median {median:.2f}. Status: {status_text or "none"}.</p>
{_attention(rows, median)}
{_changes(comparison, config)}
<h2>Scores</h2>
{_histogram(scores, total_max)}
<h2>Parts: submissions with full points</h2>
{_parts(part_rates(rows, config), config)}
<h2>Mistakes several students share</h2>
{_groups(groups, rows, config)}
<h2>Named mistakes: how many students made each</h2>
{_mistakes(rows)}
<h2>Every student</h2>
{_students(rows, config)}
{_staff(insight, rows)}
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
    items = "".join(f"<li>{page_link(r.submission_id, r.submission_id)} {html.escape(r.name)}: "
                    f"{html.escape(why)}; {float(r.total):g}/{float(r.max):g}"
                    + "".join(f"<br><small>{html.escape(part)}: {html.escape(failure)}</small>"
                              for part, failure in list(r.failures.items())[:3]) + "</li>" for r, why in found)
    return ("<h2>Needs attention</h2>" + (f"<ul>{items}</ul>" if items else "<p>Nobody: every submission was "
                                                                          "graded normally.</p>"))


def _parts(rates: list[PartRate], config: Config) -> str:
    lines = "".join(f"<tr><td>{html.escape(config.homework.part_title(r.part, config.conventions))}</td>"
                    f"<td>{r.full}/{r.submissions}</td>"
                    f"<td><div class=bar style='width:{r.rate * 200:.0f}px'></div> {r.rate:.0%}</td></tr>"
                    for r in rates)
    return f"<table><tr><th>part</th><th>full points</th><th>rate</th></tr>{lines}</table>"


def _hard(hard: list[PartRate], config: Config) -> str:
    """The parts nearly everyone loses points on, flagged first: a wrong test or unclear instructions
    look like this."""
    if not hard:
        return ""
    items = "".join(f"<li>{html.escape(config.homework.part_title(r.part, config.conventions))}: {r.failing_graded} of "
                    f"{r.graded} submissions graded normally lose points on it</li>" for r in hard)
    return (f"<div class=warn><b>Nearly everyone loses points on {len(hard)} part{'s' * (len(hard) > 1)}</b>: "
            f"worth checking the test and the instructions before the students.<ul>{items}</ul></div>")


def _mistakes(rows: list[Row]) -> str:
    students = Counter(m for r in rows for m in {m for ids in r.mistakes.values() for m in ids})
    lines = "".join(f"<tr><td>{html.escape(describe(m))}</td><td>{n}</td></tr>" for m, n in students.most_common())
    return (f"<table><tr><th>mistake</th><th>students</th></tr>{lines or '<tr><td colspan=2>none</td></tr>'}"
            "</table>")


def _groups(groups: list[MistakeGroup], rows: list[Row], config: Config) -> str:
    """The groups of students whose wrong answers agree, largest first, each with its parts, its cause
    (or its answer) and its students, linked."""
    if not groups:
        return "<p>None: no two students share a wrong answer.</p>"
    names = {r.submission_id: r.name for r in rows}
    lines = []
    for g in groups:
        parts = ", ".join(config.homework.part_title(p, config.conventions) for p in g.parts)
        what = (html.escape(g.cause) if g.cause else
                "<i>not named</i>" + (f": <code>{html.escape(g.answer)}</code>" if g.answer else ""))
        students = ", ".join(page_link(s, names.get(s) or s) for s in g.students)
        lines.append(f"<tr><td class=num>{len(g.students)}</td><td>{html.escape(parts)}</td><td>{what}</td>"
                     f"<td>{students}</td></tr>")
    return ("<p>Students whose wrong answers to a part agree on every visible case (mistakes.csv lists them "
            "too).</p><table><tr><th>students</th><th>parts</th><th>likely cause, or their answer</th>"
            f"<th>who</th></tr>{''.join(lines)}</table>")


def _students(rows: list[Row], config: Config) -> str:
    """Every student, lowest total first: the name (or id) linked to their page and kept in sight, the
    status, the total, each part's points (short headings, the full title on hover; points lost in red)."""
    heads = ["<th class=sort>student</th>", "<th class=sort>status</th>", "<th class=sort>total</th>"]
    for part in config.homework.parts:
        group, _, label = part.id.rpartition(".")
        title = html.escape(config.homework.part_title(part.id, config.conventions))
        heads.append(f"<th class=sort title='{title}'>" + (f"<small>{html.escape(group)}</small>" if group else "")
                     + html.escape(label).replace("_", "_<wbr>") + "</th>")

    def points(r: Row, pid: str) -> str:
        got = float(r.parts.get(pid, 0.0))
        lost = got < config.parts[pid].points - 1e-9
        return f"<td class='num{' lost' * lost}' title='{got:g}'>{got:.3g}</td>"

    body = "".join(
        f"<tr><td title='{html.escape(r.name + ' ' * bool(r.name) + r.submission_id)}'>"
        f"{page_link(r.submission_id, r.name or r.submission_id)}</td>"
        f"<td>{html.escape(str(r.status))}</td><td class=num title='{float(r.total):g}'>{float(r.total):.4g}</td>"
        + "".join(points(r, p.id) for p in config.homework.parts) + "</tr>"
        for r in sorted(rows, key=lambda r: (float(r.total), r.submission_id)))
    return ("<p>Lowest total first; click a heading to sort by it, point at one for the part's title; points "
            f"lost are in red.</p><div class=scroll><table id=students><tr>{''.join(heads)}</tr>{body}</table></div>")


def _staff(insight: Insight, rows: list[Row]) -> str:
    """For staff only (never in a student's results or page): rare shared wrong answers and identical
    files, worded as signals to look at."""
    names = {r.submission_id: r.name for r in rows}

    def who(ids) -> str:
        return ", ".join(page_link(s, names.get(s) or s) for s in ids)

    rare = "".join(f"<li>{who(a.group.students)}: the same wrong answer to {html.escape(', '.join(a.group.parts))}, "
                   f"given by no one else ({len(a.group.students)} of {a.graded} graded; {a.wrong} got "
                   "this part wrong in some way), and not a mistake the grader knows"
                   + (f": <code>{html.escape(a.group.answer)}</code>" if a.group.answer else "") + "</li>"
                   for a in insight.rare)
    same = "".join(f"<li>{who(s.students)}: the same file once comments and spacing are set aside "
                   f"({s.lines} lines of code)</li>" for s in insight.same)
    body = ((f"<h3>Rare wrong answers shared</h3><ul>{rare}</ul>" if rare else "")
            + (f"<h3>Identical files</h3><ul>{same}</ul>" if same else "")) or "<p>Nothing to look at.</p>"
    return ("<section class=staff><h2>For staff only: worth a look</h2><p>Signals, not findings: students who "
            "worked together as allowed, or who found the same slip by themselves, look the same here. Nothing "
            f"in this section reaches a student's results.</p>{body}</section>")


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


def _changes(comparison: Comparison | None, config: Config) -> str:
    """What-if: the submissions whose score changed against an earlier batch, biggest loss first."""
    if comparison is None:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(c.submission_id)}</td><td>{html.escape(c.name)}</td>"
        + (f"<td>{c.before:g}/{c.max_before:g}</td><td>{c.after:g}/{c.max_after:g}</td><td>{c.delta:+g} % points</td>"
           if c.max_changed else f"<td>{c.before:g}</td><td>{c.after:g}</td><td>{c.delta:+g}</td>") + "<td>"
        + html.escape(", ".join(f"{config.homework.part_title(pid, config.conventions)}: {b:g} -> {a:g}"
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
