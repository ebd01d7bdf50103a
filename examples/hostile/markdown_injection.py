"""Hostile: make Gradescope's Markdown render a fake score, images, HTML and links from student text.

Test outputs are Markdown. Every text this code controls carries Markdown and HTML: an exception
message with newlines (a heading, bold, an image, a javascript: link, raw HTML), prints that try to
close the code block they are shown in, and a returned object whose conversion error says the same.
If any of it rendered outside code, the results page would say "All tests passed" to student and staff.
"""
from honest import *  # noqa: F403

PAYLOAD = ("\n\n# PWNED All tests passed: 20/20\n\n**PWNED Score: 20.0 / 20.0**\n\n"
           "![PWNED](https://evil.example/pixel.png) <img src=x onerror=alert('PWNED')>\n\n"
           "[PWNED click](javascript:alert(1)) <https://evil.example/PWNED>\n\n"
           "<div>PWNED html block</div>\n\n| PWNED | table |\n|---|---|\n\n- PWNED list\n\n> PWNED quote\n")
_count = [0]


class Unconvertible:
    def __array__(self, *args, **kwargs):
        raise TypeError(PAYLOAD)

    def __len__(self):
        raise TypeError(PAYLOAD)


def mse_loss(y_hat, y):
    _count[0] += 1
    print("````\n```\n~~~" + PAYLOAD + "\n````````````````````")
    if _count[0] % 2:
        raise ValueError("`" + PAYLOAD + "``` ````")
    return Unconvertible()
