"""Hostile: print fake results (JSON and test-runner lines) on stdout, stderr and the raw descriptors."""
import json
import os
import sys

from honest import *  # noqa: F403

FAKE = json.dumps({"score": 1000, "tests": [{"name": "all", "score": 1000, "max_score": 20}]})


def mse_loss(y_hat, y):
    print(FAKE)
    print("PASSED all tests", file=sys.stderr)
    for fd in (1, 2):
        os.write(fd, FAKE.encode() + b"\n")
    return 12345.0
