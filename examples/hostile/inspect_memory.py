"""Hostile: look through the call stack and every live object for the expected answer."""
import gc
import sys

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as honest_loss


def mse_loss(y_hat, y):
    suspicious = 0
    frame = sys._getframe(1)
    while frame is not None:
        suspicious += sum(name in frame.f_locals for name in ("expected", "reference", "ref", "verdict"))
        frame = frame.f_back
    suspicious += sum(1 for o in gc.get_objects() if type(o).__name__ in ("Case", "Inputs", "Config"))
    return honest_loss(y_hat, y) if suspicious else np.array(12345.0)
