"""Hostile: hold 700 MB of shared anonymous memory, which RLIMIT_DATA does not count.

mmap(MAP_SHARED | MAP_ANONYMOUS) pages are shared memory: RLIMIT_DATA counts only private
writable mappings, so beside memory_mb of arrays a worker could hold as much again as RLIMIT_AS's
headroom leaves. mse_loss is right only if the 700 MB were mapped and touched.
"""
import mmap

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as _right

SIZE = 700 << 20


def mse_loss(y_hat, y):
    try:
        held = mmap.mmap(-1, SIZE)  # MAP_SHARED | MAP_ANONYMOUS
    except OSError:
        return float(np.sum(y_hat)) + 12345.0
    for offset in range(0, SIZE, mmap.PAGESIZE):
        held[offset] = 1
    return _right(y_hat, y)
