"""Grading tests: the loss and its gradient dl/dy_hat, on the reference y_hat."""

import numpy as np
from gradescope_utils.autograder_utils.decorators import tags


def _y_hat(case, reference):
    i = case.inputs
    return reference.call(case, "forward", i.x, *i.params)["y_hat"]


@tags("loss")
def test_loss(case, student, reference, check):
    y_hat, y = _y_hat(case, reference), case.inputs.y
    check(student.call(case, "mse_loss", y_hat, y), np.array(reference.call(case, "mse_loss", y_hat, y)), "mse_loss")


@tags("mse_grad")
def test_mse_grad(case, student, reference, check):
    y_hat, y = _y_hat(case, reference), case.inputs.y
    check(student.call(case, "mse_grad", y_hat, y), reference.call(case, "mse_grad", y_hat, y), "mse_grad")
