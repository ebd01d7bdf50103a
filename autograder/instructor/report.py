"""The batch's HTML report: one self-contained page (inline CSS and SVG), no server, no scripts."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

from ..config import Config
from ..diagnosis.diagnose import describe
from ..grading.parts import PARTS, PARTS_BY_ID
from .whatif import Comparison


def write_report(path: Path, rows: list[dict], config: Config, comparison: Comparison | None = None) -> None:
    path.write_text(render_report(rows, config, comparison), encoding="utf-8")


def missing_guarantees(rows: list[dict]) -> list[str]:
    """The sandbox guarantees some submission of the batch was graded without (from each results'
    extra_data.isolation), each said once."""
    found = []
    for r in rows:
        _, marker, missing = r.get("isolation", "").partition("MISSING guarantees: ")
        found += [m.strip().rstrip(".") for m in missing.split("; ") if marker and m.strip()]
    return list(dict.fromkeys(found))


def render_report(rows: list[dict], config: Config, comparison: Comparison | None = None) -> str:
    total_max = config.total_points
    missing = missing_guarantees(rows)
    warning = ("<p style='background:#fdd;padding:.6em'><b>The sandbox was incomplete</b> for this batch: "
               + "; ".join(html.escape(m) for m in missing) + ".</p>") if missing else ""
    scores = [float(r["total"]) for r in rows]
    statuses = Counter(r["status"] for r in rows)
    mistakes = Counter(m for r in rows for ids in r.get("mistakes", {}).values() for m in ids)
    slowest = sorted(rows, key=lambda r: float(r["seconds"]), reverse=True)[:10]
    mean = sum(scores) / len(scores) if scores else 0.0
    median = sorted(scores)[len(scores) // 2] if scores else 0.0

    part_rows = []
    for part in PARTS:
        points = config.parts[part.id].points
        full = sum(1 for r in rows if float(r[f"part:{part.id}"]) >= points - 1e-9)
        rate = full / len(rows) if rows else 0.0
        part_rows.append(f"<tr><td>{html.escape(part.title)}</td><td>{full}/{len(rows)}</td>"
                         f"<td><div class=bar style='width:{rate * 200:.0f}px'></div> {rate:.0%}</td></tr>")
    mistake_rows = "".join(f"<tr><td>{html.escape(describe(m))}</td><td>{n}</td></tr>"
                           for m, n in mistakes.most_common(10)) or "<tr><td colspan=2>none</td></tr>"
    slow_rows = "".join(f"<tr><td>{html.escape(r['submission_id'])}</td><td>{html.escape(r['name'])}</td>"
                        f"<td>{float(r['seconds']):.2f} s</td><td>{html.escape(r['status'])}</td></tr>"
                        for r in slowest)
    status_text = ", ".join(f"{html.escape(s)}: {n}" for s, n in statuses.most_common())
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>Two-layer network: class report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 60em; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }} td, th {{ padding: .2em .8em; text-align: left; }}
tr:nth-child(even) {{ background: #f4f4f4; }} .bar {{ display: inline-block; height: .8em; background: #4a7; }}
</style></head><body>
<h1>Two-layer network: class report</h1>
{warning}
{_changes(comparison)}
<p>{len(rows)} submissions; mean {mean:.2f} / {total_max:g}, median {median:.2f}. Status: {status_text or "none"}.</p>
<h2>Scores</h2>
{_histogram(scores, total_max)}
<h2>Parts: submissions with full points</h2>
<table><tr><th>part</th><th>full points</th><th>rate</th></tr>{"".join(part_rows)}</table>
<h2>Most common diagnoses</h2>
<table><tr><th>mistake</th><th>submissions' parts</th></tr>{mistake_rows}</table>
<h2>Slowest submissions</h2>
<table><tr><th>submission</th><th>name</th><th>time</th><th>status</th></tr>{slow_rows}</table>
</body></html>
"""


def _changes(comparison: Comparison | None) -> str:
    """What-if: the submissions whose score changed against an earlier batch, biggest loss first."""
    if comparison is None:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(c.submission_id)}</td><td>{html.escape(c.name)}</td><td>{c.before:g}</td>"
        f"<td>{c.after:g}</td><td>{c.delta:+g}</td><td>"
        + html.escape(", ".join(f"{PARTS_BY_ID[pid].title}: {b:g} -> {a:g}" for pid, b, a in c.parts)) + "</td></tr>"
        for c in comparison.changes) or "<tr><td colspan=6>no score changes</td></tr>"
    extra = (f" {len(comparison.new)} new, {len(comparison.gone)} no longer there."
             if comparison.new or comparison.gone else "")
    return (f"<h2>Changes against {html.escape(str(comparison.earlier))}</h2>"
            f"<p>{len(comparison.changes)} of {comparison.compared} submissions change.{extra}</p>"
            "<table><tr><th>submission</th><th>name</th><th>before</th><th>now</th><th>change</th><th>parts</th></tr>"
            f"{rows}</table>")


def _histogram(scores: list[float], top: float, bins: int = 10) -> str:
    """An inline SVG bar chart of the scores in `bins` equal bins from 0 to top."""
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, int(bins * s / top)) if top else 0] += 1
    height, width = 120, 40
    peak = max(counts) or 1
    bars = []
    for i, n in enumerate(counts):
        h = height * n / peak
        low = top * i / bins
        bars.append(f"<rect x={i * width} y={height - h:.1f} width={width - 4} height={h:.1f} fill='#4a7'>"
                    f"<title>{low:g}-{low + top / bins:g}: {n}</title></rect>"
                    f"<text x={i * width + 2} y={height + 14} font-size=10>{low:g}</text>"
                    f"<text x={i * width + 2} y={height - h - 3:.1f} font-size=10>{n or ''}</text>")
    return f"<svg width={bins * width} height={height + 20} role=img aria-label='score histogram'>{''.join(bars)}</svg>"
