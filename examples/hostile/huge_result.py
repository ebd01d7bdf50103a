"""Hostile: return a 'multi-GB' array (a broadcast view: 16 GB of float64 that costs no memory here)."""
import numpy as np

from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    return np.broadcast_to(np.float64(12345.0), (1 << 31,))
