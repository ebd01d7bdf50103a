"""Example submission: the Jacobians returned as their diagonals (vectors), used elementwise in backward."""

import numpy as np


def affine(x, W, b):
    return W @ x + b


def relu(z):
    return np.maximum(z, 0)


def forward(x, W1, b1, W2, b2):
    z1 = affine(x, W1, b1)
    z2 = relu(z1)
    z3 = affine(z2, W2, b2)
    return {"z1": z1, "z2": z2, "z3": z3, "y_hat": z3}


def mse_loss(y_hat, y):
    return np.sum((y_hat - y) ** 2)


def relu_jacobian(z1):
    return (z1 > 0).astype(float)


def output_jacobian(z3):
    return np.ones_like(z3)


def mse_grad(y_hat, y):
    return 2 * (y_hat - y)


def backward(x, y, W1, b1, W2, b2):
    cache = forward(x, W1, b1, W2, b2)
    dz3 = output_jacobian(cache["z3"]) * mse_grad(cache["y_hat"], y)
    dz1 = relu_jacobian(cache["z1"]) * (W2.T @ dz3)
    return {"W1": np.outer(dz1, x), "b1": dz1, "W2": np.outer(dz3, cache["z2"]), "b2": dz3}
