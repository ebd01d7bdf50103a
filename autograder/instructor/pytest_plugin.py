"""pytest runs the grading tests: `pytest tests/ --submission PATH` (tests/conftest.py loads this).

The grading tests in tests/ take the fixtures `case`, `student`, `reference` and `check`. Here they
are pytest's: `case` parametrizes each test over the visible cases and the hidden cases of the
submission id (`test_grad_W1[visible-07-zeros_in_z1]`, `test_grad_W1[hidden-2]`), and one Grader per
session grades the submission exactly as run_autograder does (Grader.grade: zygote, sandbox user,
rlimits, seccomp, bubblewrap, timeouts), once, before the first item runs. Each item then runs its
test function again on what that grading recorded (runner.Replay: the same case objects, reference
answers and the student's call outcomes), so `--pdb` steps through a real check, and its verdict is
the one recorded: pytest and run_autograder cannot disagree. A failing item's message is what the
student reads for that case: the reason, the likely cause, the inputs, expected and received values.

Nothing of the submission comes near this process: Grader.grade stages it in its own scratch
folder under the system's temporary folder, outside pytest's rootdir and collection paths, and
student code runs only in the sandbox's worker. A conftest.py, pytest.ini or sitecustomize.py in
the upload is never collected, read or imported.

Options: --submission PATH (default: the reference solution, under the config's conventions, so a
plain `pytest tests/` checks the grading tests against it), --submission-id ID (default "local",
as `grade`), --config FILE, --results FILE (the results.json `grade --results` writes).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from ..config import Config, load_config
from ..core.compare import Failure, shape_note
from ..escape import terminal
from ..grading.answer_key import resolve
from ..grading.grade import Grader, GradingReport
from ..grading.results import report_to_results, write_results
from ..grading.rubric import CaseResult
from ..grading.runner import ReferenceCalls, Replay, show_values
from ..sandbox.host import SandboxRefused


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder", "grading a submission (autograder/instructor/pytest_plugin.py)")
    group.addoption("--submission", type=Path, default=None,
                    help="the submission to grade: a file or folder (default: the reference solution)")
    group.addoption("--submission-id", default="local", help="the id whose hidden cases are used (default: local)")
    group.addoption("--config", type=Path, default=None, help="grading.toml to use (default: the repository's)")
    group.addoption("--results", type=Path, default=None,
                    help="write the submission's Gradescope results.json here (as `grade --results` does)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSION] = GradingSession(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" not in metafunc.fixturenames:
        return
    session = metafunc.config.stash[_SESSION]
    part = _part_of(metafunc.function, session)
    if part is None:
        raise pytest.UsageError(
            f"{metafunc.function.__name__} grades none of the parts of {session.config().homework.name}, the "
            f"homework of {session.options.getoption('--config') or 'the repository grading.toml'}: give --config "
            f"the grading.toml of the homework these tests grade (its [assignment] homework)")
    # (numbered among every case, so a case's id is the same in each test that grades on it)
    numbered = [(i, case) for i, case in enumerate(session.cases(), start=1) if case.grades(part)]
    metafunc.parametrize("case", [case for _, case in numbered], ids=[_case_id(i, case) for i, case in numbered])


def pytest_sessionfinish(session: pytest.Session) -> None:
    grading = session.config.stash[_SESSION]
    target = session.config.getoption("--results")
    if target is not None and grading.report is not None:
        write_results(target, report_to_results(grading.report))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """An item's verdict is the one grading recorded, whatever the replay did."""
    outcome = yield
    report = outcome.get_result()
    recorded = item.stash.get(_RECORDED, None)
    if call.when != "call" or recorded is None or recorded.passed or report.failed:
        return
    report.outcome = "failed"  # the test passed on replay but not when graded: say why it was failed
    report.longrepr = item.config.stash[_SESSION].message(recorded)


@pytest.fixture
def student(request: pytest.FixtureRequest) -> _Student:
    return _Student(request.config.stash[_SESSION], _recorded(request))


@pytest.fixture
def reference(request: pytest.FixtureRequest) -> ReferenceCalls:
    return request.config.stash[_SESSION].replay().reference


@pytest.fixture
def check(request: pytest.FixtureRequest):
    """check(outcome, expected, function, key="return"): fails the item with the student's explanation."""
    session, recorded = request.config.stash[_SESSION], _recorded(request)

    def check(outcome, expected, function: str, key: str = "return") -> None:
        if not recorded.passed:
            expected = resolve(expected, outcome, key, session.grader().config.parts[recorded.part].tolerance)
            pytest.fail(session.message(recorded, outcome, expected, function, key), pytrace=False)

    return check


