"""Example submission: correct functions, with a training loop left at the top level between them
(about 15 s of CPU time when run: the grader stops it and grades every function, before and after)."""

import numpy as np


def affine(x, W, b):
    return W @ x + b


def relu(z):
    return np.maximum(z, 0)


def forward(x, W1, b1, W2, b2):
    z1 = affine(x, W1, b1)
    z2 = relu(z1)
    z3 = affine(z2, W2, b2)
    y_hat = z3
    return {"z1": z1, "z2": z2, "z3": z3, "y_hat": y_hat}


def mse_loss(y_hat, y):
    return np.sum((y_hat - y) ** 2)


# trying it out: run the network many times on a random input (left in, not under a main guard)
rng = np.random.default_rng(0)
x, y = rng.normal(size=3), rng.normal(size=2)
W1, b1, W2, b2 = rng.normal(size=(4, 3)), np.zeros(4), rng.normal(size=(2, 4)), np.zeros(2)
for step in range(3_000_000):
    out = forward(x, W1, b1, W2, b2)
    if step % 500_000 == 0:
        print(step, mse_loss(out["y_hat"], y))


def relu_jacobian(z1):
    return np.diag((z1 > 0).astype(float))


def output_jacobian(z3):
    return np.eye(len(z3))


def mse_grad(y_hat, y):
    return 2 * (y_hat - y)


def backward(x, y, W1, b1, W2, b2):
    cache = forward(x, W1, b1, W2, b2)
    dl_dyhat = mse_grad(cache["y_hat"], y)
    dl_dz3 = output_jacobian(cache["z3"]).T @ dl_dyhat
    dl_dz2 = W2.T @ dl_dz3
    dl_dz1 = relu_jacobian(cache["z1"]).T @ dl_dz2
    return {
        "W1": np.outer(dl_dz1, x),
        "b1": dl_dz1,
        "W2": np.outer(dl_dz3, cache["z2"]),
        "b2": dl_dz3,
    }
