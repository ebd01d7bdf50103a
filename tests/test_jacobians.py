"""Grading tests: the local Jacobians dz2/dz1 (ReLU) and dy_hat/dz3 (identity output)."""

from gradescope_utils.autograder_utils.decorators import number, tags

from reference import two_layer_net as ref


@tags("relu_jacobian")
@number("8")
def test_relu_jacobian(case, student, check):
    z1 = ref.affine(case.inputs.x, case.inputs.W1, case.inputs.b1)
    check(student.call(case, "relu_jacobian", z1), ref.relu_jacobian(z1), "relu_jacobian")


@tags("output_jacobian")
@number("9")
def test_output_jacobian(case, student, check):
    i = case.inputs
    z3 = ref.forward(i.x, *i.params)["z3"]
    check(student.call(case, "output_jacobian", z3), ref.output_jacobian(z3), "output_jacobian")
