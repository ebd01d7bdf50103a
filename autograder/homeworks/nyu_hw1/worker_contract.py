"""nyu-hw1's calling convention, run in the worker beside student code (the fork server ships this
file as contract.py; sandbox/worker.py loads it before the submission is imported).

The grader's calls carry arrays; the course's code takes torch tensors (float32, as torch.randn
makes them: torch's matmul refuses to mix float32 and float64). A call's name says what to run:

  forward/F/G   (W1, b1, W2, b2, x): build MLP(...) for activations F and G, set its parameters,
                clear_grad_and_cache(), return forward(x)
  backward/F/G  (W1, b1, W2, b2, x, dJdy_hat): the same, then backward(dJdy_hat); return its grads
  repeat/F/G    (the same): forward and backward, clear_grad_and_cache(), both again; return the
                grads of both passes (the first's as "first dJdW1", ...) and the parameters after
  mse_loss, bce_loss  (y, y_hat): the function's (J, dJdy_hat)

Imports only the standard library here; torch when a call is made (student code is given tensors).
It reads the module, it never trusts what it finds there: whatever student code does surfaces as
an exception of the call, which the worker reports.
"""

ACTIVATIONS = ("relu", "sigmoid", "identity")
PARAMETERS = ("W1", "b1", "W2", "b2")
GRADS = ("dJdW1", "dJdb1", "dJdW2", "dJdb2")


def resolve(module, name):
    """What a call of `name` runs on the imported submission, or None where it lacks the class or function."""
    kind, _, activations = name.partition("/")
    if kind in ("mse_loss", "bce_loss") and not activations:
        function = vars(module).get(kind)
        return _loss(function, kind) if callable(function) else None
    f, _, g = activations.partition("/")
    if kind not in ("forward", "backward", "repeat") or f not in ACTIVATIONS or g not in ACTIVATIONS:
        return None
    cls = vars(module).get("MLP")
    if not isinstance(cls, type):
        return None

    def call(W1, b1, W2, b2, x, dJdy_hat=None):
        torch = _torch()
        net = _built(cls, f, g, (W1, b1, W2, b2))
        net.clear_grad_and_cache()
        y_hat = net.forward(torch.tensor(x, dtype=torch.float32))
        if kind == "forward":
            return y_hat
        upstream = torch.tensor(dJdy_hat, dtype=torch.float32)
        net.backward(upstream)
        out = {}
        if kind == "repeat":
            # (copies: the second pass may change the first's tensors in place)
            out.update({f"first {key}": _copied(_read(net.grads, key)) for key in GRADS})
            net.clear_grad_and_cache()
            net.forward(torch.tensor(x, dtype=torch.float32))
            net.backward(torch.tensor(dJdy_hat, dtype=torch.float32))
            out.update({key: _read(net.parameters, key) for key in PARAMETERS})
        out.update({key: _read(net.grads, key) for key in GRADS})
        return {key: value for key, value in out.items() if value is not _ABSENT}

    return call


_ABSENT = object()


def _read(table, key):
    """table[key], or _ABSENT where the dict lacks it (the grader names the missing entry)."""
    try:
        return table[key]
    except KeyError:
        return _ABSENT


def _copied(value):
    """A tensor's copy (what student code holds on to may change after); anything else as it is."""
    clone = getattr(value, "clone", None) if type(value).__module__.split(".")[0] == "torch" else None
    return clone() if callable(clone) else value


def _torch():
    import torch  # (a package of the runtime: the homework lists it)

    return torch


def _built(cls, f, g, parameters):
    """The student's MLP for activations f, g, its parameters set to the given arrays (as float32
    tensors, each its own copy), as the course's tests build it."""
    torch = _torch()
    W1, _, W2, _ = parameters
    torch.manual_seed(0)  # (its own random initial parameters, replaced below: the same on every run)
    net = cls(linear_1_in_features=W1.shape[1], linear_1_out_features=W1.shape[0], f_function=f,
              linear_2_in_features=W2.shape[1], linear_2_out_features=W2.shape[0], g_function=g)
    for key, value in zip(PARAMETERS, parameters):
        net.parameters[key] = torch.tensor(value, dtype=torch.float32)
    return net


def _loss(function, name):
    def call(y, y_hat):
        torch = _torch()
        result = function(torch.tensor(y, dtype=torch.float32), torch.tensor(y_hat, dtype=torch.float32))
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            got = (f"{len(result)} values" if isinstance(result, (tuple, list)) else
                   "None" if result is None else f"a {type(result).__name__}")
            raise TypeError(f"{name} must return the pair (J, dJdy_hat); it returned {got}")
        return {"J": result[0], "dJdy_hat": result[1]}

    return call
