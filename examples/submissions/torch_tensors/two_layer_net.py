"""Example submission: correct, computed with torch and returning torch tensors (gradients by hand)."""

import torch


def t(a):
    return torch.as_tensor(a, dtype=torch.float64)


def affine(x, W, b):
    return t(W) @ t(x) + t(b)


def relu(z):
    return torch.clamp(t(z), min=0)


def forward(x, W1, b1, W2, b2):
    z1 = affine(x, W1, b1)
    z2 = relu(z1)
    z3 = affine(z2, W2, b2)
    return {"z1": z1, "z2": z2, "z3": z3, "y_hat": z3}


def mse_loss(y_hat, y):
    return ((t(y_hat) - t(y)) ** 2).sum()


def relu_jacobian(z1):
    return torch.diag((t(z1) > 0).double())


def output_jacobian(z3):
    return torch.eye(t(z3).shape[0], dtype=torch.float64)


def mse_grad(y_hat, y):
    return 2 * (t(y_hat) - t(y))


def backward(x, y, W1, b1, W2, b2):
    cache = forward(x, W1, b1, W2, b2)
    dz3 = output_jacobian(cache["z3"]).T @ mse_grad(cache["y_hat"], y)
    dz1 = relu_jacobian(cache["z1"]).T @ (t(W2).T @ dz3)
    return {"W1": torch.outer(dz1, t(x)), "b1": dz1, "W2": torch.outer(dz3, cache["z2"]), "b2": dz3}
