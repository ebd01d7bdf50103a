"""Hostile: publish the hidden inputs through what the hidden tests show once they are visible.

mse_loss prints its inputs and raises an exception whose message (and whose type's name) holds them:
a grader that showed a hidden call's prints or messages in the hidden tests' output would publish
every hidden input to whoever reads them after the due date (a classmate with a later deadline).
"""
from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    leaked = "LEAKED-" + "_".join(f"{v:.6f}".replace("-", "m").replace(".", "p") for v in list(y_hat) + list(y))
    print(leaked)
    raise type(leaked.replace("-", "_"), (ValueError,), {})(leaked)
