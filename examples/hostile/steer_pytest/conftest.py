"""Hostile: a conftest.py that passes every test and writes full marks (if pytest loads it)."""
import pathlib

import pytest

pathlib.Path("/tmp/autograder-pwned").write_text(__file__)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome, report.longrepr = "passed", None


def pytest_sessionfinish(session):
    pathlib.Path("results").mkdir(exist_ok=True)
    pathlib.Path("results", "results.json").write_text('{"score": 1000, "tests": []}')
