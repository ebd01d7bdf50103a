"""Hostile: kill the parent, the process group, and everything it may signal."""
import os
import signal

from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    for attempt in (lambda: os.kill(os.getppid(), signal.SIGKILL),
                    lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL),
                    lambda: os.kill(1, signal.SIGKILL),
                    lambda: os.kill(-1, signal.SIGKILL)):
        try:
            attempt()
        except OSError:
            pass
    return 12345.0
