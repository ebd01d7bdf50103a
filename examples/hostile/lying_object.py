"""Hostile: a plain object that claims to equal anything and to be any float."""
from honest import *  # noqa: F403


class Anything:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 12345.0

    def __abs__(self):
        return 0.0

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__

    def __lt__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        raise TypeError("no")


def mse_loss(y_hat, y):
    return Anything()
