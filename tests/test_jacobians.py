"""Grading tests: the local Jacobians dz2/dz1 (ReLU) and dy_hat/dz3 (identity output)."""

from gradescope_utils.autograder_utils.decorators import tags


@tags("relu_jacobian")
def test_relu_jacobian(case, student, reference, check):
    i = case.inputs
    z1 = reference.call(case, "affine", i.x, i.W1, i.b1)
    check(student.call(case, "relu_jacobian", z1), reference.call(case, "relu_jacobian", z1), "relu_jacobian")


@tags("output_jacobian")
def test_output_jacobian(case, student, reference, check):
    i = case.inputs
    z3 = reference.call(case, "forward", i.x, *i.params)["z3"]
    check(student.call(case, "output_jacobian", z3), reference.call(case, "output_jacobian", z3), "output_jacobian")
