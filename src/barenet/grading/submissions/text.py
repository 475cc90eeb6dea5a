"""Text from a submission made safe to show: bounded, no escapes, no control characters.

Everything a submission controls (its file name, its exception messages, the
keys of its pickle) passes through :func:`clean_text` before it reaches a
terminal, a CSV, a JSON report or Gradescope: escape sequences and control
characters are removed, so a message cannot rewrite lines, hide output or set
the clipboard; runs of whitespace become one space, so padding cannot push a
forged ``Score: 100/100`` onto a line of its own; and the length is bounded.
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and
# two-character escapes; also the 8-bit CSI and OSC introducers.
ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x9c]*[\x07\x9c]?"
)


WHITESPACE_RUN = re.compile(r"\s+")
MAX_TEXT_CHARS = 2000  # one cleaned text (a reason, a test's line), at most
INDENT = "  "  # the grader's own indentation of advice lines is kept


def clean_text(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` without escapes or control characters, whitespace collapsed, at most ``limit`` long.

    Line breaks, tabs and other whitespace become single spaces; a leading
    two-space indent is kept.
    """
    text = ESCAPE_SEQUENCE.sub("", str(text)[: 4 * limit])  # bounded work, whatever the input
    text = "".join(c if c.isprintable() else (" " if c.isspace() else "") for c in text)
    indent = INDENT if text.startswith(INDENT) else ""
    text = indent + WHITESPACE_RUN.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 4] + " ..."
