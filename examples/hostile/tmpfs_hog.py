"""Hostile: hold more memory than memory_mb in files of the RAM-backed folders (/dev/shm, /tmp).

Files of a tmpfs are memory no rlimit counts (64 MB a file under RLIMIT_FSIZE, but any number of
files). mse_loss is right only if 600 MB or more were held at once (more than memory_mb = 512);
otherwise it removes what it wrote (what a submission leaves in files counts against its own limit
until it is graded, so its other functions would have less).
"""
import os

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as _right

CHUNK = b"\xa5" * (32 << 20)


def mse_loss(y_hat, y):
    held, written = 0, []
    for folder in ("/dev/shm", "/tmp", "/var/tmp"):
        for i in range(40):
            path = os.path.join(folder, f"hog-{os.getpid()}-{i}")
            try:
                written.append(path)
                with open(path, "wb") as f:
                    f.write(CHUNK)
                    f.flush()
                    os.fsync(f.fileno())
                held += len(CHUNK)
            except OSError:
                break
            if held >= 600 << 20:
                return _right(y_hat, y)
    for path in written:
        try:
            os.unlink(path)
        except OSError:
            pass
    return float(np.sum(y_hat)) + 12345.0
