"""A solution of NYU Deep Learning's homework 1 as a student hands it in (torch tensors, no autograd):
the reference the nyu-hw1 grader's smoke test and `pytest tests/` grade. The grader computes its
answers in numpy (autograder/homeworks/nyu_hw1/answers.py); this file is read as text, never imported."""

import torch


def _activation(name, z):
    if name == "relu":
        return torch.clamp(z, min=0)
    if name == "sigmoid":
        return torch.sigmoid(z)
    return z


def _derivative(name, z):
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s)
    return torch.ones_like(z)


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function, linear_2_in_features,
                 linear_2_out_features, g_function):
        self.f_function = f_function
        self.g_function = g_function
        self.parameters = dict(
            W1=torch.randn(linear_1_out_features, linear_1_in_features),
            b1=torch.randn(linear_1_out_features),
            W2=torch.randn(linear_2_out_features, linear_2_in_features),
            b2=torch.randn(linear_2_out_features),
        )
        self.grads = dict(
            dJdW1=torch.zeros(linear_1_out_features, linear_1_in_features),
            dJdb1=torch.zeros(linear_1_out_features),
            dJdW2=torch.zeros(linear_2_out_features, linear_2_in_features),
            dJdb2=torch.zeros(linear_2_out_features),
        )
        self.cache = dict()

    def forward(self, x):
        """x (batch, in) -> y_hat (batch, out)."""
        p = self.parameters
        z1 = x @ p["W1"].T + p["b1"]
        z2 = _activation(self.f_function, z1)
        z3 = z2 @ p["W2"].T + p["b2"]
        self.cache = dict(x=x, z1=z1, z2=z2, z3=z3)
        return _activation(self.g_function, z3)

    def backward(self, dJdy_hat):
        """dJdy_hat (batch, out): fills self.grads, summed over the batch."""
        c, p = self.cache, self.parameters
        dz3 = dJdy_hat * _derivative(self.g_function, c["z3"])
        dz1 = (dz3 @ p["W2"]) * _derivative(self.f_function, c["z1"])
        self.grads["dJdW2"] += dz3.T @ c["z2"]
        self.grads["dJdb2"] += dz3.sum(dim=0)
        self.grads["dJdW1"] += dz1.T @ c["x"]
        self.grads["dJdb1"] += dz1.sum(dim=0)

    def clear_grad_and_cache(self):
        for grad in self.grads:
            self.grads[grad].zero_()
        self.cache = dict()


def mse_loss(y, y_hat):
    """The mean over the batch and the outputs, as torch.nn.functional.mse_loss."""
    loss = ((y_hat - y) ** 2).mean()
    dJdy_hat = 2 * (y_hat - y) / y.numel()
    return loss, dJdy_hat


def bce_loss(y, y_hat):
    """The mean over the batch and the outputs, as torch.nn.functional.binary_cross_entropy."""
    loss = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()
    dJdy_hat = (y_hat - y) / (y_hat * (1 - y_hat)) / y.numel()
    return loss, dJdy_hat
