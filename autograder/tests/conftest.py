"""Helpers for the project's own tests: rehearse Gradescope's run in a temporary AUTOGRADER_ROOT."""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from autograder.instructor.bundle import build_zip, copy_grading_files, write_zip
from autograder.sandbox.isolation import SHARED_WRITABLE, running_as_root

# (the toy homework's grading tests run through the grader, as tests/ does, never as the project's tests)
collect_ignore = ["toy_homework"]

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "submissions"
SCHEMA = json.loads((Path(__file__).with_name("results.schema.json")).read_text())
def zygotes_and_workers(below: int | None = None, settle: float = 15.0) -> str:
    """pgrep's lines for live zygotes and workers (workers are forks of a zygote: same command; bwrap
    around a zygote shows it too): those below process `below` (a grader of this process), or else
    those no live grader owns any more (their first other ancestor is init: left behind). Another
    grader running on the machine meanwhile is neither; one closing meanwhile (its zygote orphaned for
    the moment it takes to exit, on a loaded machine) is given up to `settle` seconds to be gone
    before it counts as left behind."""
    deadline = time.monotonic() + settle
    while True:
        found = _zygotes_and_workers(below)
        if below is not None or not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _zygotes_and_workers(below: int | None) -> str:
    lines = subprocess.run(["pgrep", "-a", "-f", "forkserver/server/zygote.py"], capture_output=True,
                           text=True).stdout.strip().splitlines()
    found = {int(line.split()[0]): line for line in lines}
    if below is not None:
        mine = descendants(below)
        return "\n".join(line for pid, line in found.items() if pid in mine)

    def owner(pid: int) -> int:
        while pid in found:
            pid = _parent(pid)
        return pid

    return "\n".join(line for pid, line in found.items() if owner(pid) in (0, 1))


