"""The grading tests run under pytest too: `pytest tests/ --submission PATH`.

See autograder/instructor/pytest_plugin.py.

run_autograder does not use pytest (its own runner calls these tests, faster); this file only makes
`pytest tests/` work, with the same fixtures and the same verdicts.
"""

pytest_plugins = ("autograder.instructor.pytest_plugin",)
