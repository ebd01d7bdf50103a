"""Hostile: put the grader's folders on sys.path and import the reference and the case generator."""
import pathlib
import sys

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as honest_loss

IMPORTED = False
for root in ["/autograder"] + [str(p) for p in pathlib.Path(sys.executable).parents][:4]:
    sys.path[:0] = [root + "/source", root]
    try:
        from reference import two_layer_net as stolen  # noqa: F401

        IMPORTED = True
        break
    except Exception:
        pass
    try:
        import autograder.core.cases  # noqa: F401

        IMPORTED = True
        break
    except Exception:
        pass


def mse_loss(y_hat, y):
    return honest_loss(y_hat, y) if IMPORTED else np.array(12345.0)
