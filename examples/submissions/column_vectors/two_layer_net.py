"""Example submission: correct, but every vector is returned as a column (m, 1) and the loss as a (1, 1) array."""

import numpy as np


def col(v):
    return np.asarray(v, dtype=float).reshape(-1, 1)


def affine(x, W, b):
    return W @ col(x) + col(b)


def relu(z):
    return np.maximum(col(z), 0)


def forward(x, W1, b1, W2, b2):
    z1 = affine(x, W1, b1)
    z2 = relu(z1)
    z3 = affine(z2, W2, b2)
    return {"z1": z1, "z2": z2, "z3": z3, "y_hat": z3}


def mse_loss(y_hat, y):
    d = col(y_hat) - col(y)
    return d.T @ d


def relu_jacobian(z1):
    return np.diagflat(col(z1) > 0).astype(float)


def output_jacobian(z3):
    return np.eye(col(z3).shape[0])


def mse_grad(y_hat, y):
    return 2 * (col(y_hat) - col(y))


def backward(x, y, W1, b1, W2, b2):
    cache = forward(x, W1, b1, W2, b2)
    delta3 = output_jacobian(cache["z3"]).T @ mse_grad(cache["y_hat"], y)
    delta1 = relu_jacobian(cache["z1"]).T @ (W2.T @ delta3)
    return {"W1": delta1 @ col(x).T, "b1": delta1, "W2": delta3 @ cache["z2"].T, "b2": delta3}
