"""Example submission: calls sys.exit() at import time (left-over script code)."""

import sys

import numpy as np

print("training my network...")
sys.exit(0)


def affine(x, W, b):
    return W @ x + b
