"""What a class got wrong, end to end: a generated class of 60 with planted mistakes, graded once by
`batch`, read through mistakes.csv, grades.csv, the terminal summary and the report (in a real
headless browser at 1400 px)."""

from __future__ import annotations

import csv
import html
import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EXAMPLES, REPO

CORRECT = (EXAMPLES / "correct" / "two_layer_net.py").read_text()
# independently written correct solutions: each line written one of several right ways (36 files)
WAYS = [["return W @ x + b", "return np.dot(W, x) + b", "return b + W @ x"],
        ["return np.maximum(z, 0)", "return z * (z > 0)", "return np.where(z > 0, z, 0.0)"],
        ["return np.sum((y_hat - y) ** 2)", "return float(np.dot(y_hat - y, y_hat - y))"],
        ["np.eye(len(z3))", "np.eye(z3.shape[0])"]]
VARIANTS = list(itertools.product(*(range(len(w)) for w in WAYS)))
MISTAKES = {"mf2": ("return 2 * (y_hat - y)", "return (y_hat - y)"),  # the catalogue's missing factor 2
            "transposed": ('"W1": np.outer(dl_dz1, x)', '"W1": np.outer(x, dl_dz1)')}  # and its transposed


def solution(variant: tuple[int, ...], relu_plus: str = "", mistake: str = "") -> str:
    text = CORRECT
    for ways, way in zip(WAYS, variant):
        text = text.replace(ways[0], ways[way] + (relu_plus if ways is WAYS[1] else ""))
    if mistake:
        text = text.replace(*MISTAKES[mistake])
    return text


def planted_class() -> dict[str, str]:
    """submission id -> its file: 8 with the missing factor 2 and 5 with dl/dW1 transposed (named by the
    catalogue), 6 sharing an unnamed mistake (relu + 0.125), a rare pair sharing an odd one (relu + 0.37),
    4 lone mistakes (one the catalogue names), a pair of identical files (comments and spacing apart) and
    33 correct solutions (two of them the examples in plain Python and in float32), no two of a kind alike."""
    files = {f"mf2_{i}": solution(VARIANTS[i], mistake="mf2") for i in range(8)}
    files |= {f"transposed_{i}": solution(VARIANTS[i + 10], mistake="transposed") for i in range(5)}
    files |= {f"shift_{i}": solution(VARIANTS[i + 20], " + 0.125") for i in range(6)}
    files |= {f"rare_{i}": solution(VARIANTS[i * 7 + 3], " + 0.37") for i in range(2)}
    files |= {f"lone_{i}": solution(VARIANTS[i + 5], f" + {0.5 + i}") for i in range(4)}
    files |= {"twin_a": solution(VARIANTS[0]),
              "twin_b": "# all my own work\n\n" + solution(VARIANTS[0]).replace("\n\n", "\n\n\n").replace("  #", "#")}
    files |= {f"ok_{i:02d}": solution(VARIANTS[i + 1]) for i in range(31)}
    # and the examples' own: correct in plain Python and in float32 (in no group), a lone named mistake
    files |= {f"ok_{i}": (EXAMPLES / example / "two_layer_net.py").read_text()
              for i, example in ((31, "plain_python"), (32, "float32"))}
    files["lone_3"] = (EXAMPLES / "sign_error" / "two_layer_net.py").read_text()
    assert len(files) == 60
    return files


