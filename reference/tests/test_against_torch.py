"""The reference solution against torch autograd, an independent oracle, over many shapes and edge cases."""

import numpy as np
import pytest

from autograder.core.cases import all_dead, exact_fit, visible_cases, zeros_in_z1
from autograder.grading.hidden import hidden_cases
from reference import two_layer_net as ref

torch = pytest.importorskip("torch")


def torch_forward_backward(i):
    """Forward values, loss and parameter gradients computed by torch autograd in float64."""
    x, y = torch.tensor(i.x), torch.tensor(i.y)
    params = {name: torch.tensor(getattr(i, name), requires_grad=True) for name in ("W1", "b1", "W2", "b2")}
    z1 = params["W1"] @ x + params["b1"]
    z2 = torch.relu(z1)  # its derivative at exactly 0 is 0, as the homework specifies
    z3 = params["W2"] @ z2 + params["b2"]
    loss = ((z3 - y) ** 2).sum()
    loss.backward()
    forward = {"z1": z1, "z2": z2, "z3": z3, "y_hat": z3}
    return ({k: v.detach().numpy() for k, v in forward.items()}, loss.item(),
            {k: p.grad.numpy() for k, p in params.items()})


def jacobian(fn, at):
    return torch.autograd.functional.jacobian(fn, torch.tensor(at)).numpy()


SHAPES = [(1, 1, 1), (1, 5, 3), (6, 1, 2), (4, 3, 1), (3, 4, 2), (7, 5, 3), (16, 32, 10), (2, 64, 1)]


def all_inputs():
    rng = np.random.default_rng(2024)
    out = [c.inputs for c in visible_cases() + hidden_cases("oracle", "0", 12)]
    for n, h, k in SHAPES:
        for scale in (1e-3, 1.0, 1e3):
            out.append(_random(rng, n, h, k, scale))
        out.append(zeros_in_z1(int(rng.integers(1 << 30)), n, max(h, 2), k))
        out.append(all_dead(int(rng.integers(1 << 30)), n, h, k))
        out.append(exact_fit(int(rng.integers(1 << 30)), n, h, k))
    return out


def _random(rng, n, h, k, scale):
    from autograder.core.cases import Inputs
    return Inputs(*(scale * rng.standard_normal(s) for s in ((n,), (h, n), (h,), (k, h), (k,), (k,))))


INPUTS = all_inputs()


@pytest.mark.parametrize("i", INPUTS, ids=[f"{n}x{h}x{k}-{j}" for j, (n, h, k) in
                                          enumerate(i.shape for i in INPUTS)])
def test_reference_matches_torch_autograd(i):
    forward, loss, grads = torch_forward_backward(i)
    ours = ref.forward(i.x, *i.params)
    for key in ("z1", "z2", "z3", "y_hat"):
        np.testing.assert_allclose(ours[key], forward[key], rtol=1e-12, atol=0, err_msg=key)
    np.testing.assert_allclose(ref.mse_loss(ours["y_hat"], i.y), loss, rtol=1e-12)
    theirs = ref.backward(i.x, i.y, *i.params)
    for key in ("W1", "b1", "W2", "b2"):
        assert theirs[key].shape == getattr(i, key).shape
        scale = max(1.0, np.abs(grads[key]).max())
        np.testing.assert_allclose(theirs[key], grads[key], rtol=1e-10, atol=1e-12 * scale, err_msg=key)


@pytest.mark.parametrize("i", INPUTS[::3])
def test_local_derivatives_match_torch(i):
    ours = ref.forward(i.x, *i.params)
    np.testing.assert_array_equal(ref.relu_jacobian(ours["z1"]), jacobian(torch.relu, ours["z1"]))
    np.testing.assert_array_equal(ref.output_jacobian(ours["z3"]), jacobian(lambda z: z, ours["z3"]))
    loss_grad = jacobian(lambda yh: ((yh - torch.tensor(i.y)) ** 2).sum(), ours["y_hat"])
    np.testing.assert_allclose(ref.mse_grad(ours["y_hat"], i.y), loss_grad, rtol=1e-12)
    np.testing.assert_allclose(ref.affine(i.x, i.W1, i.b1), ours["z1"], rtol=0)
    np.testing.assert_array_equal(ref.relu(ours["z1"]), ours["z2"])


def test_exact_zeros_in_z1_have_zero_derivative_and_block_the_gradient():
    i = zeros_in_z1(7)
    z1 = ref.forward(i.x, *i.params)["z1"]
    zero = z1 == 0
    assert zero.sum() >= 2
    assert np.all(np.diag(ref.relu_jacobian(z1))[zero] == 0)
    _, _, grads = torch_forward_backward(i)
    assert np.all(ref.backward(i.x, i.y, *i.params)["b1"][zero] == 0)
    assert np.all(grads["b1"][zero] == 0)
    # the trap the case is built for: dl/dz2 is non-zero exactly where z1 is 0
    dl_dz2 = i.W2.T @ ref.mse_grad(ref.forward(i.x, *i.params)["y_hat"], i.y)
    assert np.all(dl_dz2[zero] != 0)


def _torch_convention(i, loss: str, at_zero: int):
    """Loss and gradients under other conventions: PyTorch's own mse_loss (a mean) and a ReLU whose
    derivative at exactly 0 is 1 (torch.where passes the gradient to the branch it takes)."""
    x, y = torch.tensor(i.x), torch.tensor(i.y)
    params = {name: torch.tensor(getattr(i, name), requires_grad=True) for name in ("W1", "b1", "W2", "b2")}
    z1 = params["W1"] @ x + params["b1"]
    z2 = torch.where(z1 >= 0, z1, torch.zeros_like(z1)) if at_zero else torch.relu(z1)
    z3 = params["W2"] @ z2 + params["b2"]
    value = torch.nn.functional.mse_loss(z3, y, reduction=loss)
    value.backward()
    relu = (lambda z: torch.where(z >= 0, z, torch.zeros_like(z))) if at_zero else torch.relu
    return value.item(), {k: p.grad.numpy() for k, p in params.items()}, z1.detach().numpy(), relu


@pytest.mark.parametrize("loss, at_zero", [("mean", 0), ("sum", 1), ("mean", 1)])
def test_each_convention_matches_torch_autograd(loss, at_zero):
    for i in INPUTS[::2]:
        value, grads, z1, relu = _torch_convention(i, loss, at_zero)
        y_hat = ref.forward(i.x, *i.params)["y_hat"]
        np.testing.assert_allclose(ref.mse_loss(y_hat, i.y, loss=loss), value, rtol=1e-12)
        ours = ref.backward(i.x, i.y, *i.params, loss=loss, at_zero=at_zero)
        for key in ("W1", "b1", "W2", "b2"):
            scale = max(1.0, np.abs(grads[key]).max())
            np.testing.assert_allclose(ours[key], grads[key], rtol=1e-10, atol=1e-12 * scale, err_msg=key)
        full = jacobian(relu, z1)
        np.testing.assert_array_equal(ref.relu_jacobian(z1, at_zero=at_zero), full)
        np.testing.assert_array_equal(ref.relu_jacobian(z1, at_zero=at_zero, form="diagonal"), np.diag(full))
        np.testing.assert_array_equal(ref.output_jacobian(y_hat, form="diagonal"), np.ones_like(y_hat))
        target = torch.tensor(i.y)
        grad = jacobian(lambda yh, target=target: torch.nn.functional.mse_loss(yh, target, reduction=loss), y_hat)
        np.testing.assert_allclose(ref.mse_grad(y_hat, i.y, loss=loss), grad, rtol=1e-12)
