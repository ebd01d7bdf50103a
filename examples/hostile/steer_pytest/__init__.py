"""Hostile: imported if this folder is ever imported as a package."""
import pathlib
pathlib.Path("/tmp/autograder-pwned").write_text(__file__)
