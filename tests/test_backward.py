"""Grading tests: each gradient returned by backward(x, y, W1, b1, W2, b2) is its own part."""

from gradescope_utils.autograder_utils.decorators import tags

from autograder.homeworks.two_layer_net import HOMEWORK

DICT_KEYS = HOMEWORK.dict_keys


def check_backward(case, student, reference, check, key):
    i = case.inputs
    outcome = student.call(case, "backward", i.x, i.y, *i.params, keys=DICT_KEYS["backward"])
    check(outcome, reference.call(case, "backward", i.x, i.y, *i.params)[key], "backward", key)


@tags("grad.W1")
def test_grad_W1(case, student, reference, check):
    check_backward(case, student, reference, check, "W1")


@tags("grad.b1")
def test_grad_b1(case, student, reference, check):
    check_backward(case, student, reference, check, "b1")


@tags("grad.W2")
def test_grad_W2(case, student, reference, check):
    check_backward(case, student, reference, check, "W2")


@tags("grad.b2")
def test_grad_b2(case, student, reference, check):
    check_backward(case, student, reference, check, "b2")
