"""Hostile: look for the reference solution, the grading tests and the config on disk and use them."""
import os
import sys
import time

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as honest_loss

FOUND = []


def _search():
    started = time.monotonic()
    # where Gradescope keeps the grader, and the grader's root around the python that runs us
    # (/autograder/venv/bin/python there); not the whole disk: a developer's checkout of this
    # project elsewhere is readable, but it is no part of a deployed grader
    roots = ["/autograder"] + [str(p) for p in __import__("pathlib").Path(sys.executable).parents][:3]
    for root in roots:
        for folder, dirs, files in os.walk(root):
            if time.monotonic() - started > 2:
                return
            for name in files:
                path = os.path.join(folder, name)
                if name in ("grading.toml", "cases.py", "test_backward.py") or \
                        (name == "two_layer_net.py" and "reference" in folder):
                    try:
                        with open(path) as f:
                            f.read(10)
                        FOUND.append(path)
                    except OSError:
                        pass


_search()


def mse_loss(y_hat, y):
    # the point is earned only if a grader file was readable
    return honest_loss(y_hat, y) if FOUND else np.array(12345.0)
