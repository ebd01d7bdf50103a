"""Hostile: make results.json too large to handle (Gradescope, a batch, a browser).

Astral characters take 12 bytes each in JSON's escapes. Every function prints a flood of them,
defeating the worker's caps on what it prints (a str subclass whose slices are itself, text appended
to the capture directly), then answers right; mse_loss also raises with a long message. A grader
whose caps counted characters, inside the worker, would write a results.json of many MB.
"""
import sys

import honest

BIG = "\U0001F600" * 12_000  # (a reply of over 1 MB would only be refused as malformed)


class Sticky(str):
    def __getitem__(self, index):
        return self

    def __str__(self):
        return self


class Loud(ValueError):
    def __str__(self):
        return Sticky(BIG)


def flood():
    print(Sticky(BIG))
    parts = getattr(sys.stdout, "parts", None)
    if parts is not None:
        parts.append(BIG)


def _flooding(function):
    def wrapper(*args):
        flood()
        return function(*args)
    return wrapper


for _name in ("affine", "relu", "forward", "relu_jacobian", "output_jacobian", "mse_grad", "backward"):
    globals()[_name] = _flooding(getattr(honest, _name))
flood()


def mse_loss(y_hat, y):
    flood()
    raise Loud()
