"""The toy homework's one grading test."""

from gradescope_utils.autograder_utils.decorators import tags


@tags("dot")
def test_dot(case, student, reference, check):
    i = case.inputs
    # (the call "dot" reaches Dot().dot through the contract; the verdict names the class)
    check(student.call(case, "dot", i.a, i.b), reference.call(case, "dot", i.a, i.b), "Dot")
