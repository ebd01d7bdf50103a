"""nyu-hw1's grading tests run under pytest too:
`pytest autograder/homeworks/nyu_hw1/grading_tests --config examples/configs/nyu_hw1/grading.toml --submission PATH`
(the config names the homework; see autograder/instructor/pytest_plugin.py). run_autograder calls these
tests with its own runner; this file only makes pytest work, with the same fixtures and verdicts.
"""

pytest_plugins = ("autograder.instructor.pytest_plugin",)