NAMES = {"ok_00": "Zoë Ångström-Øverli", "ok_01": "Maximilian Alexander Konstantin von Hohenberg-Wittelsbach",
         "ok_02": "<b>Bobby</b> =HYPERLINK(\"x\")"}  # accents, a very long name, markup and a formula


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class as Gradescope's export (names from submission_metadata.yml), graded once by `batch`."""
    root = tmp_path_factory.mktemp("class") / "export"
    lines = []
    for sid, text in planted_class().items():
        (root / f"submission_{sid}").mkdir(parents=True)
        (root / f"submission_{sid}" / "two_layer_net.py").write_text(text)
        name = NAMES.get(sid, f"Student {sid.replace('_', ' ').title()}")
        lines += [f"submission_{sid}:", "  :submitters:", f"  - :name: {json.dumps(name)}", f"    :sid: 'S-{sid}'"]
    (root / "submission_metadata.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = root.parent / "out"
    done = subprocess.run([sys.executable, "-m", "autograder", "batch", str(root), "--out", str(out), "-j", "2"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_every_planted_group_is_found_with_its_size_cause_and_students(graded_class):
    out, said = graded_class
    groups = {g["submission_ids"]: g for g in read_csv(out / "mistakes.csv")}
    ids = {prefix: "; ".join(sorted(s for s in planted_class() if s.startswith(prefix)))
           for prefix in ("mf2", "transposed", "shift", "rare")}
    assert set(groups) == set(ids.values())  # exactly the planted ones: no lone mistake, no correct solution
    mf2, transposed, shift, rare = (groups[ids[p]] for p in ("mf2", "transposed", "shift", "rare"))
    assert (mf2["students"], mf2["parts"].split()[0]) == ("8", "mse_grad")
    assert mf2["cause"] == "missing factor 2 in dl/dy_hat"
    assert (transposed["students"], transposed["parts"], transposed["cause"]) == ("5", "grad.W1", "transposed")
    # an unnamed mistake and what it carried downstream are one group, described by its answer
    for group, size, added in ((shift, "6", "0.125]"), (rare, "2", "0.37]")):
        assert group["students"] == size and group["cause"] == "" and group["parts"].startswith("relu forward.z2")
        assert group["answer"].startswith("on small random inputs") and added in group["answer"].split(" where ")[0]
    assert "Wrong answers several students share (3 largest of 4" in said and "8 students, mse_grad" in said
    # grades.csv: a mistakes column, and names as the export gave them (text, accents intact)
    grades = {r["submission_id"]: r for r in read_csv(out / "grades.csv")}
    assert grades["mf2_0"]["mistakes"] == "mse_grad, grad.W1, grad.b1, grad.W2, grad.b2: missing factor 2 in dl/dy_hat"
    assert grades["shift_0"]["mistakes"].startswith("relu: shared wrong answer, group 2; forward.z2, forward.z3")
    assert grades["lone_0"]["mistakes"].startswith("forward.z2, forward.z3, forward.y_hat, grad.W1")
    assert grades["ok_05"]["mistakes"] == ""
    assert grades["ok_00"]["name"] == NAMES["ok_00"] and grades["ok_02"]["name"] == NAMES["ok_02"]  # (no formula)


@pytest.mark.slow
def test_the_rare_pair_and_the_identical_files_are_for_staff_alone_and_nothing_else_is(graded_class):
    out, said = graded_class
    report = (out / "report.html").read_text()
    staff = report[report.index("For staff only"):report.index("</section>", report.index("For staff only"))]
    flagged = [re.findall(r"students/([^']+)\.html", item) for item in staff.split("<li>")[1:]]
    assert flagged == [["rare_0", "rare_1"], ["twin_a", "twin_b"]]  # no correct solution, no common mistake
    assert "2 of 60 graded" in staff and "not a mistake the grader knows" in staff and "accusation" not in staff
    for sid in ("rare_0", "twin_a"):  # never where a student could read it
        for path in (out / "results" / f"{sid}.json", out / "students" / f"{sid}.html"):
            text = path.read_text()
            assert "twin_b" not in text and "rare_1" not in text and "For staff only" not in text
    assert "For staff: 2 signals worth a look (the report's last section)" in said


BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)),
               None)
