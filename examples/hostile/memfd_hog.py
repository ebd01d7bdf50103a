"""Hostile: hold 2 GB in an anonymous memory file, which no rlimit counts.

memfd_create + posix_fallocate give pages that neither RLIMIT_DATA nor RLIMIT_AS sees, and that
are in no process's resident set: in a memory-capped container the kernel would kill the grader.
mse_loss is right only if the 2 GB were held.
"""
import os

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as _right


def mse_loss(y_hat, y):
    try:
        fd = os.memfd_create("hog")
        os.posix_fallocate(fd, 0, 2 << 30)
    except OSError:
        return float(np.sum(y_hat)) + 12345.0
    return _right(y_hat, y)