def _parent(pid: int) -> int:
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (its children, theirs, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


# The fixtures that make a test end to end: the zip, a Gradescope-like runtime (setup.sh's venv), a
# run of run_autograder, a second user. A test using one is marked slow; the fast tier
# (`./dev check`: pytest -m "not slow") leaves those out, as do the tests marked slow by hand (they
# start interpreters of their own: selfcheck.py, the CLI, a batch's pool).
SLOW_FIXTURES = frozenset({"built_zip", "runtime", "gradescope", "grader_user", "packages_root"})


# Tests that share something machine-wide run one after another in one xdist worker (./dev runs the
# suite with --dist loadgroup): the non-root grader's tests all run as one user, and student code
# run as that user may kill every process of it (kill_grader), a neighbour test's grader included.
SERIAL_FIXTURES = {"grader_user": "grader_user"}
# Module fixtures that cost seconds (a setup.sh run, a module's worth of gradings): the tests using one
# run in one xdist worker, which makes it once; split over two workers, each made it.
COSTLY_MODULE_FIXTURES = frozenset({"limited_root", "gradescope_runs", "class_batch", "graded_class"})
# A session fixture that costs half a minute (setup.sh installing torch): its tests run in one xdist
# worker, the one that makes it, instead of every worker waiting for it at once.
COSTLY_SESSION_FIXTURES = frozenset({"packages_root"})


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if SLOW_FIXTURES & fixtures:
            item.add_marker(pytest.mark.slow)
        for fixture, group in SERIAL_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(pytest.mark.xdist_group(group))
        if SERIAL_FIXTURES.keys() & fixtures:
            continue
        costly = sorted(COSTLY_SESSION_FIXTURES & fixtures)
        if costly:
            item.add_marker(pytest.mark.xdist_group(costly[0]))
        elif COSTLY_MODULE_FIXTURES & fixtures:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.fixture
def own_tmpdir():
    """(TMPDIR, environment) for a grader run as a subprocess: a temporary folder of its own (open
    to the sandbox user), so that what it leaves there is told apart from other graders' files."""
    folder = Path(tempfile.mkdtemp(prefix="autograder-test-tmp-"))
    os.chmod(folder, 0o755)
    yield folder, {**os.environ, "TMPDIR": str(folder)}
    shutil.rmtree(folder, ignore_errors=True)


def without_bubblewrap(config_text: str) -> str:
    assert 'bubblewrap = "auto"' in config_text
    return config_text.replace('bubblewrap = "auto"', 'bubblewrap = "off"')


def quick_timeouts(config_text: str) -> str:
    """The config with a call limit of 1 s of CPU time, not 2: a hanging example costs half as long,
    and honest calls (milliseconds each) are as far from it; the limit is CPU time, so load does not
    bring them nearer."""
    assert "call_timeout = 2.0 " in config_text
    return config_text.replace("call_timeout = 2.0 ", "call_timeout = 1.0 ")


@pytest.fixture(scope="session")
def short_limits(tmp_path_factory) -> Path:
    """The shipped config with short time limits (call 0.5 s, import 2.5 s of CPU), for tests whose
    assertions hold at any limit (a hang is a timeout, a top-level loop is stopped): the hanging and
    looping examples cost a quarter of the time."""
    text = (REPO / "grading.toml").read_text()
    assert "call_timeout = 2.0 " in text and "import_timeout = 10.0 " in text
    config = tmp_path_factory.mktemp("config") / "grading.toml"
    config.write_text(text.replace("call_timeout = 2.0 ", "call_timeout = 0.5 ")
                      .replace("import_timeout = 10.0 ", "import_timeout = 2.5 "))
    return config


def base_python() -> str:
    """A Python other users can run (the sandbox user runs the worker with it): the system one if any."""
    for candidate in ("/usr/bin/python3", sys._base_executable):
        probe = subprocess.run([candidate, "-c", "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))"],
                               capture_output=True)
        if probe.returncode == 0:
            return candidate
    raise RuntimeError("no Python 3.10+ with venv found")


# What the xdist workers of one test run share (the zip, the runtime): a folder the run's first process
# makes (the controller, or the only process without xdist), named to the workers by this variable
# and removed when that process ends.
SHARED_FOLDER_VARIABLE = "AG_TESTS_SHARED_FOLDER"


def pytest_configure(config):
    # (a pytest run inside a test, as the plugin agreement's, keeps the outer run's folder)
    if not hasattr(config, "workerinput") and SHARED_FOLDER_VARIABLE not in os.environ:
        shared = Path(tempfile.mkdtemp(prefix="autograder-tests-"))
        os.chmod(shared, 0o755)  # (the runtime's venv below it is run by the sandbox user)
        os.environ[SHARED_FOLDER_VARIABLE] = str(shared)
        config.stash[_SHARED] = shared


def pytest_unconfigure(config):
    shared = config.stash.get(_SHARED, None)
    if shared is not None:
        shutil.rmtree(shared, ignore_errors=True)
        os.environ.pop(SHARED_FOLDER_VARIABLE, None)


_SHARED = pytest.StashKey[Path]()


@contextlib.contextmanager
def made_once(name: str, mode: int = 0o755):
    """(folder, whether to make it): the run's folder `name`, shared by every xdist worker. The first
    worker to ask makes it, the others wait for it (a lock), then find it made; a failed making
    leaves it to be made again by the next."""
    shared = Path(os.environ[SHARED_FOLDER_VARIABLE])
    folder = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / f"{name}.done"
        if done.exists():
            yield folder, False
            return
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(mode=mode)
        os.chmod(folder, mode)
        yield folder, True
        done.touch()


@pytest.fixture(scope="session")
def built_zip() -> Path:
    """The zip an instructor would upload, made (and smoke-tested) by build-zip once per test run, in a
    private folder.

    Its config turns bubblewrap off, as in Gradescope's Docker where namespaces are refused: the
    layers that must hold without it are the ones the end-to-end tests test (test_bubblewrap.py
    tests that layer). Its call limit is 1 s (quick_timeouts).
    """
    with made_once("build", mode=0o700) as (build, make):
        if make:
            config = build / "grading.toml"
            config.write_text(quick_timeouts(without_bubblewrap((REPO / "grading.toml").read_text())))
            build_zip(build / "autograder.zip", config)
    return build / "autograder.zip"


@pytest.fixture(scope="session")
def runtime(built_zip) -> Path:
    """A Gradescope-like root: the zip unpacked into source/, then setup.sh run once per test run (as
    root when the tests are). Like /autograder it lies where the sandbox user can run the venv's
    python. Every end-to-end test grades with this runtime, so they run what Gradescope runs.
    """
    with made_once("runtime") as (root, make):
        if make:
            setup = set_up_root(root, built_zip, base_python())
            (root / "setup.log").write_text(setup.stdout)  # (what it said, for the tests of what it says)
    return root


def set_up_root(root: Path, built_zip: Path, python: str) -> subprocess.CompletedProcess:
    """Unpack the zip into root/source and run setup.sh there with AUTOGRADER_SETUP_PYTHON=python."""
    os.chmod(root, 0o755)
    (root / "source").mkdir(mode=0o700)  # (the reference is in it: never readable by a sandbox user)
    with zipfile.ZipFile(built_zip) as zf:
        zf.extractall(root / "source")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER", "VIRTUAL_ENV"))}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_SETUP_PYTHON=python)
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           timeout=900)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    return setup


