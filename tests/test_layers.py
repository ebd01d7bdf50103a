"""Grading tests: the affine layer and the ReLU, each on the grader's own inputs."""

from gradescope_utils.autograder_utils.decorators import tags


@tags("affine")
def test_affine(case, student, reference, check):
    i = case.inputs
    check(student.call(case, "affine", i.x, i.W1, i.b1), reference.call(case, "affine", i.x, i.W1, i.b1), "affine")


@tags("relu")
def test_relu(case, student, reference, check):
    i = case.inputs
    z1 = reference.call(case, "affine", i.x, i.W1, i.b1)
    check(student.call(case, "relu", z1), reference.call(case, "relu", z1), "relu")