# Run in the page by the browser test only: what is drawn outside the histogram, which table columns lie
# outside the window, whether the table needs scrolling sideways, and whether sorting works.
PAGE_CHECK = """<script>
const svg = document.querySelector("svg"), box = svg.getBoundingClientRect(), clipped = [];
svg.querySelectorAll("text, rect").forEach(e => {
  const r = e.getBoundingClientRect();
  if (r.width && (r.left < box.left - .5 || r.right > box.right + .5 || r.top < box.top - .5 ||
                  r.bottom > box.bottom + .5)) clipped.push(e.textContent || e.tagName);
});
const table = document.querySelector("#students"), heads = Array.from(table.rows[0].cells);
const outside = heads.filter(th => th.getBoundingClientRect().right > window.innerWidth).map(th => th.innerText);
const widths = heads.map(th => Math.round(th.getBoundingClientRect().width));
const scroller = table.closest(".scroll");
const total = heads[2];
total.click(); total.click();  // ascending, then descending
document.body.setAttribute("data-check", JSON.stringify({clipped, outside, widths, heads: heads.map(th => th.innerText),
  first: table.rows[1].cells[2].innerText, scrolls: scroller.scrollWidth > scroller.clientWidth,
  wide: document.documentElement.scrollWidth > window.innerWidth}));
</script>"""


def in_browser(page: Path, width: int) -> dict:
    """What PAGE_CHECK found in the page, loaded in headless Chromium at `width` px."""
    done = subprocess.run([BROWSER, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={page.parent / 'browser-profile'}", f"--window-size={width},900",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'data-check="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.skipif(BROWSER is None, reason="no headless browser (./dev test installs chromium where it can)")
@pytest.mark.slow
def test_the_report_reads_at_1400_px_in_a_real_browser_and_every_link_opens_a_page(graded_class, tmp_path):
    out, _ = graded_class
    report = (out / "report.html").read_text()
    page = out / "checked.html"
    page.write_text(report.replace("</body>", PAGE_CHECK + "</body>"))
    try:
        check = in_browser(page, 1400)
    finally:
        page.unlink()
        shutil.rmtree(out / "browser-profile", ignore_errors=True)
    assert check["clipped"] == [] and not check["wide"] and not check["scrolls"], json.dumps(check)
    assert check["outside"] == [] and len(check["heads"]) == 17  # names, total, every part: all in sight
    assert check["first"] == "20"  # sorted by total, highest first after the second click
    links = re.findall(r"href='([^']+)'", report)
    assert len(links) > 60 and all(re.fullmatch(r"students/[\w.@-]+\.html", link) for link in links)
    for link in set(links):  # every link opens a readable page, not raw JSON
        assert (out / link).read_text().startswith("<!doctype html>")
    assert html.escape(NAMES["ok_02"]) in report and NAMES["ok_02"] not in report


@pytest.mark.slow
def test_a_part_nearly_everyone_fails_is_flagged_first_in_the_terminal_and_the_report(tmp_path):
    """Five submissions all missing the factor 2 (a test or an instruction worth checking, seen from the
    class): the batch's summary and the top of the report say which parts."""
    folder = tmp_path / "class"
    for i in range(5):
        (folder / f"s{i}").mkdir(parents=True)
        (folder / f"s{i}" / "two_layer_net.py").write_text(solution(VARIANTS[i], mistake="mf2"))
    done = subprocess.run([sys.executable, "-m", "autograder", "batch", str(folder), "--out", str(tmp_path / "out")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    flagged = [line for line in done.stdout.splitlines() if line.startswith("Nearly everyone loses points on ")]
    assert [line.split(":")[0].rsplit(" ", 1)[1] for line in flagged] == ["mse_grad", "grad.W1", "grad.b1", "grad.W2",
                                                                         "grad.b2"]
    assert all("5 of 5 graded normally (check the test and the instructions)" in line for line in flagged)
    report = (tmp_path / "out" / "report.html").read_text()
    top = report[:report.index("<h2>Needs attention</h2>")]
    assert "Nearly everyone loses points on 5 parts" in top and "Loss gradient dl/dy_hat" in top
