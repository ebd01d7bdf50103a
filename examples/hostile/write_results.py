"""Hostile: write a full-score results.json directly, from the call and again from atexit."""
import atexit
import json
import os
import pathlib
import sys

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as honest_loss

FORGED = {"score": 1000, "tests": [], "output": "forged"}
WROTE = []


def forge():
    for root in ["/autograder"] + [str(p) for p in pathlib.Path(sys.executable).parents][:4] + [
            str(p) for p in pathlib.Path.cwd().parents]:
        target = pathlib.Path(root) / "results" / "results.json"
        try:
            if target.parent.stat().st_uid == os.getuid():
                continue  # a results folder of our own making is no grader's
            target.write_text(json.dumps(FORGED))
            WROTE.append(str(target))
        except OSError:
            pass


atexit.register(forge)


def mse_loss(y_hat, y):
    forge()
    return honest_loss(y_hat, y) if WROTE else np.array(12345.0)
