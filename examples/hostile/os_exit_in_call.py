"""Hostile: os._exit(0) inside a call, hoping the grader takes a clean exit as a pass."""
import os

from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    os._exit(0)
