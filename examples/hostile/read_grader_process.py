"""Hostile: read the grader's environment and memory through /proc, or attach to it with ptrace."""
import ctypes
import os

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as honest_loss


def mse_loss(y_hat, y):
    got = 0
    parent = os.getppid()
    for path in (f"/proc/{parent}/environ", f"/proc/{parent}/mem", "/proc/1/environ"):
        try:
            with open(path, "rb") as f:
                f.read(16)
            got += 1
        except OSError:
            pass
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, parent, 0, 0) == 0:  # PTRACE_ATTACH
        got += 1
    return honest_loss(y_hat, y) if got else np.array(12345.0)
