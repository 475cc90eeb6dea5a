"""Progress bars, with one rule for every bar barenet draws.

A bar redraws itself with ``\\r``: on a terminal or in a Jupyter notebook that is a
line that moves, in a log file or a pipe it is noise. So a bar is drawn only where its
updates are seen as one line (:func:`interactive`), whatever asked for it: the
Solver's epoch bar, the image decoding, a download and ``barenet tune``'s trials.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO, Any


def interactive(stream: IO | None = None) -> bool:
    """Whether ``stream`` (default ``sys.stderr``) shows ``\\r`` updates as one line: a
    terminal, or a notebook's output (ipykernel's stream, which is no terminal)."""
    stream = sys.stderr if stream is None else stream
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    return type(stream).__module__.split(".")[0] == "ipykernel"


def progress_bar(iterable: Iterable | None = None, *, enabled: bool = True, **options: Any):
    """A tqdm bar on ``sys.stderr`` (``options`` are tqdm's: ``total``, ``desc``, ``unit``,
    ...), disabled unless ``enabled`` and :func:`interactive`. A disabled bar still counts
    and iterates, and prints nothing."""
    from tqdm import tqdm  # the text bar: works in terminals and notebooks alike

    return tqdm(iterable, disable=not (enabled and interactive()), **options)
