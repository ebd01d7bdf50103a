"""Hostile: find another student's two_layer_net.py on the machine and hand in its answers.

In a batch, the class's submissions sit on disk (an extracted zip, a copy of the instructor's
folder, other students' scratch copies). This looks through the grader's temporary folders,
including folders below them it cannot list but whose names it can guess, for a two_layer_net.py
that is not its own, and uses its mse_loss: the point is earned only if a classmate's file was
readable.
"""
import os
import time

import numpy as np

from honest import *  # noqa: F403

OWN = os.path.realpath(os.getcwd())
FOUND = []


def _candidates():
    started = time.monotonic()
    # the grader's own temporary folders (a batch's extracted input, other graders' scratch)
    tops = [os.path.join(t, e) for t in ("/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(t)
            for e in _listing(t) if e.startswith("autograder")]
    guesses = [os.path.join(top, name) for top in tops for name in ("input", "input/class", "scratch", "")]
    for root in guesses:
        for folder, dirs, files in os.walk(root):
            if time.monotonic() - started > 2:
                return
            if "two_layer_net.py" in files and not os.path.realpath(folder).startswith(OWN):
                yield os.path.join(folder, "two_layer_net.py")


def _listing(folder):
    try:
        return os.listdir(folder)
    except OSError:
        return []


for _path in _candidates():
    try:
        _namespace = {"__name__": "classmate", "__file__": _path}
        with open(_path) as _f:
            exec(compile(_f.read(), _path, "exec"), _namespace)
        if "mse_loss" in _namespace:
            FOUND.append(_namespace["mse_loss"])
            break
    except Exception:  # noqa: BLE001 - not a usable file: look further
        pass


def mse_loss(y_hat, y):
    return FOUND[0](y_hat, y) if FOUND else np.array(12345.0)
