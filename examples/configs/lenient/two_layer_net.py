"""A correct solution under the lenient conventions: the Jacobians' diagonals as vectors, the ReLU's
derivative taken as 1 at z1 = 0 (a subgradient), the loss a sum."""

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
    """dz2/dz1 as a vector: the i-th element is 1 if z1_i >= 0, else 0."""
    return (z1 >= 0).astype(float)


def output_jacobian(z3):
    """dy_hat/dz3 as a vector: the identity's diagonal."""
    return np.ones(len(z3))


def mse_grad(y_hat, y):
    return 2 * (y_hat - y)


def backward(x, y, W1, b1, W2, b2):
    cache = forward(x, W1, b1, W2, b2)
    dl_dz3 = output_jacobian(cache["z3"]) * mse_grad(cache["y_hat"], y)  # elementwise: the Jacobians are diagonal
    dl_dz1 = relu_jacobian(cache["z1"]) * (W2.T @ dl_dz3)
    return {"W1": np.outer(dl_dz1, x), "b1": dl_dz1, "W2": np.outer(dl_dz3, cache["z2"]), "b2": dl_dz3}