@contextlib.contextmanager
def root_with_config(extra: str):
    """(root, setup.sh's run): a root set up by setup.sh from a zip built (and smoke-tested) with the
    repository's grading.toml, bubblewrap off, and `extra` appended; removed afterwards."""
    build = Path(tempfile.mkdtemp(prefix="autograder-config-"))
    os.chmod(build, 0o755)  # the sandbox user must reach the venv below (else student code would run as root)
    try:
        yield build / "root", set_up_config_root(build, extra)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def set_up_config_root(build: Path, extra: str) -> subprocess.CompletedProcess:
    """In `build` (open to the sandbox user): a zip built with the repository's grading.toml, bubblewrap
    off, and `extra` appended, and root/ set up from it by setup.sh; setup.sh's run."""
    config = build / "grading.toml"
    config.write_text(without_bubblewrap((REPO / "grading.toml").read_text()) + extra)
    write_zip(build / "autograder.zip", config)
    os.chmod(build / "autograder.zip", 0o600)  # (the reference is in it)
    (build / "root").mkdir()
    return set_up_root(build / "root", build / "autograder.zip", base_python())


# The packages the rehearsed root with extra packages lists (each test of one of them uses it)
EXTRA_PACKAGES = ("torch", "matplotlib")


@pytest.fixture(scope="session")
def packages_root() -> Path:
    """A root set up by setup.sh (once per test run) from a zip whose grading.toml lists torch and
    matplotlib in [runtime] packages: one venv for the tests of both (torch's install is the slow one)."""
    with made_once("packages") as (build, make):
        if make:
            setup = set_up_config_root(build, f"\n[runtime]\npackages = {json.dumps(list(EXTRA_PACKAGES))}\n")
            (build / "root" / "setup.log").write_text(setup.stdout)
    return build / "root"


@dataclass
class Run:
    results: dict
    log: str

    def part_scores(self) -> dict[str, tuple[float, float]]:
        """{part id: (score, max score)} summed over the part's tests."""
        out: dict[str, list[float]] = {}
        for test in self.results["tests"]:
            (part,) = test["tags"]
            row = out.setdefault(part, [0.0, 0.0])
            row[0] += test["score"]
            row[1] += test["max_score"]
        return {part: (round(s, 4), round(m, 4)) for part, (s, m) in out.items()}

    def failed_parts(self) -> set[str]:
        return {part for part, (score, max_score) in self.part_scores().items() if score < max_score}

    def output_of(self, part: str) -> str:
        return "\n".join(t["output"] for t in self.results["tests"] if part in t["tags"])


def run_autograder(root: Path, submission: Path | None, *, source: Path, python: str | None,
                   metadata: dict | None = None, timeout: float = 600, as_user: str | None = None,
                   prefix: tuple[str, ...] = (), metadata_text: str | None = None) -> Run:
    """Lay out root as Gradescope does (source/, submission/, metadata), run run_autograder, validate.

    metadata_text: the metadata file's text as given, instead of `metadata` ("": no file at all);
    python: the grader's interpreter (None: run_autograder's default, root/venv/bin/python);
    as_user: run run_autograder as this user instead of ourselves (root must be theirs to write);
    prefix: a command that runs it (a container's memory cap, say).
    """
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "source").exists():
        (root / "source").symlink_to(source)
    shutil.copy(source / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)  # Gradescope's image build does chmod +x
    if submission is not None:
        if submission.is_dir():
            shutil.copytree(submission, root / "submission", symlinks=True)  # as uploads from GitHub keep them
        else:
            (root / "submission").mkdir()
            shutil.copy(submission, root / "submission")
    else:
        (root / "submission").mkdir()
    text = json.dumps(metadata or {"id": 123456}) if metadata_text is None else metadata_text
    if text:
        (root / "submission_metadata.json").write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER")}
    env["AUTOGRADER_ROOT"] = str(root)
    if python is not None:  # None: run_autograder's default, the venv setup.sh made
        env["AUTOGRADER_PYTHON"] = python
    command = [str(root / "run_autograder")]
    if as_user is not None:
        command = ["runuser", "-u", as_user, "--", *command]
    command = [*prefix, *command]
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return Run(results, proc.stdout + proc.stderr)


