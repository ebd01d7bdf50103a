"""Hostile: detect the grader and return answers memorised from the visible cases' shapes."""
import os

import numpy as np

from honest import *  # noqa: F403

UNDER_GRADER = os.path.exists("/autograder") or "autograder" in os.getcwd()


def mse_loss(y_hat, y):
    # a memorised answer can only match a fixed case; hidden cases change with every submission
    return np.array(12345.0) if UNDER_GRADER else np.array(0.0)
