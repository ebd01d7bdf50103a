"""Hostile: allocate until memory runs out."""
from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    hog = []
    while True:
        hog.append(bytearray(50 * 1024 * 1024))