def content_key(submission: Path | None) -> str | None:
    """A digest of what an upload holds (names and bytes, links as their targets), or None if it
    is none: two uploads of the same files are graded alike."""
    if submission is None:
        return "nothing"
    digest = hashlib.sha256()
    files = sorted(submission.rglob("*")) if submission.is_dir() else [submission]
    for path in files:
        digest.update(str(path.relative_to(submission) if submission.is_dir() else path.name).encode() + b"\0")
        if path.is_symlink():
            digest.update(b"link:" + os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@pytest.fixture
def gradescope(tmp_path, runtime):
    """gradescope(submission_path, **options) -> Run: run_autograder in a fresh root per call.

    By default with the shared runtime's source and venv; `source=` and `python=` replace them.
    dev_python=True: with this development venv's Python (torch is there) and the repository's
    config, whose bubblewrap shows that Python to the sandbox user wherever the checkout lies (a
    private folder would otherwise make the grader refuse: student code would run as root).

    With no options, an upload is graded once per test run (whichever xdist worker asks first; the
    others wait for it) and every test asserting about the same files shares that run (a copy of
    it: the score does not depend on which test asked first); fresh=True grades it again, for a test
    that checks what that run did (and shares its run on).
    """
    counter = iter(range(1000))

    def grade(submission: Path | None, dev_python: bool, options: dict) -> Run:
        number = next(counter)
        if dev_python:
            options.setdefault("python", sys.executable)
            options.setdefault("source", copy_grading_files(tmp_path / f"dev-source{number}"))
        options.setdefault("source", runtime / "source")
        options.setdefault("python", str(runtime / "venv" / "bin" / "python"))
        return run_autograder(tmp_path / f"root{number}", submission, **options)

    def run(submission: Path | None, dev_python: bool = False, fresh: bool = False, **options) -> Run:
        if dev_python or options:
            return grade(submission, dev_python, options)
        with made_once(f"run-{content_key(submission)}", mode=0o700) as (folder, make):  # (results: ours alone)
            record = folder / "run.json"
            if make or fresh:
                graded = grade(submission, dev_python, options)
                record.write_text(json.dumps({"results": graded.results, "log": graded.log}))
                return graded
            return Run(**json.loads(record.read_text()))

    return run


GRADER_USER = "ag-grader"


@pytest.fixture(scope="session")
def grader_user():
    """A non-root user to run the grader as (created for the test run; needs root to set up)."""
    if not running_as_root():
        pytest.skip("creating a second user needs root")
    try:
        pwd.getpwnam(GRADER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", GRADER_USER],
                       check=True)
    return GRADER_USER


def without_the_lease(doc: dict) -> dict:
    """A results.json document with the sandbox user it was graded as named only as "a leased user":
    which of ag-student, ag-student2, ... a grader leases depends on the graders running beside it
    (another test, another grading), everything else must not."""
    doc = copy.deepcopy(doc)
    extra = doc["extra_data"]
    uid = extra.pop("sandbox_uid")
    if uid is not None:
        extra["isolation"] = extra["isolation"].replace(f"{pwd.getpwuid(uid).pw_name} (uid {uid})", "(leased)")
    extra["sandbox_uid"] = "leased" if uid is not None else None
    return doc


def left_behind(uid: int) -> list[str]:
    """Entries of the sandbox user in the world-writable folders, one level into shared subfolders."""
    found = []
    for top in SHARED_WRITABLE:
        for entry in Path(top).iterdir() if Path(top).is_dir() else ():
            info = entry.lstat()
            if info.st_uid == uid:
                found.append(str(entry))
            elif entry.is_dir() and not entry.is_symlink() and info.st_mode & 0o002:
                found += [str(p) for p in entry.iterdir() if p.lstat().st_uid == uid]
    return found
