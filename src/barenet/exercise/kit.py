"""Writing an exercise kit: the learner's starter folder or the teacher's solutions.

Each exercise's files are templates shipped with barenet
(``barenet/exercise/kits/<folder>/``). Python templates take their code from
barenet's own modules (see :mod:`barenet.exercise.includes`); the regions the
exercise asks for become ``# TODO`` blocks in the starter kit and stay written in the
solution kit, and regions of other exercises stay written in both.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from barenet.exercise.catalog import DEFAULT_EXERCISE, Exercise, all_tasks, get_exercise
from barenet.exercise.includes import expand
from barenet.exercise.regions import Region, rewrite_regions, todo_block

if TYPE_CHECKING:
    from importlib.abc import Traversable

SKIPPED = {"__pycache__", ".ipynb_checkpoints"}


def template_files(
    root: Traversable | None = None, prefix: str = ""
) -> list[tuple[str, Traversable]]:
    """Every template file as ``(path relative to the kit, resource)``, sorted.

    ``root`` defaults to the first exercise's templates.
    """
    if root is None:
        root = templates_root(get_exercise(DEFAULT_EXERCISE))
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


def templates_root(exercise: Exercise) -> Traversable:
    """The folder of ``exercise``'s templates."""
    return resources.files("barenet.exercise") / "kits" / exercise.folder


def tidy(text: str) -> str:
    """At most two blank lines in a row, and one newline at the end."""
    return re.sub(r"\n{4,}", "\n\n\n", text).rstrip("\n") + "\n"


def render_regions(
    text: str, exercise: Exercise, relative: str, solutions: bool, seen: set[str]
) -> str:
    """``text`` with the exercise's regions as TODO blocks (unless ``solutions``).

    Every region's name is added to ``seen``; a region of another exercise keeps its
    code. A region that no exercise asks for raises ``KeyError``.
    """
    known = all_tasks()

    def rewrite(region: Region, code: list[str]) -> list[str]:
        if region.name not in known:
            raise KeyError(f"no task text for the region {region.name!r}")
        seen.add(region.name)
        if solutions or region.name not in exercise.tasks:
            return code
        title, task = exercise.tasks[region.name]
        return todo_block(region.indent, title, task, f"write it in {relative}")

    return rewrite_regions(text, rewrite)


def render_python(
    template: str, relative: str, solutions: bool, exercise: Exercise, seen: set[str]
) -> str:
    """The kit's version of one Python template.

    Parameters
    ----------
    template : str
        The template's text, directives included.
    relative : str
        The file's path in the kit, named in the starter's error messages.
    solutions : bool
        Keep the learner's regions written (True) or put TODO blocks there.
    exercise : Exercise
        Whose regions are the learner's.
    seen : set of str
        Collects the names of the regions met.
    """
    text = expand(template, solutions)
    text = tidy(render_regions(text, exercise, relative, solutions, seen))
    compile(text, relative, "exec")  # a broken template must fail here, not in class
    return text


def write_kit(
    dest: str | os.PathLike,
    solutions: bool = False,
    overwrite: bool = False,
    exercise: str = DEFAULT_EXERCISE,
) -> Path:
    """Write an exercise folder into ``dest``.

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
    exercise : str
        Which exercise (see :data:`barenet.exercise.catalog.EXERCISES`).

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    FileExistsError
        When ``dest`` holds files and ``overwrite`` is False.
    ValueError
        For an unknown exercise.
    """
    chosen = get_exercise(exercise)
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise FileExistsError(f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise FileExistsError(f"{dest} is not empty; choose a new folder")
    seen: set[str] = set()
    rendered = {}
    for relative, resource in template_files(templates_root(chosen)):
        if relative.endswith(".py"):
            text = resource.read_text(encoding="utf-8")
            rendered[relative] = render_python(text, relative, solutions, chosen, seen).encode()
        else:
            rendered[relative] = resource.read_bytes()
    missing = sorted(set(chosen.tasks) - seen)
    if missing:  # a task whose code no template includes: the kit would lack it
        raise ValueError(f"{chosen.name}: no kit file holds the region(s) {', '.join(missing)}")
    for relative, content in rendered.items():
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return dest
