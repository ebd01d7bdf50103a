"""Command line: `python -m autograder grade PATH` and the Gradescope entry `python -m autograder gradescope`.

Exit status: 0 when grading ran (whatever the score), 1 when it could not (bad config, grader
failure), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from . import __version__
from .config import PLACEHOLDER_SECRET, ConfigError, load_config
from .escape import one_line, terminal
from .grading.grade import Grader, GradingReport, grade_submission, runtime_not_installed
from .grading.limits import OVER_LIMIT, attempts, attempts_line, within_limits
from .grading.results import failure_results, isolation_text, report_to_results, write_results
from .grading.rubric import SHOWN_WHEN, part_summary
from .sandbox.host import SandboxRefused


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command's own parser, with its own usage
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "gradescope":
        return _gradescope(args)  # handles every error itself: it must always leave a results.json
    command = {"batch": _batch, "build-zip": _build_zip, "fingerprint": _fingerprint, "grade": _grade,
               "handout": _handout}[args.command]
    stopped = _stop_on_termination()
    try:
        status = command(args)
        sys.stdout.flush()  # here, not at exit, where a closed pipe could only be complained about
        # an interrupted batch says so and returns 130 (Ctrl-C); it may have been SIGTERM or SIGHUP
        return 128 + stopped["signal"] if status == 128 + signal.SIGINT and "signal" in stopped else status
    except (ConfigError, CommandError, SandboxRefused) as e:
        print(f"error: {terminal(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP outside a batch: everything has unwound
        print("interrupted", file=sys.stderr)
        return 128 + stopped.get("signal", signal.SIGINT)
    except BrokenPipeError:  # `grade ... | head`: the reader has what it wanted, as with any Unix tool
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 128 + signal.SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    """The command line; parser.commands maps each command to its own parser."""
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Autograder for the Two-Layer Neural Network homework.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    grade = sub.add_parser("grade", help="grade one submission (a file or a folder) and print a table",
                           description="Grade a submission and print its score by part.")
    grade.add_argument("path", type=Path, help="two_layer_net.py, or a folder holding it")
    grade.add_argument("--results", type=Path, metavar="FILE", help="also write Gradescope's results.json here")
    grade.add_argument("--config", type=Path, metavar="FILE", help="grading config (default: grading.toml)")
    grade.add_argument("--submission-id", default=None,
                       help="id the hidden cases' seeds derive from (default: the metadata's id, else local)")
    grade.add_argument("--metadata", type=Path, metavar="FILE",
                       help="a submission_metadata.json (its previous submissions): apply [submissions]' limit as "
                            "Gradescope would")
    grade.add_argument("--verbose", "-v", action="store_true", help="print every test's output too")
    grade.add_argument("--unsafe-run-as-grader", action="store_true", help=UNSAFE_HELP)
    grade.add_argument("--staff", action="store_true",
                       help="also print every hidden case as graded for this submission id: inputs, expected and "
                            "received values (with --results, into a staff copy FILE.staff.json, never into FILE)")

    gs = sub.add_parser("gradescope", help="what run_autograder runs: grade $AUTOGRADER_ROOT/submission",
                        description="Grade ROOT/submission, write ROOT/results/results.json. Never fails "
                                    "without writing a valid results.json.")
    gs.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")),
                    help="Gradescope's root: submission/ in, results/results.json out (default: $AUTOGRADER_ROOT "
                         "or /autograder)")
    gs.add_argument("--config", type=Path, metavar="FILE", help="grading config (default: grading.toml)")

    handout = sub.add_parser("handout", help="write the student handout (template, selfcheck.py, README) and its zip",
                             description="Write the student handout folder OUT and OUT.zip.")
    handout.add_argument("--out", type=Path, required=True, metavar="DIR",
                         help="the folder to write (replaced if it exists; its parent must exist); DIR.zip beside it")
    handout.add_argument("--config", type=Path, metavar="FILE", help="grading config (default: grading.toml)")

    zip_ = sub.add_parser("build-zip", help="build the zip to upload to Gradescope (smoke-tested first)",
                          description="Write the Gradescope upload zip: setup.sh and run_autograder at its root and "
                                      "what grading needs. It is unpacked and smoke-tested first: the reference "
                                      "solution must score full marks and the template 0, or no zip is written.")
    zip_.add_argument("--out", type=Path, default=Path("autograder.zip"), metavar="FILE",
                      help="where to write the zip (its folder must exist; default: autograder.zip in the current "
                           "folder)")
    zip_.add_argument("--config", type=Path, metavar="FILE", help="package this config as grading.toml")
    zip_.add_argument("--allow-default-secret", action="store_true",
                      help="package the placeholder secret published with the project (hidden cases then "
                           "are no secret: for trying the zip out only)")

    batch = sub.add_parser("batch", help="grade a whole class: a folder, a zip, or Gradescope's export",
                           description="Grade every submission under INPUT (a folder of files or folders, a zip of "
                                       "one, or Gradescope's Export Submissions) into DIR: results/<id>.json, "
                                       "grades.csv and report.html. A re-run grades only what changed.")
    batch.add_argument("input", type=Path, metavar="INPUT",
                       help="a folder of submissions, a zip of one, or Gradescope's export (folder or zip)")
    batch.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="where to write results/, grades.csv and report.html (its parent must exist)")
    batch.add_argument("-j", "--jobs", type=_at_least_one, default=None,
                       help="submissions graded at once, 1 or more (default: all cores)")
    batch.add_argument("--config", type=Path, metavar="FILE", help="grading config (default: grading.toml)")
    batch.add_argument("--unsafe-run-as-grader", action="store_true", help=UNSAFE_HELP)
    batch.add_argument("--compare", type=Path, metavar="OLD",
                       help="an earlier batch's --out folder: list whose scores change against it (what-if)")

    stamp = sub.add_parser("fingerprint", help="print the fingerprint of the cases, tolerances and conventions; "
                                               "tell whether a handout, zip or results.json carries it",
                           description="Print the fingerprint of what the config grades against (the cases, "
                                       "tolerances and conventions). Given handouts (folder or zip), selfcheck.py "
                                       "files, upload zips or results.json files, say for each whether it carries "
                                       "the same one: a handout of another is out of date (exit 1).")
    stamp.add_argument("paths", type=Path, nargs="*", metavar="PATH",
                       help="a handout (folder or zip), a selfcheck.py, an upload zip or a results.json")
    stamp.add_argument("--config", type=Path, metavar="FILE", help="grading config (default: grading.toml)")

    parser.commands = sub.choices
    return parser


UNSAFE_ENV = "AUTOGRADER_UNSAFE_RUN_AS_GRADER"  # "1": the gradescope command grades whatever isolates it
UNSAFE_HELP = ("grade even where student code would run with your own privileges (no sandbox user, no "
               "bubblewrap): it could read the secret, the reference and other files; refused without this")


def _config(args):
    """The config of the command, with --unsafe-run-as-grader applied."""
    config = load_config(args.config)
    return dataclasses.replace(config, unsafe_run_as_grader=True) if getattr(args, "unsafe_run_as_grader", False) \
        else config


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _writable_out(path: Path, what: str) -> Path:
    """--out as given, once its parent folder exists: a mistyped path never creates folders."""
    parent = path.absolute().parent
    if not parent.is_dir():
        raise CommandError(f"--out {path}: the folder {parent} does not exist (create it first, or choose another "
                           f"place for the {what})")
    return path


def _stop_on_termination() -> dict:
    """SIGTERM (timeout, a scheduler) and SIGHUP (a closed terminal) stop a command as Ctrl-C does:
    raised as KeyboardInterrupt, so every grader, worker and scratch folder is cleaned up on the way
    out. The returned dict says which signal it was."""
    stopped: dict = {}

    def handler(signum, frame):
        stopped.setdefault("signal", signum)
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)
    return stopped


class CommandError(Exception):
    """A command cannot do what was asked; its message says why (exit status 1)."""


def _batch(args) -> int:
    from .instructor.batch import run_batch

    config = _config(args)
    _writable_out(args.out, "results")
    try:
        summary = run_batch(args.input, args.out, config, args.jobs, args.config, progress=sys.stderr.isatty(),
                            compare=args.compare)
    except (ValueError, OSError) as e:
        raise CommandError(e) from None
    if summary.interrupted:
        print(f"interrupted: {summary.graded} graded this time; run the same command again to finish "
              "(what was graded is kept)", file=sys.stderr)
        return 128 + signal.SIGINT
    scores = [float(r.total) for r in summary.rows]
    mean = sum(scores) / len(scores) if scores else 0.0
    statuses = ", ".join(f"{s}: {sum(r.status == s for r in summary.rows)}"
                         for s in sorted({str(r.status) for r in summary.rows}))
    print(f"{len(summary.rows)} submissions ({summary.graded} graded, {summary.cached} unchanged since the last run); "
          f"mean {mean:.2f}/{config.total_points:g}; {statuses}")
    if summary.comparison is not None:
        from .instructor.whatif import summary_text

        print(terminal(summary_text(summary.comparison)))
    if summary.groups:
        from .instructor.groups import group_words

        shown = summary.groups[:3]
        print(f"Wrong answers several students share ({len(shown)} largest of {len(summary.groups)}; "
              "mistakes.csv lists every group and its students):")
        for group in shown:
            print("  " + terminal(group_words(group)))
    for hard in summary.insight.hard:
        print(f"Nearly everyone loses points on {hard.part}: {hard.failing_graded} of {hard.graded} graded normally "
              "(check the test and the instructions)")
    if summary.insight.for_staff:
        print(f"For staff: {summary.insight.for_staff} signal{'s' * (summary.insight.for_staff > 1)} worth a look "
              "(the report's last section)")
    print(f"wrote {args.out}/grades.csv, {args.out}/mistakes.csv, {args.out}/report.html (with a page per "
          f"submission in {args.out}/students/) and {args.out}/results/")
    return 0


def _fingerprint(args) -> int:
    from .grading.fingerprint import fingerprint, stamped

    current = fingerprint(load_config(args.config))
    print(current)
    stale = 0
    for path in args.paths:
        found = stamped(path) if path.exists() else None
        if found == current:
            print(f"{path}: {found}, the same")
        else:
            stale += 1
            print(f"{path}: " + (f"{found}, out of date: rebuild it from this config" if found else
                                 "no fingerprint found (not a handout, upload zip or results.json?)"))
    return 1 if stale else 0


def _build_zip(args) -> int:
    from .instructor.bundle import SmokeTestFailed, build_zip

    try:
        config = load_config(args.config)  # a bad config fails here, with its message
        if config.secret == PLACEHOLDER_SECRET and not args.allow_default_secret:
            raise CommandError(
                f"{args.config or 'grading.toml'}: [grading] secret is the placeholder published with this project "
                f"({PLACEHOLDER_SECRET!r}): anyone with the project can compute every hidden case. Set one of "
                "your own, e.g. from: python3 -c 'import secrets; print(secrets.token_hex(16))' "
                "(or pass --allow-default-secret to try the zip out)\nno zip was written")
        _writable_out(args.out, "zip")
        print("building and smoke-testing the zip ...", file=sys.stderr)
        build_zip(args.out, args.config)
    except (ConfigError, SmokeTestFailed) as e:
        raise CommandError(f"{e}\nno zip was written") from None
    print(f"wrote {args.out.absolute()}: upload it in Gradescope's Configure Autograder page (Ubuntu 22.04 base "
          "image)")
    return 0


def _handout(args) -> int:
    config = load_config(args.config)
    homework = config.homework
    out = _writable_out(args.out, "handout")
    if homework.build_handout is None:  # its template alone (replacing the folder, as a whole handout does)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        for name, text in homework.handout_files(config).items():
            (out / name).write_text(text, encoding="utf-8")
        print(f"warning: {homework.name} has no self-check or README for students yet: only its template "
              "was written (docs/homeworks.md)", file=sys.stderr)
        print(f"wrote {out}/ ({', '.join(sorted(p.name for p in out.iterdir()))})")
        return 0
    archive = homework.build_handout(out, config)
    written = ", ".join(sorted(path.name for path in Path(args.out).iterdir()))
    print(f"wrote {args.out}/ ({written}) and {archive}")
    return 0


def _grade(args) -> int:
    config = _config(args)
    if not args.path.exists():
        raise CommandError(f"{args.path}: no such file or folder")
    metadata = None
    if args.metadata is not None:
        if not args.metadata.is_file():
            raise CommandError(f"--metadata {args.metadata}: no such file")
        metadata = _read_metadata(args.metadata)
    submission_id = args.submission_id or str((metadata or {}).get("id", "local"))
    found = attempts(config.submissions, metadata) if metadata is not None else None
    reports = []

    def graded() -> dict:
        with Grader(config, [args.config] if args.config else [], diagnoser=config.homework.diagnoser) as grader:
            if grader.isolation.missing:  # said before any student code runs, not after
                print(f"warning: the sandbox is incomplete. {isolation_text(grader.isolation)}", file=sys.stderr)
            if gap := runtime_not_installed(config):
                print(f"warning: {gap}", file=sys.stderr)
            reports.append(grader.grade(args.path, submission_id, keep_calls=args.staff))
        return report_to_results(reports[0])

    # (over the limit, nothing is graded)
    results = within_limits(found, graded, lambda: config.homework.visible(config.conventions))
    if args.results:
        write_results(args.results, results)
    if found is not None:
        print(terminal(attempts_line(found)))
    if not reports:
        return 0
    report = reports[0]
    print(render_table(report, verbose=args.verbose, color=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
    if args.staff:
        from .instructor.staff import hidden_cases_in_full, staff_results, staff_text

        hidden = hidden_cases_in_full(report, config)
        print(terminal(staff_text(hidden)))
        if args.results:
            copy = args.results.with_name(args.results.stem + ".staff.json")
            write_results(copy, staff_results(report_to_results(report), hidden))
            print(f"\nwrote {args.results} (what the student sees) and {copy} (the staff copy)")
    if report.log:
        print(terminal(report.log), file=sys.stderr)
    return 0


def _gradescope(args) -> int:
    """Grade as Gradescope does. Whatever happens, a valid results.json is left behind."""
    started = time.monotonic()
    results_path = args.root / "results" / "results.json"
    try:
        config = load_config(args.config)
        if os.environ.get(UNSAFE_ENV) == "1":  # build-zip's smoke test: it grades only the reference and template
            config = dataclasses.replace(config, unsafe_run_as_grader=True)
        metadata = _read_metadata(args.root / "submission_metadata.json")

        def graded() -> dict:
            report = grade_submission(args.root / "submission", config, str(metadata.get("id", "unknown")),
                                      [args.config] if args.config else [], diagnoser=config.homework.diagnoser)
            if report.log:
                print(terminal(report.log))
            print(f"graded {one_line(report.graded_file) or '(nothing)'}: {report.score:g}/{report.max_score:g} "
                  f"in {report.execution_time:.2f} s ({report.status})")
            print(f"isolation: {isolation_text(report.isolation)}")  # this log is shown to instructors only
            return report_to_results(report)

        results = within_limits(attempts(config.submissions, metadata), graded,
                                lambda: config.homework.visible(config.conventions))
        if results.get("extra_data", {}).get("status") == OVER_LIMIT:
            print(f"over the submission limit: not graded, no student code run; score kept: {results['score']:g}")
    except BaseException as e:  # the grader itself failed: say so, score 0, and keep the trace for staff
        traceback.print_exc()
        reason = str(e) if isinstance(e, (ConfigError, SandboxRefused)) else f"internal error ({type(e).__name__})"
        results = failure_results(reason, time.monotonic() - started)
        write_results(results_path, results)
        return 1
    write_results(results_path, results)
    return 0


def _read_metadata(path: Path) -> dict:
    """Gradescope's submission_metadata.json, read tolerantly: its layout may change."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _what_went_wrong(tests: list) -> str:
    """A part's failure in a line: how many cases pass, and the explanation or the first failing case."""
    said = []  # (cases passed, visible/hidden, why)
    for t in tests:
        if t.passed or not t.failures:
            continue
        why = t.explanation.message if t.explanation else f"every case: {t.shared_reason}" if t.shared_reason \
            else f"first failing: {t.failures[0]}"
        said.append((t.cases_passed, "hidden" if t.hidden else "visible", why))
    if len(said) == 2 and said[0][2] == said[1][2]:
        return f"{said[0][0]} visible and {said[1][0]} hidden cases passed; {said[0][2]}"
    return "\n    ".join(f"{counted} {group} cases passed; {why}" for counted, group, why in said)


