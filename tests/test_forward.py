"""Grading tests: each output of forward(x, W1, b1, W2, b2) is its own part."""

from gradescope_utils.autograder_utils.decorators import tags

from autograder.homeworks.two_layer_net import HOMEWORK

DICT_KEYS = HOMEWORK.dict_keys


def check_forward(case, student, reference, check, key):
    i = case.inputs
    outcome = student.call(case, "forward", i.x, *i.params, keys=DICT_KEYS["forward"])
    check(outcome, reference.call(case, "forward", i.x, *i.params)[key], "forward", key)


@tags("forward.z1")
def test_forward_z1(case, student, reference, check):
    check_forward(case, student, reference, check, "z1")


@tags("forward.z2")
def test_forward_z2(case, student, reference, check):
    check_forward(case, student, reference, check, "z2")


@tags("forward.z3")
def test_forward_z3(case, student, reference, check):
    check_forward(case, student, reference, check, "z3")


@tags("forward.y_hat")
def test_forward_y_hat(case, student, reference, check):
    check_forward(case, student, reference, check, "y_hat")


