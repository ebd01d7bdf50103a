"""Homework: a two-layer neural network in numpy.

Network: z1 = W1 x + b1 (Affine1), z2 = relu(z1), z3 = W2 z2 + b2 (Affine2), y_hat = z3 (identity).
Loss: l = ||y_hat - y||^2 (a sum of squares, not a mean).

Shapes: x (n,), W1 (h, n), b1 (h,), W2 (k, h), b2 (k,), y (k,).
Implement every function below; do not rename them or change their arguments.
"""

import numpy as np


def affine(x, W, b):
    """Return W @ x + b. x (m,), W (p, m), b (p,) -> (p,)."""
    raise NotImplementedError


def relu(z):
    """Return max(z, 0) elementwise, same shape as z."""
    raise NotImplementedError


def forward(x, W1, b1, W2, b2):
    """Return a dict with keys "z1" (h,), "z2" (h,), "z3" (k,), "y_hat" (k,)."""
    raise NotImplementedError


def mse_loss(y_hat, y):
    """Return the scalar ||y_hat - y||^2."""
    raise NotImplementedError


def relu_jacobian(z1):
    """Return dz2/dz1, the (h, h) matrix diag(1[z1 > 0]). The derivative at exactly 0 is 0."""
    raise NotImplementedError


def output_jacobian(z3):
    """Return dy_hat/dz3 for the identity output: the (k, k) identity matrix."""
    raise NotImplementedError


def mse_grad(y_hat, y):
    """Return dl/dy_hat = 2 (y_hat - y), shape (k,)."""
    raise NotImplementedError


def backward(x, y, W1, b1, W2, b2):
    """Return a dict with keys "W1", "b1", "W2", "b2": dl/dparameter, each the shape of its parameter."""
    raise NotImplementedError
