# A typical mistake: backward leaves out g's derivative (right only where g is the identity).
import torch


class MLP:
    def __init__(
        self,
        linear_1_in_features,
        linear_1_out_features,
        f_function,
        linear_2_in_features,
        linear_2_out_features,
        g_function
    ):
        self.f_function = f_function
        self.g_function = g_function

        self.parameters = dict(
            W1 = torch.randn(linear_1_out_features, linear_1_in_features),
            b1 = torch.randn(linear_1_out_features),
            W2 = torch.randn(linear_2_out_features, linear_2_in_features),
            b2 = torch.randn(linear_2_out_features),
        )
        self.grads = dict(
            dJdW1 = torch.zeros(linear_1_out_features, linear_1_in_features),
            dJdb1 = torch.zeros(linear_1_out_features),
            dJdW2 = torch.zeros(linear_2_out_features, linear_2_in_features),
            dJdb2 = torch.zeros(linear_2_out_features),
        )

        # put all the cache value you need in self.cache
        self.cache = dict()

    def activate(self, name, z):
        if name == "relu":
            return torch.where(z > 0, z, torch.zeros_like(z))
        if name == "sigmoid":
            return 1 / (1 + torch.exp(-z))
        return z

    def slope(self, name, z, out):
        # derivative of the activation at z; out = activation(z)
        if name == "relu":
            return (z > 0).float()
        if name == "sigmoid":
            return out * (1 - out)
        return torch.ones_like(z)

    def forward(self, x):
        """
        Args:
            x: tensor shape (batch_size, linear_1_in_features)
        """
        W1, b1 = self.parameters["W1"], self.parameters["b1"]
        W2, b2 = self.parameters["W2"], self.parameters["b2"]
        s1 = torch.matmul(x, W1.t()) + b1
        a1 = self.activate(self.f_function, s1)
        s2 = torch.matmul(a1, W2.t()) + b2
        y_hat = self.activate(self.g_function, s2)
        self.cache["x"], self.cache["s1"], self.cache["a1"] = x, s1, a1
        self.cache["s2"], self.cache["y_hat"] = s2, y_hat
        return y_hat

    def backward(self, dJdy_hat):
        """
        Args:
            dJdy_hat: The gradient tensor of shape (batch_size, linear_2_out_features)
        """
        c = self.cache
        dJds2 = dJdy_hat  # g's derivative left out
        self.grads["dJdW2"] = torch.matmul(dJds2.t(), c["a1"])
        self.grads["dJdb2"] = torch.sum(dJds2, dim=0)
        dJda1 = torch.matmul(dJds2, self.parameters["W2"])
        dJds1 = dJda1 * self.slope(self.f_function, c["s1"], c["a1"])
        self.grads["dJdW1"] = torch.matmul(dJds1.t(), c["x"])
        self.grads["dJdb1"] = torch.sum(dJds1, dim=0)

    def clear_grad_and_cache(self):
        for grad in self.grads:
            self.grads[grad].zero_()
        self.cache = dict()


def mse_loss(y, y_hat):
    """
    Args:
        y: the label tensor (batch_size, linear_2_out_features)
        y_hat: the prediction tensor (batch_size, linear_2_out_features)

    Return:
        J: scalar of loss
        dJdy_hat: The gradient tensor of shape (batch_size, linear_2_out_features)
    """
    n = y.shape[0] * y.shape[1]
    diff = y_hat - y
    loss = torch.sum(diff * diff) / n
    dJdy_hat = 2 * diff / n
    return loss, dJdy_hat


def bce_loss(y, y_hat):
    """
    Args:
        y_hat: the prediction tensor
        y: the label tensor

    Return:
        loss: scalar of loss
        dJdy_hat: The gradient tensor of shape (batch_size, linear_2_out_features)
    """
    n = y.shape[0] * y.shape[1]
    loss = -torch.sum(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)) / n
    dJdy_hat = (-y / y_hat + (1 - y) / (1 - y_hat)) / n
    return loss, dJdy_hat
