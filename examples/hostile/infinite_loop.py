"""Hostile: an infinite loop that ignores every catchable signal."""
import signal

from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM, signal.SIGXCPU):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        pass
