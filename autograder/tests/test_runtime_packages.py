"""The packages student code may import ([runtime] in grading.toml), end to end in a rehearsed root."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import EXAMPLES, EXTRA_PACKAGES, run_autograder

PLOTTING = ("import matplotlib\nimport matplotlib.pyplot as plt\n"
            "plt.plot([1, 2], [3, 4])\nplt.savefig('never-shown.png')\nplt.show()\n")  # harmless: no display


def test_setup_installs_the_listed_packages_and_says_so(packages_root):
    said = (packages_root / "setup.log").read_text()
    assert "student code may also import: " + " ".join(sorted(EXTRA_PACKAGES)) in said, said


def test_the_default_runtime_names_no_extra_package(runtime):
    """No [runtime] packages: setup.sh installs nothing more and says nothing of it (not an empty
    "student code may also import:" line)."""
    said = (runtime / "setup.log").read_text()
    assert "setup.sh: numpy" in said and "may also import" not in said


def plotting_submission(folder: Path) -> Path:
    folder.mkdir()
    (folder / "two_layer_net.py").write_text(PLOTTING + (EXAMPLES / "correct" / "two_layer_net.py").read_text())
    return folder


@pytest.mark.slow
def test_a_listed_package_imports_and_plotting_costs_nothing(packages_root, tmp_path):
    run = run_autograder(tmp_path / "gs", plotting_submission(tmp_path / "upload"), source=packages_root / "source",
                         python=str(packages_root / "venv" / "bin" / "python"))
    assert run.results["score"] == 20, run.results["output"]


def test_an_unlisted_package_fails_its_import_with_a_message_naming_the_runtime(gradescope, tmp_path):
    """The default runtime has neither yaml nor matplotlib: `import yaml` fails on its own (the functions,
    which do not use it, are graded) and the note names the runtime; matplotlib, which only draws, gets
    a stand-in that does nothing."""
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "two_layer_net.py").write_text("import yaml\n" + PLOTTING + (EXAMPLES / "correct" / "two_layer_net.py")
                                             .read_text())
    run = gradescope(upload)
    out = run.results["output"]
    assert run.results["score"] == 20, out
    assert "- line 1 `import yaml`: ModuleNotFoundError: No module named 'yaml'" in out
    assert ("The package 'yaml' is not available on the grader: student code may import numpy and "
            "Python's standard library") in out
    assert "- line 2 `import matplotlib`: matplotlib is not offered by the grader; a stand-in that does nothing" in out


def test_the_handout_knows_the_listed_packages():
    from autograder.config import parse_config
    from autograder.instructor.handout import selfcheck_source

    text = selfcheck_source(parse_config({"runtime": {"packages": ["matplotlib"]}}))
    assert "RUNTIME_PACKAGES = ['numpy', 'matplotlib']" in text
