"""Hostile: patch unittest, pytest and gradescope_utils so that failures look like passes."""
import unittest

from honest import *  # noqa: F403

unittest.TestCase.assertEqual = lambda *a, **k: None
unittest.TestCase.assertTrue = lambda *a, **k: None
unittest.TestResult.addFailure = unittest.TestResult.addSuccess
try:
    import _pytest.runner
    import pytest

    pytest.fail = lambda *a, **k: None
    pytest.approx = lambda expected, *a, **k: type("Any", (), {"__eq__": lambda s, o: True})()
    _pytest.runner.call_and_report = lambda *a, **k: None
except ImportError:
    pass
try:
    from gradescope_utils.autograder_utils import json_test_runner

    json_test_runner.JSONTestResult.addFailure = json_test_runner.JSONTestResult.addSuccess
except ImportError:
    pass


def mse_loss(y_hat, y):
    return 12345.0
