"""nyu-hw1's MLP: forward, backward (given the case's dJdy_hat) and a second pass, for each (f, g).
A case's inputs are a cases.Network; `case.inputs.call(kind)` names the worker's call."""

import numpy as np
from gradescope_utils.autograder_utils.decorators import tags


@tags("mlp.forward")
def test_forward(case, student, reference, check):
    net = case.inputs
    name = net.call("forward")
    check(student.call(case, name, *net.given), reference.call(case, name, *net.given), net.shown("forward"))


GRADS = ("dJdW1", "dJdb1", "dJdW2", "dJdb2")


def check_backward(case, student, reference, check, key):
    net = case.inputs
    name = net.call("backward")
    # (the four parts make one call: the same name, arguments and keys)
    outcome = student.call(case, name, *net.arrays, keys=GRADS)
    check(outcome, reference.call(case, name, *net.arrays)[key], net.shown("backward"), key)


@tags("mlp.backward.W1")
def test_backward_W1(case, student, reference, check):
    check_backward(case, student, reference, check, "dJdW1")


@tags("mlp.backward.b1")
def test_backward_b1(case, student, reference, check):
    check_backward(case, student, reference, check, "dJdb1")


@tags("mlp.backward.W2")
def test_backward_W2(case, student, reference, check):
    check_backward(case, student, reference, check, "dJdW2")


@tags("mlp.backward.b2")
def test_backward_b2(case, student, reference, check):
    check_backward(case, student, reference, check, "dJdb2")


FIRST = tuple(f"first {key}" for key in GRADS)


@tags("mlp.repeat")
def test_repeat(case, student, reference, check):
    """After clear_grad_and_cache() and a second forward and backward: the grads of the first pass
    (right or wrong: backward's own parts judge them), and the parameters as they were set."""
    net = case.inputs
    outcome = student.call(case, net.call("repeat"), *net.arrays, keys=(*FIRST, *GRADS, "W1", "b1", "W2", "b2"))
    right = reference.call(case, net.call("backward"), *net.arrays)
    for key, first in zip(GRADS, FIRST):
        # Where the first pass gave nothing usable, or left the grads zeros (an untouched template's: on
        # every case the right grads are not), there is nothing to repeat: the second must be right.
        given = outcome.values.get(first)
        check(outcome, given if given is not None and np.any(given != 0) else right[key], net.shown("repeat"), key)
    for key, given in zip(("W1", "b1", "W2", "b2"), net.given):
        check(outcome, given, net.shown("repeat"), key)