def render_table(report: GradingReport, verbose: bool = False, color: bool = False) -> str:
    """The score by part as a plain-text table (ANSI colour optional), failures explained below.

    Every piece of text the submission chose (its file's name, its messages, its prints) goes
    through escape.terminal: no control character of its own reaches the terminal."""
    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    def cell(tests: list) -> str:
        if not tests:
            return f"{'-':^13}"
        return f"{sum(t.score for t in tests):>6.4g} / {round(sum(t.max_score for t in tests), 4):<4g}"

    title_of = {t.part: t.title for t in report.tests}
    width = max((len(title) for title in title_of.values()), default=4)
    lines = [f"Graded: {one_line(report.graded_file) or '(no file)'}   status: {report.status}", ""]
    # The whole picture, for the instructor: a student sees the hidden column only once it is shown.
    header = f"{'Part':<{width}}  {'Visible':^13}  {'Hidden':^13}  {'Points':^13}"
    lines += [header, "-" * len(header)]
    mistakes_by_part = {title: mistakes for title, _, _, mistakes in part_summary(report.tests)}
    parts = list(dict.fromkeys(t.part for t in report.tests))  # (in the grader's order)
    for part in parts:
        tests = [t for t in report.tests if t.part == part]
        if not tests:
            continue
        visible, hidden = [t for t in tests if not t.hidden], [t for t in tests if t.hidden]
        mark = paint("ok  ", "32") if all(t.score == t.max_score for t in tests) else paint("FAIL", "31")
        mistakes = mistakes_by_part[title_of[part]]  # (diagnosed on visible cases only)
        lines.append(f"{title_of[part]:<{width}}  {cell(visible)}  {cell(hidden)}  {cell(tests)} {mark}"
                     + (f" {mistakes}" if mistakes else ""))
    lines.append("-" * len(header))
    visible, hidden = [t for t in report.tests if not t.hidden], [t for t in report.tests if t.hidden]
    lines.append(f"{'Total':<{width}}  {cell(visible)}  {cell(hidden)}  {cell(report.tests)}")
    held = {t.visibility for t in report.tests if t.visibility != "visible"}
    if held:
        lines.append(f"(Tests that {' or '.join(SHOWN_WHEN[v] for v in sorted(held))} are not in the summary the "
                     "student sees at once.)")
    if verbose:
        lines.append("")
        for t in report.tests:
            lines.append(paint(f"{t.number} {t.name}: {t.score:g}/{t.max_score:g}", "1"))
            lines += ["    " + terminal(line) for line in t.output.splitlines()]
    else:
        failing = [part for part in parts if any(not t.passed for t in report.tests if t.part == part)]
        if failing:
            lines += ["", "What went wrong (-v shows every case in full):"]
        said: dict[str, list[str]] = {}  # the same words for several parts are said once
        for part in failing:
            words = terminal(_what_went_wrong([t for t in report.tests if t.part == part]))
            said.setdefault(words, []).append(title_of[part])
        for words, titles in said.items():
            who = titles[0] if len(titles) == 1 else f"{len(titles)} parts ({titles[0]}, ...)" if len(titles) > 3 \
                else " and ".join(titles)
            lines.append(f"  {paint(who, '1')}: {words}")
    lines += [""] + [terminal(note) + "\n" for note in report.notes]
    return "\n".join(lines)
