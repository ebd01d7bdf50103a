"""Hostile: open internet sockets (to exfiltrate, or download an answer)."""
import socket

import numpy as np

from honest import *  # noqa: F403
from honest import mse_loss as honest_loss


def mse_loss(y_hat, y):
    opened = 0
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.socket(family, socket.SOCK_DGRAM).close()
            opened += 1
        except OSError:
            pass
    return honest_loss(y_hat, y) if opened else np.array(12345.0)
