"""Hostile: sys.exit(0) at import, hoping an exit status of 0 reads as success. The statement fails on
its own (top-level code runs one statement at a time): the honest functions earn their points, the
mse_loss defined after the exit (a wrong one) earns nothing."""
import sys

from honest import *  # noqa: F403

sys.exit(0)


def mse_loss(y_hat, y):
    return -1.0  # (never a squared error)
