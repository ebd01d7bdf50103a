"""Hostile (a folder): files that would steer a pytest run graded in this folder's company.

Its mse_loss is wrong (the honest parts come from honest.py, beside it). Every other file here
tries to make pytest pass what fails: if any of them is collected, read or imported by the pytest
process that grades this upload, the loss items pass, a results.json with full marks is written
and /tmp/autograder-pwned appears.
"""

from honest import *  # noqa: F403


def mse_loss(y_hat, y):
    return -1.0
