"""Regions of source code that a learner writes, marked in barenet's own files.

A region is the block of lines between two marker comments, at the indentation
of the code it holds::

    def forward(self, x):
        \"\"\"... shapes ...\"\"\"
        # >>> exercise: sigmoid_forward
        ...barenet's implementation...
        # <<< exercise

The solution kit keeps the lines and drops the markers; the starter kit puts a
``# TODO`` block in their place that raises ``NotImplementedError``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# >>> exercise: (?P<name>[\w.]+)[ \t]*$")
END = re.compile(r"^[ \t]*# <<< exercise[ \t]*$")


@dataclass(frozen=True)
class Region:
    """One marked region of a text.

    Attributes
    ----------
    name : str
        The name after ``# >>> exercise:``.
    indent : str
        The indentation of the opening marker (that of the region's code).
    begin, end : int
        Line indices of the opening and closing markers.
    """

    name: str
    indent: str
    begin: int
    end: int


def find_regions(lines: list[str]) -> list[Region]:
    """The marked regions of ``lines``, in order.

    Raises
    ------
    ValueError
        For a region opened inside another, closed without being opened, or never closed.
    """
    regions, opened = [], None
    for index, line in enumerate(lines):
        begin = BEGIN.match(line)
        if begin:
            if opened is not None:
                raise ValueError(f"line {index + 1}: region {begin['name']!r} opens inside another")
            opened = (begin["name"], begin["indent"], index)
        elif END.match(line):
            if opened is None:
                raise ValueError(f"line {index + 1}: '# <<< exercise' closes no region")
            regions.append(Region(*opened, index))
            opened = None
    if opened is not None:
        raise ValueError(f"region {opened[0]!r} is never closed")
    return regions


def rewrite_regions(text: str, rewrite: Callable[[Region, list[str]], list[str]]) -> str:
    """Replace each region, markers included, by ``rewrite(region, its code lines)``."""
    lines = text.splitlines(keepends=True)
    out, position = [], 0
    for region in find_regions(lines):
        out += lines[position : region.begin]
        out += rewrite(region, lines[region.begin + 1 : region.end])
        position = region.end + 1
    return "".join(out + lines[position:])


def keep_solutions(text: str) -> str:
    """``text`` with its markers removed and every region's code kept."""
    return rewrite_regions(text, lambda region, code: code)


def todo_block(indent: str, title: str, task: str, label: str) -> list[str]:
    """The lines that stand for an unwritten region.

    Parameters
    ----------
    indent : str
        Indentation of the block.
    title : str
        What to write, e.g. ``"Sigmoid.forward"``.
    task : str
        The task in a few sentences; wrapped into comment lines.
    label : str
        Where the code goes, for the error message.
    """
    comment = textwrap.wrap(task, width=88 - len(indent) - 4)
    lines = [f"{indent}# TODO: {title}.\n"]
    lines += [f"{indent}#   {line}\n" for line in comment]
    lines += [
        f"{indent}raise NotImplementedError(\n",
        f'{indent}    "{title} is not implemented yet: {label}"\n',
        f"{indent})\n",
    ]
    return lines


def stub_regions(text: str, tasks: dict[str, tuple[str, str]], label: str) -> str:
    """``text`` with every region replaced by its TODO block.

    Parameters
    ----------
    tasks : dict
        Region name to ``(title, task)``; every region of ``text`` must have one.
    label : str
        Where the learner writes the code, e.g. ``"write it in exercise_code/networks/layer.py"``.
    """

    def stub(region: Region, code: list[str]) -> list[str]:
        if region.name not in tasks:
            raise KeyError(f"no task text for the region {region.name!r}")
        title, task = tasks[region.name]
        return todo_block(region.indent, title, task, label)

    return rewrite_regions(text, stub)


def region_source(text: str, name: str) -> list[str]:
    """The lines of the region ``name``, markers included, dedented.

    Raises
    ------
    KeyError
        When ``text`` has no region of that name.
    """
    lines = text.splitlines(keepends=True)
    for region in find_regions(lines):
        if region.name == name:
            return textwrap.dedent("".join(lines[region.begin : region.end + 1])).splitlines(
                keepends=True
            )
    raise KeyError(f"no region {name!r}")
