"""Hostile: an ndarray subclass whose comparisons and ufuncs all lie."""
import numpy as np

from honest import *  # noqa: F403


class Liar(np.ndarray):
    def __eq__(self, other):
        return True

    def __array_ufunc__(self, *args, **kwargs):
        return True

    def __array_function__(self, *args, **kwargs):
        return True

    def __sub__(self, other):
        return np.zeros(1)


def mse_loss(y_hat, y):
    return np.full((), 12345.0).view(Liar)
