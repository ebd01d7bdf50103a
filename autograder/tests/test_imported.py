"""What importing a submission did, in words (grading/imported.py)."""

from __future__ import annotations

from autograder.core.call import ImportReport, TopLevelEvent, TopLevelOutcome
from autograder.grading.imported import import_failure, toplevel_note

PACKAGES = ("numpy",)


def missing(module: str) -> TopLevelEvent:
    return TopLevelEvent(None, 3, f"import {module}", TopLevelOutcome.FAILED,
                         error=f"ModuleNotFoundError: No module named {module!r}", module=module)


def test_a_missing_package_is_named_as_not_on_the_grader_but_the_uploads_own_module_is_not():
    note = toplevel_note((missing("sklearn.linear_model"), missing("helpers")), "two_layer_net.py", PACKAGES,
                         own=frozenset({"two_layer_net", "helpers"}))
    assert "- line 3 `import sklearn.linear_model`: ModuleNotFoundError" in note
    assert "The package 'sklearn' is not available on the grader" in note and "upload it too" in note
    assert "The package 'helpers'" not in note  # (a file of the upload: its own failure says why)
    report = ImportReport(ok=False, message="ModuleNotFoundError: No module named 'utils'", missing_module="utils")
    assert "The package 'utils' is not available on the grader" in import_failure(report, PACKAGES)
    assert "The package" not in import_failure(report, PACKAGES, own=frozenset({"utils"}))