class GradingSession:
    """One Grader for the pytest session, and the one grading of the submission."""

    def __init__(self, config: pytest.Config):
        self.options = config
        self.report: GradingReport | None = None
        self._config: Config | None = None
        self._grader: Grader | None = None
        self._results: dict | None = None  # (part, case id) -> its verdict, once graded
        self._scratch: tempfile.TemporaryDirectory | None = None

    def config(self) -> Config:
        """The grading configuration (--config, or the repository's), read once."""
        if self._config is None:
            self._config = load_config(self.options.getoption("--config"))
        return self._config

    def grader(self) -> Grader:
        if self._grader is None:
            path = self.options.getoption("--config")
            try:
                config = self.config()
                self._grader = Grader(config, [path] if path else [], diagnoser=config.homework.diagnoser)
            except SandboxRefused as e:
                raise pytest.UsageError(str(e)) from None
        return self._grader

    def cases(self) -> list:
        return self.grader().cases(self.options.getoption("--submission-id"))

    def graded(self) -> GradingReport:
        """The submission graded (once, as run_autograder grades it)."""
        if self.report is None:
            submission = self.options.getoption("--submission") or self._reference()
            if not Path(submission).exists():
                raise pytest.UsageError(f"--submission {submission}: no such file or folder")
            self.report = self.grader().grade(Path(submission), self.options.getoption("--submission-id"),
                                              keep_calls=True)
        return self.report

    def replay(self) -> Replay:
        report = self.graded()
        return report.replay or Replay(self.cases(), ReferenceCalls(self.grader().config), {})

    def result(self, part: str, case_id: str) -> CaseResult:
        if self._results is None:
            self._results = {(r.part, r.case_id): r for r in self.graded().results}
        return self._results[part, case_id]

    def message(self, r: CaseResult, outcome=None, expected=None, function: str = "", key: str = "return") -> str:
        """What the student reads for this case (the reason, the likely cause, the values); for a hidden
        case, the reason and the part's likely cause (found on its visible cases): pytest is run by staff."""
        config = self.grader().config
        title = config.homework.part_title(r.part, config.conventions)
        lines = [f"{title}; {r.case_title}: {r.reason}" + (f": {r.said}" if r.said else "")
                 + (f", {r.worst}" if r.worst else "")]
        explanation = next((t.explanation for t in self.graded().tests if t.part == r.part and not t.hidden
                            and t.explanation), None)
        if explanation:
            lines.append(f"Likely cause: {explanation.message}")
        if r.hidden:
            return terminal("\n".join(lines))
        if outcome is not None and outcome.status == "ok" and key in outcome.values:
            lines.append(_plain(show_values(function, config.homework.arguments[function], outcome.arguments, expected,
                                            outcome.values[key])))
        lines += [text for text in (r.detail, shape_note(*r.reshaped) if r.reshaped else "") if text]
        if r.failure is Failure.NOT_GRADED:  # why: the import error, in the notes
            lines += self.graded().notes[:2]
        return terminal("\n".join(lines))  # (the student's text in it: pytest prints it to a terminal)

    def _reference(self) -> Path:
        """The reference solution, following the config's conventions, staged as a submission."""
        self._scratch = tempfile.TemporaryDirectory(prefix="autograder-reference-")
        config = self.grader().config
        path = Path(self._scratch.name) / config.homework.submission_file
        path.write_text(config.homework.reference_solution(config))
        return path

    def close(self) -> None:
        if self._grader is not None:
            self._grader.close()
        if self._scratch is not None:
            self._scratch.cleanup()


class _Student:
    """The `student` fixture: the outcome each call had when the submission was graded."""

    def __init__(self, session: GradingSession, recorded: CaseResult):
        self._session, self._recorded = session, recorded

    def call(self, case, function: str, *args, keys=None):
        outcome = self._session.replay().call(case, function, *args, keys=keys)
        if outcome is None:  # never made: the file did not import, or the time ran out first
            pytest.fail(self._session.message(self._recorded), pytrace=False)
        return outcome


_SESSION = pytest.StashKey[GradingSession]()
_RECORDED = pytest.StashKey[CaseResult]()


def _recorded(request: pytest.FixtureRequest) -> CaseResult:
    """The verdict grading recorded for this item's (part, case)."""
    item = request.node
    if _RECORDED not in item.stash:
        part = _part_of(item.function, request.config.stash[_SESSION])
        item.stash[_RECORDED] = request.config.stash[_SESSION].result(part, item.callspec.params["case"].id)
    return item.stash[_RECORDED]


def _plain(markdown: str) -> str:
    """show_values' Markdown for a terminal: the code fences dropped, their lines indented."""
    lines, inside = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        lines.append("  " + line if inside else line)
    return "\n".join(lines)


def _part_of(function, session: GradingSession) -> str | None:
    """The part id a grading test is tagged with (of the homework the session grades), if any."""
    part_ids = session.config().homework.part_ids
    return next((tag for tag in getattr(function, "__tags__", ()) if tag in part_ids), None)


def _case_id(index: int, case) -> str:
    """visible-07-zeros_in_z1, hidden-2: readable, and the same for every run of one submission id."""
    if case.hidden:
        return case.id
    return f"visible-{index:02d}-{case.id}"  # (as written: `pytest -k zeros_in_z1` selects it)
