"""Student text made harmless for each medium it goes out in: pure functions, one per medium.

Student code chooses the text of its exception messages, its prints, its file names, and (in an
export) its display name. Wherever such text leaves the grader it passes through one of these:

- Markdown (Gradescope's test outputs, `output_format: md`): only inside code, a fenced block
  (`markdown_block`) or an inline code span (`markdown_span`), whose delimiter is longer than any
  run of backticks in the text, so nothing in it can close the code and become a heading, a
  link, an image or HTML;
- the terminal (`terminal`): every control character but newline and tab, and the Unicode
  controls that reorder or hide text, shown as a visible escape (`\\x1b`), so no sequence can
  move the cursor, clear the screen or repaint a table;
- CSV (`csv_cell`): a cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
  `@`, tab or carriage return) is prefixed with `'` (OWASP's rule), control characters escaped.

HTML goes through `html.escape` where the report is written.
"""

from __future__ import annotations

import re

# --- shared with the students' selfcheck.py (handout.py copies it in): stdlib only ---
# C0 controls but tab and newline, DEL, C1 controls; the bidirectional and invisible controls that
# reorder or hide what a terminal shows (Trojan Source: U+061C, U+200B-U+200F, U+202A-U+202E,
# U+2060-U+2069, U+FEFF)
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str) -> str:
    """`text` safe to print: control characters other than newline and tab shown as escapes."""
    return _TERMINAL_UNSAFE.sub(_visible, text)


# --- end of the part shared with selfcheck.py ---

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def one_line(text: str) -> str:
    """`text` on one line, for the terminal: newlines and tabs escaped too."""
    return terminal(text.replace("\\", "\\\\")).replace("\n", "\\n").replace("\t", "\\t")


def csv_cell(text: str) -> str:
    """A text cell no spreadsheet runs as a formula: control characters (newlines too) escaped, and
    a cell starting with `=`, `+`, `-`, `@`, tab or carriage return prefixed with `'`."""
    prefix = "'" if text.startswith(_FORMULA_START) else ""
    return prefix + _CONTROL.sub(_visible, text)


def _longest_run(text: str) -> int:
    """The longest run of backticks in `text`."""
    return max((len(run) for run in re.findall("`+", text)), default=0)


def markdown_block(text: str, info: str = "text") -> str:
    """A fenced code block holding `text` verbatim: its fence is longer than any run of backticks
    in the text, so no line of it can close the block."""
    fence = "`" * max(3, _longest_run(text) + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def markdown_span(text: str) -> str:
    """An inline code span holding `text` (on one line: a newline would end a list item): delimited
    by more backticks than any run in it, padded where it starts or ends with a backtick."""
    text = " ".join(text.replace("\r", " ").split("\n"))
    if not text:
        return ""
    ticks = "`" * (_longest_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
