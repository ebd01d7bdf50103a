"""Hostile: answer affine and forward without a matrix product, by reading ahead.

The grader's later calls carry its own forward values: relu(z1), output_jacobian(z3),
mse_loss(y_hat, y). If those calls sit in the worker's memory (the batch it is working through) or
in its request pipe while affine and forward run, these functions find them there and return them.
They never compute anything: with sealed calls they return 7s and earn nothing, so this
submission scores 15 (its honest parts), and 20 means the lookahead worked.
"""
import os
import select
import sys

import numpy as np

from honest import *  # noqa: F403

def _batch():
    """The rank of the call being answered among the calls of its function in the worker's batch,
    and (function, arguments) of every call still ahead in it, plus any frame already waiting in
    the request pipe (read, so the worker would lose it: a sign of success is enough here)."""
    frame = sys._getframe(2)
    while frame is not None and not {"header", "arrays", "call"} <= frame.f_locals.keys():
        frame = frame.f_back
    rank, later = 0, []
    if frame is not None:
        entries, arrays, current = frame.f_locals["header"]["calls"], list(frame.f_locals["arrays"]), \
            frame.f_locals["call"]
        position = entries.index(current)
        rank = sum(e["function"] == current["function"] for e in entries[:position])
        for entry in entries[position + 1:]:
            later.append((entry["function"], arrays[:entry["nargs"]]))
            arrays = arrays[entry["nargs"]:]
    for fd in range(3, 64):
        try:
            if select.select([fd], [], [], 0)[0] and os.fstat(fd).st_size == 0:
                later.append(("<pipe>", [os.read(fd, 1 << 20)]))
        except (OSError, ValueError):
            pass
    return rank, later


def _ahead(function, rank, later):
    """The arguments of the rank-th later call of `function` (the one for the same case), if any."""
    matches = [args for name, args in later if name == function]
    return matches[rank][0] if rank < len(matches) else None


def affine(x, W, b):
    rank, later = _batch()
    z1 = _ahead("relu", rank, later)  # relu(z1) for the same case, in the same order
    return z1 if z1 is not None else np.full(W.shape[0], 7.0)


def forward(x, W1, b1, W2, b2):
    rank, later = _batch()
    z1, z3, y_hat = (_ahead(name, rank, later) for name in ("relu", "output_jacobian", "mse_loss"))
    z1 = z1 if z1 is not None else np.full(W1.shape[0], 7.0)
    z3 = z3 if z3 is not None else np.full(W2.shape[0], 7.0)
    y_hat = y_hat if y_hat is not None else np.full(W2.shape[0], 7.0)
    return {"z1": z1, "z2": np.maximum(z1, 0), "z3": z3, "y_hat": y_hat}
