"""Writing the exercise kit: the learner's starter folder or the teacher's solutions.

The kit's files are templates shipped with barenet (``barenet/exercise/kit/``).
Python templates take their code from barenet's own modules (see
:mod:`barenet.exercise.includes`); the regions a learner writes become ``# TODO``
blocks in the starter kit and stay written in the solution kit.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from barenet.exercise.includes import expand
from barenet.exercise.regions import keep_solutions, stub_regions
from barenet.exercise.tasks import TASKS

if TYPE_CHECKING:
    from importlib.abc import Traversable

SKIPPED = {"__pycache__", ".ipynb_checkpoints"}


def template_files(
    root: Traversable | None = None, prefix: str = ""
) -> list[tuple[str, Traversable]]:
    """Every template file as ``(path relative to the kit, resource)``, sorted."""
    root = resources.files("barenet.exercise") / "kit" if root is None else root
    found = []
    for entry in root.iterdir():
        if entry.name in SKIPPED or entry.name.endswith(".pyc"):
            continue
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            found += template_files(entry, relative + "/")
        else:
            found.append((relative, entry))
    return sorted(found)


def tidy(text: str) -> str:
    """At most two blank lines in a row, and one newline at the end."""
    return re.sub(r"\n{4,}", "\n\n\n", text).rstrip("\n") + "\n"


def render_python(template: str, relative: str, solutions: bool) -> str:
    """The kit's version of one Python template.

    Parameters
    ----------
    template : str
        The template's text, directives included.
    relative : str
        The file's path in the kit, named in the starter's error messages.
    solutions : bool
        Keep the learner's regions written (True) or put TODO blocks there.
    """
    text = expand(template, solutions)
    if solutions:
        text = keep_solutions(text)
    else:
        text = stub_regions(text, TASKS, f"write it in {relative}")
    text = tidy(text)
    compile(text, relative, "exec")  # a broken template must fail here, not in class
    return text


def write_kit(dest: str | os.PathLike, solutions: bool = False, overwrite: bool = False) -> Path:
    """Write the exercise folder into ``dest``.

    Parameters
    ----------
    dest : str or PathLike
        The folder to create; it may exist if it is empty.
    solutions : bool
        Write the teacher's kit, with every exercise region filled in by barenet's
        own code, instead of the learner's starter kit.
    overwrite : bool
        Allow writing into a folder that already holds files (the kit's files are
        replaced, others are kept).

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    FileExistsError
        When ``dest`` holds files and ``overwrite`` is False.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise FileExistsError(f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise FileExistsError(f"{dest} is not empty; choose a new folder")
    for relative, resource in template_files():
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative.endswith(".py"):
            text = render_python(resource.read_text(encoding="utf-8"), relative, solutions)
            target.write_text(text, encoding="utf-8")
        else:
            target.write_bytes(resource.read_bytes())
    return dest
