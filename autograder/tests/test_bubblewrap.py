"""The bubblewrap layer, where this machine allows it: graded end to end with bubblewrap = "auto"."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile

import pytest

from autograder.instructor.bundle import copy_grading_files

from .conftest import REPO, left_behind

# the honest part of every hostile submission: the correct example, beside it as honest.py
HONEST = REPO / "examples" / "submissions" / "correct" / "two_layer_net.py"

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")


@pytest.fixture
def grade_with_bwrap(gradescope, tmp_path):
    source = copy_grading_files(tmp_path / "source")
    assert 'bubblewrap = "auto"' in (source / "grading.toml").read_text()

    def run(attack_source: str):
        upload = tmp_path / "upload"
        upload.mkdir()
        (upload / "two_layer_net.py").write_text(attack_source)
        shutil.copy(HONEST, upload / "honest.py")
        return gradescope(upload, source=source)

    return run


def test_the_layer_is_used_and_said(grade_with_bwrap):
    run = grade_with_bwrap("from honest import *\n")
    assert run.results["score"] == 20
    isolation = run.results["extra_data"]["isolation"]
    if "no bubblewrap layer" in isolation:
        pytest.skip("bwrap is installed but this machine refuses its namespaces")
    assert "bubblewrap: no network, read-only allowlist of files (system, Python, scratch), private /tmp" in isolation


ESCAPES = """
import os, pathlib, socket
import numpy as np
from honest import *
from honest import mse_loss as honest_loss

GOT = []
# the grader's own checkout, readable by others here: bubblewrap must hide it all the same;
# and a file another user left in /tmp: the private /tmp must not show it
for path in [{repo!r} + "/reference/two_layer_net.py", {repo!r} + "/grading.toml", {marker!r}, "/etc/passwd"]:
    try:
        open(path).read(1)
        GOT.append(path)
    except OSError:
        pass
try:  # seccomp is on too; this is bubblewrap's empty network namespace behind it
    socket.create_connection(("1.1.1.1", 53), timeout=1)
    GOT.append("network")
except OSError:
    pass
try:
    pathlib.Path("/etc/autograder-was-here").write_text("x")
    GOT.append("/etc")
except OSError:
    pass


def mse_loss(y_hat, y):
    print(GOT)
    # /etc/passwd stays readable (the filesystem is there, read-only); nothing else may work
    return np.array(12345.0) if GOT == ["/etc/passwd"] else honest_loss(y_hat, y)
"""


def grade_from_this_checkout(tmp_path, attack_source: str, import_timeout: float | None = None) -> dict:
    """results.json of `python -m autograder grade` run from this checkout (which other users can
    read) on the attack with the correct example beside it as honest.py; skips without the layer.
    import_timeout: the config's, instead of the default's."""
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "two_layer_net.py").write_text(attack_source)
    shutil.copy(HONEST, upload / "honest.py")
    results = tmp_path / "results.json"
    config = []
    if import_timeout is not None:
        text = (REPO / "grading.toml").read_text()
        assert text.count("import_timeout = 10.0") == 1
        text = text.replace("import_timeout = 10.0", f"import_timeout = {import_timeout}")
        (tmp_path / "grading.toml").write_text(text)
        config = ["--config", str(tmp_path / "grading.toml")]
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", str(upload), "--results", str(results),
                          *config], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(results.read_text())
    if "no bubblewrap layer" in doc["extra_data"]["isolation"]:
        pytest.skip("bwrap is installed but this machine refuses its namespaces")
    return doc


def test_grader_files_tmp_network_and_writes_are_out_of_reach(tmp_path):
    with tempfile.NamedTemporaryFile(prefix="autograder-marker-", dir="/tmp") as marker:
        doc = grade_from_this_checkout(tmp_path, ESCAPES.format(repo=str(REPO), marker=marker.name))
    assert doc["score"] == 19, [t["output"] for t in doc["tests"] if "loss" in t["tags"]]
    assert not (REPO.parent / "etc" / "autograder-was-here").exists()


WALK = """
import os, time
from honest import *

