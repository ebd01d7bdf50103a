"""nyu-hw1's losses, each returning (J, dJdy_hat). A case's inputs are a cases.Targets."""

from gradescope_utils.autograder_utils.decorators import tags


def check_loss(case, student, reference, check, function, key):
    t = case.inputs
    # (J and dJdy_hat are one call)
    outcome = student.call(case, function, t.y, t.y_hat, keys=("J", "dJdy_hat"))
    check(outcome, reference.call(case, function, t.y, t.y_hat)[key], function, key)


@tags("mlp.mse_loss")
def test_mse_loss(case, student, reference, check):
    check_loss(case, student, reference, check, "mse_loss", "J")


@tags("mlp.mse_grad")
def test_mse_grad(case, student, reference, check):
    check_loss(case, student, reference, check, "mse_loss", "dJdy_hat")


@tags("mlp.bce_loss")
def test_bce_loss(case, student, reference, check):
    check_loss(case, student, reference, check, "bce_loss", "J")


@tags("mlp.bce_grad")
def test_bce_grad(case, student, reference, check):
    check_loss(case, student, reference, check, "bce_loss", "dJdy_hat")
