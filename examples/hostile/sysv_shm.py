"""Hostile: create System V shared memory that outlives the submission (and that a classmate graded
next could attach). mse_loss is right only if a 256 MB segment was created and filled."""
import ctypes

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as _right


def mse_loss(y_hat, y):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    shmid = libc.shmget(0, 256 << 20, 0o1666)  # IPC_PRIVATE, IPC_CREAT | 0666
    if shmid < 0:
        return float(np.sum(y_hat)) + 12345.0
    address = libc.shmat(shmid, None, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        return float(np.sum(y_hat)) + 12345.0
    ctypes.memset(address, 1, 256 << 20)
    return _right(y_hat, y)
