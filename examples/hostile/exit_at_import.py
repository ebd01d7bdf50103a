"""Hostile: sys.exit(0) at import, hoping an exit status of 0 reads as success."""
import sys

from honest import *  # noqa: F403

sys.exit(0)
