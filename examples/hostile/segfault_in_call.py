"""Hostile: a segmentation fault inside a call."""
import ctypes

from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    ctypes.string_at(0)
