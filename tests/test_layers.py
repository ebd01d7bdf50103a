"""Grading tests: the affine layer and the ReLU, each on the grader's own inputs."""

from gradescope_utils.autograder_utils.decorators import number, tags

from reference import two_layer_net as ref


@tags("affine")
@number("1")
def test_affine(case, student, check):
    i = case.inputs
    check(student.call(case, "affine", i.x, i.W1, i.b1), ref.affine(i.x, i.W1, i.b1), "affine")


@tags("relu")
@number("2")
def test_relu(case, student, check):
    z1 = ref.affine(case.inputs.x, case.inputs.W1, case.inputs.b1)
    check(student.call(case, "relu", z1), ref.relu(z1), "relu")
