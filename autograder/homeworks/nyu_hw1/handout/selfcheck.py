"""Self-check for homework 1 (the MLP): run it before you upload mlp.py to Gradescope.

It checks your mlp.py part by part, with the autograder's part ids and its comparison rule:
  - MLP.forward against torch's own layers (torch.nn.functional.linear and the activations);
  - backward's grads against finite differences of the network's output (no autograd), given an
    upstream gradient dJdy_hat of its own, as the autograder gives backward one;
  - mse_loss and bce_loss: J against torch's losses, dJdy_hat against finite differences of J;
  - a second forward and backward after clear_grad_and_cache(): the same grads, the parameters as set.
Each check runs on random inputs for every (f, g) your course grades, with a batch of one and a
batch of several. For a failing part it names the likely cause where the numbers alone tell it
(the autograder's rule: that cause gives every answer of yours, and a wrong one on two cases).
Gradescope also runs cases of its own, visible and hidden: passing here is necessary, not
sufficient. Nothing here holds an answer: only torch's layers and numbers.

How to run it (Python 3.9+ with numpy and torch), from a terminal in this folder:
    python selfcheck.py              checks mlp.py beside it
    python selfcheck.py path/to/mlp.py
Options: --json (the verdicts as JSON, for tools). Exit status: 0 when every check passes, 1
otherwise, 2 when the file cannot be found or imported.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re  # (for terminal(), copied in below)
import signal
import sys
import traceback
from pathlib import Path

import numpy as np
import torch

# The course's choices, written in when the handout was built (python -m autograder handout).
FINGERPRINT = "000000000000"
LOSS = "mean"  # "mean" (torch's: over the batch and the outputs), "batch_mean", "sum"
ACTIVATIONS = [["relu", "identity"]]  # the (f, g) graded
TOLERANCE = {}  # part id -> [rtol, atol]: the autograder's

# === what makes text safe to print, the autograder's own (filled in when the handout is built) ===

PARTS = [
    ("mlp.forward", "MLP.forward: y_hat"),
    ("mlp.backward.W1", "MLP.backward: grads['dJdW1']"),
    ("mlp.backward.b1", "MLP.backward: grads['dJdb1']"),
    ("mlp.backward.W2", "MLP.backward: grads['dJdW2']"),
    ("mlp.backward.b2", "MLP.backward: grads['dJdb2']"),
    ("mlp.mse_loss", "mse_loss: J"),
    ("mlp.mse_grad", "mse_loss: dJdy_hat"),
    ("mlp.bce_loss", "bce_loss: J"),
    ("mlp.bce_grad", "bce_loss: dJdy_hat"),
    ("mlp.repeat", "MLP: the same grads after clear_grad_and_cache() and a second pass"),
]
GRADS = ["dJdW1", "dJdb1", "dJdW2", "dJdb2"]
NAMES = ["W1", "b1", "W2", "b2"]
SIZES = [(1, 3, 4, 2), (5, 4, 6, 3)]  # (batch, in, hidden, out)
SECONDS = 30  # for all the checks of one part (where the system can stop them: not on Windows)


class Failed(Exception):
    """A check's verdict: what is wrong, in a line, and its likely cause (None: none known)."""

    def __init__(self, message: str, cause: str | None = None):
        super().__init__(message)
        self.cause = cause


def as_array(value) -> np.ndarray:
    return np.asarray(value.detach().numpy() if hasattr(value, "detach") else value, dtype=np.float64)


def agrees(received, expected, part: str) -> bool:
    try:
        close(received, expected, part, "")
    except Failed:
        return False
    return True


def judged(part: str, seen: list) -> None:
    """seen: (what, received, right, {cause: the answer it gives}) of each case. Fails on the first
    wrong answer, naming the cause that gives every answer received and a wrong one on two cases at
    least (the autograder's rule), if one does."""
    wrong = [(what, received, right) for what, received, right, _ in seen if not agrees(received, right, part)]
    if not wrong:
        return
    cause = next((c for c in seen[0][3] if all(c in causes and agrees(received, causes[c], part)
                                               for _, received, _, causes in seen)
                  and sum(not agrees(causes[c], right, part) for _, _, right, causes in seen) >= 2), None)
    what, received, right = wrong[0]
    try:
        close(received, right, part, what)
    except Failed as e:
        raise Failed(str(e), cause) from None


def close(received, expected, part: str, what: str) -> None:
    """The autograder's rule: |r - e| <= rtol |e| + atol max|e|, elementwise, shapes equal."""
    received = as_array(received)
    expected = np.asarray(expected, dtype=np.float64)
    if received.shape != expected.shape:
        raise Failed(f"{what}: shape {received.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(received)):
        raise Failed(f"{what}: not finite")
    rtol, atol = TOLERANCE.get(part, [1e-4, 1e-4])
    bound = rtol * np.abs(expected) + atol * (np.max(np.abs(expected)) if expected.size else 0.0)
    bad = np.abs(received - expected) > bound
    if np.any(bad):
        where = np.unravel_index(int(np.argmax(np.where(bad, np.abs(received - expected), -1))), expected.shape)
        raise Failed(f"{what}: at {list(map(int, where))}, {received[where]:.6g} instead of {expected[where]:.6g}")


def activation(name, z):
    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda v: v}[name](z)


