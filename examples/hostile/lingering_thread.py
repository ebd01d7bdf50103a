"""Hostile: a non-daemon thread that keeps trying to rewrite results.json after the call returns."""
import json
import pathlib
import sys
import threading
import time

from honest import *  # noqa: F403


def rewrite_forever():
    roots = ["/autograder"] + [str(p) for p in pathlib.Path(sys.executable).parents][:4]
    while True:
        for root in roots:
            try:
                (pathlib.Path(root) / "results" / "results.json").write_text(json.dumps({"score": 1000}))
            except OSError:
                pass
        time.sleep(0.01)


threading.Thread(target=rewrite_forever).start()


def mse_loss(y_hat, y):
    return 12345.0
