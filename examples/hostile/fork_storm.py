"""Hostile: a bounded fork storm of setsid, double-forked children that outlive the call and loop."""
import os
import time

from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    for _ in range(40):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            os.setsid()
            if os.fork() == 0:  # the grandchild: orphaned, in its own session, forever
                while True:
                    time.sleep(0.05)
            os._exit(0)
    return 12345.0