def network_output(f, g, params, x):
    """y_hat by torch's own layers, in float64."""
    W1, b1, W2, b2 = params
    return activation(g, torch.nn.functional.linear(activation(f, torch.nn.functional.linear(x, W1, b1)), W2, b2))


def numerical_gradient(function, value: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d function / d value by central differences, in float64."""
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        up, down = value.copy(), value.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (function(up) - function(down)) / (2 * h)
    return grad


def random_network(rng, f, g, sizes):
    """float32 parameters, x and dJdy_hat, with no pre-activation near a kink of relu (finite
    differences step over it) and, so a relu network's answers are not all zero, some alive."""
    batch, n, h, k = sizes
    while True:
        values = [rng.standard_normal(shape).astype(np.float32).astype(np.float64)
                  for shape in ((h, n), (h,), (k, h), (k,), (batch, n), (batch, k))]
        W1, b1, W2, b2, x, d = values
        linear = torch.nn.functional.linear
        z1 = linear(*map(torch.tensor, (x, W1, b1))).numpy()
        z3 = linear(activation(f, torch.tensor(z1)), torch.tensor(W2), torch.tensor(b2)).numpy()
        if np.min(np.abs(z1)) > 1e-3 and np.min(np.abs(z3)) > 1e-3 and np.any(z1 > 0) and np.any(z3 > 0):
            return (W1, b1, W2, b2), x, d


def student_network(module, f, g, params, x):
    """The student's MLP, its parameters set (float32 tensors, as the autograder sets them)."""
    W1, _, W2, _ = params
    net = module.MLP(linear_1_in_features=W1.shape[1], linear_1_out_features=W1.shape[0], f_function=f,
                     linear_2_in_features=W2.shape[1], linear_2_out_features=W2.shape[0], g_function=g)
    for name, value in zip(NAMES, params):
        net.parameters[name] = torch.tensor(value, dtype=torch.float32)
    net.clear_grad_and_cache()
    return net


def check_network(module, part: str, rng) -> None:
    seen = []
    for f, g in ACTIVATIONS:
        for sizes in SIZES:
            params, x, d = random_network(rng, f, g, sizes)
            what = f"f={f}, g={g}, batch {sizes[0]}"
            net = student_network(module, f, g, params, x)
            y_hat = net.forward(torch.tensor(x, dtype=torch.float32))
            if part == "mlp.forward":
                expected = network_output(f, g, [torch.tensor(p) for p in params], torch.tensor(x)).numpy()
                close(y_hat, expected, part, what)
                continue
            net.backward(torch.tensor(d, dtype=torch.float32))
            first = {key: np.array(net.grads[key].detach().numpy(), dtype=np.float64) for key in GRADS}
            if part == "mlp.repeat":
                net.clear_grad_and_cache()
                net.forward(torch.tensor(x, dtype=torch.float32))
                net.backward(torch.tensor(d, dtype=torch.float32))
                for key, name, given in zip(GRADS, NAMES, params):
                    if not np.any(first[key] != 0):  # (zeros: nothing to repeat; the right grads must come)
                        first[key] = right_grad(f, g, params, x, d, NAMES.index(name))
                    close(net.grads[key], first[key], part, f"{what}, second pass: grads['{key}']")
                    close(net.parameters[name], given, part, f"{what}, second pass: parameters['{name}']")
                continue
            index = ["mlp.backward.W1", "mlp.backward.b1", "mlp.backward.W2", "mlp.backward.b2"].index(part)
            right = right_grad(f, g, params, x, d, index)
            causes = {"g's derivative left out": right_grad(f, "identity", params, x, d, index),
                      "averaged over the batch, not summed": right / x.shape[0],
                      "divided by dJdy_hat's size": right / d.size}
            if right.ndim == 2:
                causes["transposed"] = right.T
            seen.append((f"{what}: grads['{GRADS[index]}']", as_array(net.grads[GRADS[index]]), right, causes))
    judged(part, seen)


def right_grad(f, g, params, x, d, index):
    """d sum(dJdy_hat * y_hat) / d params[index], by finite differences of torch's layers."""
    def total(value):
        changed = [torch.tensor(p) for p in params]
        changed[index] = torch.tensor(value)
        return float((torch.tensor(d) * network_output(f, g, changed, torch.tensor(x))).sum())
    return numerical_gradient(total, params[index])


def torch_loss(name: str, y, y_hat, reduction: str = LOSS) -> float:
    loss = torch.nn.functional.mse_loss if name == "mse" else torch.nn.functional.binary_cross_entropy
    total = float(loss(torch.tensor(y_hat), torch.tensor(y), reduction="sum"))
    return total / {"mean": y.size, "batch_mean": y.shape[0], "sum": 1}[reduction]


def check_loss(module, part: str, rng, j_right: bool = False) -> None:
    """j_right: the J of this part's loss passed (a dJdy_hat without the 1/n is named only then)."""
    name = part.split(".")[1].split("_")[0]  # mlp.mse_grad -> mse
    seen = []
    for batch, k in ((1, 3), (6, 2), (4, 3)):
        y = rng.uniform(0, 1, (batch, k)).astype(np.float32).astype(np.float64)
        y_hat = rng.uniform(0.05, 0.95, (batch, k)).astype(np.float32).astype(np.float64)
        result = getattr(module, f"{name}_loss")(torch.tensor(y, dtype=torch.float32),
                                                 torch.tensor(y_hat, dtype=torch.float32))
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Failed(f"{name}_loss must return the pair (J, dJdy_hat)")
        what = f"batch {batch}, {k} outputs"
        others = [r for r in ("mean", "batch_mean", "sum") if r != LOSS]
        if part.endswith("_loss"):
            right = np.asarray(torch_loss(name, y, y_hat))
            causes = {**({"half the MSE": right / 2} if name == "mse" else {}),
                      **{f"reduced by {r}": np.asarray(torch_loss(name, y, y_hat, r)) for r in others}}
            seen.append((f"{what}: J", as_array(result[0]), right, causes))
            continue

        def gradient(reduction, y=y, y_hat=y_hat):
            return numerical_gradient(lambda v: torch_loss(name, y, v, reduction), y_hat)

        right = gradient(LOSS)
        causes = {**({"half the MSE": right / 2} if name == "mse" else {}),
                  **({"dJdy_hat without the loss's 1/n": gradient("sum")} if j_right and LOSS != "sum" else {}),
                  **{f"reduced by {r}": gradient(r) for r in others}, "sign flipped": -right}
        seen.append((f"{what}: dJdy_hat", as_array(result[1]), right, causes))
    judged(part, seen)


def within(seconds: int, function, *args) -> None:
    """function(*args), stopped after `seconds` where the system has SIGALRM."""
    if not hasattr(signal, "SIGALRM"):
        return function(*args)

    def stop(signum, frame):
        raise Failed(f"took longer than {seconds} s (an endless loop?)")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        return function(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def check(path: Path) -> tuple[dict, dict]:
    """({part id: None (passed) or what is wrong}, {failing part id: its likely cause, where one is known})."""
    spec = importlib.util.spec_from_file_location("mlp", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(module)
    verdicts, causes = {}, {}
    for part, _ in PARTS:
        rng = np.random.default_rng(sum(map(ord, part)))
        try:
            if "_loss" in part or "_grad" in part:
                j_part = part.replace("_grad", "_loss")
                within(SECONDS, check_loss, module, part, rng, j_part != part and verdicts.get(j_part) is None)
            else:
                within(SECONDS, check_network, module, part, rng)
            verdicts[part] = None
        except Failed as e:
            verdicts[part] = str(e)
            if e.cause:
                causes[part] = e.cause
        except Exception as e:  # noqa: BLE001 - the student's code raised: say what and where
            frames = traceback.extract_tb(e.__traceback__)
            line = next((f"line {fr.lineno}" for fr in reversed(frames) if Path(fr.filename) == path), "")
            verdicts[part] = f"raised {type(e).__name__}: {e}" + (f" ({line} of {path.name})" if line else "")
    return verdicts, causes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check mlp.py before you upload it.")
    parser.add_argument("path", nargs="?", default=str(Path(__file__).resolve().parent / "mlp.py"))
    parser.add_argument("--json", action="store_true", help="the verdicts as JSON")
    args = parser.parse_args(argv)
    path = Path(args.path).resolve()
    if not path.is_file():
        print(terminal(f"no file {path}"), file=sys.stderr)
        return 2
    try:
        verdicts, causes = check(path)
    except Exception as e:  # noqa: BLE001 - importing the file failed
        print(terminal(f"{path.name} could not be imported: {type(e).__name__}: {e}"), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"fingerprint": FINGERPRINT, "parts": {p: v is None for p, v in verdicts.items()},
                          "problems": {p: v for p, v in verdicts.items() if v}, "causes": causes}))
    else:
        # (what a submission's code said, or its file's name, is shown with its control characters escaped)
        print(terminal(f"Self-check of {path.name} (autograder fingerprint {FINGERPRINT})"))
        for part, title in PARTS:
            print(terminal(f"  {'ok  ' if verdicts[part] is None else 'FAIL'}  {title}" +
                           (f"\n        {verdicts[part]}" if verdicts[part] else "") +
                           (f"\n        likely cause: {causes[part]}" if part in causes else "")))
        failed = sum(v is not None for v in verdicts.values())
        print("Every check passed." if not failed else f"{failed} of {len(PARTS)} parts failed.")
    return 0 if all(v is None for v in verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
