"""Text from a submission made safe to show: no escape sequences, no control characters.

Everything a submission controls (its file name, its exception messages, the
keys of its pickle) passes through :func:`clean_text` before it reaches a
terminal, a CSV, a JSON report or Gradescope, so a message cannot rewrite lines,
hide output or set the clipboard.
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and
# two-character escapes; also the 8-bit CSI and OSC introducers.
ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x9c]*[\x07\x9c]?"
)


def clean_text(text: object) -> str:
    """``text`` without escape sequences or control characters (line breaks become spaces)."""
    text = ESCAPE_SEQUENCE.sub("", str(text))
    return "".join(c if c.isprintable() else (" " if c in "\n\r\t" else "") for c in text)