found, seen, started = [], 0, time.monotonic()
for folder, dirs, files in os.walk("/"):
    if folder in ("/proc", "/sys"):
        dirs[:] = []
        continue
    seen += len(files)
    found += [os.path.join(folder, d) for d in dirs if d == ".git"]
    found += [os.path.join(folder, f) for f in files
              if f in ("two_layer_net.py", "grading.toml", "cases.py", "test_backward.py", "homework2.ipynb")]
print("FOUND", sorted(found), "IN", round(time.monotonic() - started, 1), "s", seen, "files")
"""


@pytest.mark.slow
def test_a_walk_of_the_whole_file_system_finds_only_the_submission_itself(tmp_path):
    """From this checkout (which other users can read, with its .git, examples, reference and config),
    graded with every layer: the allowlist exposes none of it, nor anything else but the system,
    the interpreter and the scratch folder. The walk runs at import, whose time limit is raised so
    that it finishes however loaded the machine is."""
    doc = grade_from_this_checkout(tmp_path, WALK, import_timeout=200)
    printed = next(line for line in doc["output"].splitlines() if line.startswith("FOUND"))
    found = eval(printed.split(" IN ")[0].removeprefix("FOUND "))  # a list literal printed by the walk
    # its own file, where its folder can be listed (as the sandbox user the scratch above it cannot)
    assert all(p.endswith("/submission/two_layer_net.py") and str(REPO) not in p for p in found), printed
    assert int(printed.split()[-2]) > 1000, printed  # the walk finished (it printed), through the system's files
    assert doc["score"] == 20


@pytest.mark.parametrize("layer", ["bubblewrap", "no bubblewrap"])
def test_a_package_of_the_venv_the_zygote_did_not_load_imports_from_a_root_under_tmp(layer, grade_with_bwrap,
                                                                                     gradescope, runtime, tmp_path):
    """numpy.f2py is in the venv setup.sh made (the runtime lives under /tmp) and is not among what the
    zygote loaded before the fork (the submission checks it); student code may import it (numpy's)."""
    assert str(runtime).startswith(tempfile.gettempdir())
    attack = ("import sys\nassert 'numpy.f2py' not in sys.modules, 'preloaded'\n"
              "import numpy.f2py\nassert numpy.f2py.__file__.startswith(" + repr(str(runtime)) + ")\n"
              "from honest import *\n")
    if layer == "bubblewrap":
        run = grade_with_bwrap(attack)
        if "no bubblewrap layer" in run.results["extra_data"]["isolation"]:
            pytest.skip("bwrap is installed but this machine refuses its namespaces")
    else:
        upload = tmp_path / "plain"
        upload.mkdir()
        (upload / "two_layer_net.py").write_text(attack)
        shutil.copy(HONEST, upload / "honest.py")
        run = gradescope(upload)
        assert "no bubblewrap layer" in run.results["extra_data"]["isolation"]
    assert run.results["score"] == 20, run.results["output"]


def test_the_lookahead_attack_earns_nothing_with_bubblewrap_either(grade_with_bwrap):
    run = grade_with_bwrap((REPO / "examples" / "hostile" / "lookahead.py").read_text())
    if "no bubblewrap layer" in run.results["extra_data"]["isolation"]:
        pytest.skip("bwrap is installed but this machine refuses its namespaces")
    assert run.results["score"] == 15, run.results["output"]


def test_files_planted_in_tmp_under_bubblewrap_never_reach_the_machines_tmp(grade_with_bwrap):
    """Under bubblewrap /tmp, /var/tmp and /dev/shm are the sandbox's own tmpfs, so the grader does
    not scan the machine's after each submission: nothing of the sandbox user may be there."""
    run = grade_with_bwrap((REPO / "examples" / "hostile" / "plant_files.py").read_text())
    isolation = run.results["extra_data"]["isolation"]
    if "no bubblewrap layer" in isolation:
        pytest.skip("bwrap is installed but this machine refuses its namespaces")
    assert run.results["score"] == 19, run.results["output"]
    uid = run.results["extra_data"]["sandbox_uid"]
    if uid is not None:
        assert left_behind(uid) == []
