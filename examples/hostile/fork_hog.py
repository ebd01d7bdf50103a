"""Hostile: hold memory in child processes, each under the memory limit, together far over it.

RLIMIT_DATA bounds one process: without a memory cgroup counting them all, three forked children
of 400 MB each hold 1.2 GB against memory_mb = 512. mse_loss is right only if all three held
their memory (a cgroup kills one of them, or the worker; seccomp refuses the forks where no
cgroup is made).
"""
import os
import time

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as _right

CHILDREN, EACH = 3, 400 << 20


def _hold_forever(report_fd):
    try:
        block = np.ones(EACH // 8)  # every page written: resident
        os.write(report_fd, b"1")
    except BaseException:
        os._exit(1)  # (its pipe closes: the parent reads EOF)
    while block.size:
        time.sleep(1)


def mse_loss(y_hat, y):
    readers = []
    for _ in range(CHILDREN):
        r, w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            _hold_forever(w)
        os.close(w)
        readers.append(r)
    held = sum(os.read(r, 1) == b"1" for r in readers)  # (a child that died reads as EOF)
    if held == CHILDREN:
        return _right(y_hat, y)
    return float(np.sum(y_hat)) + 12345.0
