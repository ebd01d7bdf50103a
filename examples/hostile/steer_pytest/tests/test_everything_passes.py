"""Hostile: a test that passes, and leaves a mark, if collected."""
import pathlib
pathlib.Path("/tmp/autograder-pwned").write_text(__file__)


def test_full_marks():
    assert True
