"""Hostile: every function raises SystemExit(0): nothing is honest, so nothing may score."""
import sys


def _bye(*args):
    sys.exit(0)


affine = relu = forward = mse_loss = relu_jacobian = output_jacobian = mse_grad = backward = _bye
