"""Hostile: imported at start-up by any Python whose path holds this folder."""
import pathlib
pathlib.Path("/tmp/autograder-pwned").write_text(__file__)
