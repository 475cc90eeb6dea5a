"""``barenet check``: run the exercise suite on a learner's own source files.

The files are imported in this process (it is the learner's own code on their
own machine; nothing is sandboxed here). They may be given one by one
(``layer.py optimizer.py``) or as a folder laid out as the course's
``exercise_code/``: the exercise's names are then found across its files.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import itertools
import os
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from barenet.grading.engine.results import SuiteResult
from barenet.grading.local.in_process import run_exercise_suite
from barenet.grading.sandboxed.exercise_names import (
    ALL_KEYS,
    DEFAULT_EXERCISE,
    GRADED_EXERCISES,
    key_for,
)

SKIPPED_FOLDERS = {"tests", "__pycache__", ".ipynb_checkpoints", ".git"}

_counter = itertools.count()


def load_module_from_path(path: str | os.PathLike, search: Iterable[Path] = ()) -> ModuleType:
    """Import the Python file at ``path`` as a fresh module.

    Parameters
    ----------
    path : path of a ``.py`` file
    search : folders put on ``sys.path`` while it runs (its own folder always is),
        so that it can import its siblings and its package.

    Raises
    ------
    FileNotFoundError
        When ``path`` is not a file.
    Exception
        Whatever executing the module raises.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not a file")
    # A unique name, so that checking two files called layer.py does not mix them up.
    name = f"barenet_check_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up here
    folders = [str(path.parent), *map(str, search)]
    sys.path[:0] = folders
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        for folder in folders:
            sys.path.remove(folder)
    return module


def python_files(folder: Path) -> list[Path]:
    """The ``.py`` files under ``folder``, without tests and caches, sorted."""
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS)
        files += [Path(root) / n for n in sorted(names) if n.endswith(".py")]
    return files


def defined_here(module: ModuleType, name: str) -> bool:
    """True when ``module.name`` was written in that module (not imported into it)."""
    obj = getattr(module, name)
    owner = getattr(
        obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj), "__module__", None
    )
    return owner == module.__name__


def merge_exercise_names(modules: Iterable[ModuleType]) -> dict[str, object]:
    """The exercise's names across ``modules``; a name defined in a module beats an imported one."""
    merged: dict[str, object] = {}
    imported: dict[str, object] = {}
    for module in modules:
        for name in ALL_KEYS:
            if not hasattr(module, name):
                continue
            target = merged if defined_here(module, name) else imported
            target.setdefault(name, getattr(module, name))
    return {**imported, **merged}


def barenet_notes(namespace: dict[str, object]) -> list[str]:
    """Point out exercise names that are barenet's own objects rather than the learner's."""
    notes = []
    for name, obj in namespace.items():
        module = getattr(
            obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj), "__module__", ""
        )
        if isinstance(module, str) and (module == "barenet" or module.startswith("barenet.")):
            notes.append(f"{name} is barenet's own (from {module}), not an implementation of yours")
    return notes


def package_root_parent(path: Path) -> Path:
    """The folder above the outermost package holding ``path`` (e.g. above ``exercise_code/``).

    Putting it on ``sys.path`` lets the learner's files import each other as the
    course's do (``from exercise_code.networks.layer import ...``).
    """
    folder = path if path.is_dir() else path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


def package_module(path: Path) -> tuple[Path, str] | None:
    """``(folder to put on sys.path, dotted name)`` of a file inside a package, else None.

    ``exercise_code/networks/layer.py`` is ``exercise_code.networks.layer``, so that its
    relative imports (``from .layer import Relu``) work as they do in the notebook.
    """
    if not (path.parent / "__init__.py").is_file():
        return None
    top = package_root_parent(path)
    parts = path.relative_to(top).with_suffix("").parts
    parts = parts[:-1] if parts[-1] == "__init__" else parts
    return (top, ".".join(parts)) if all(p.isidentifier() for p in parts) else None


@contextmanager
def fresh_packages(files: Iterable[Path]) -> Iterator[None]:
    """Import the packages of ``files`` afresh, then put back what ``sys.modules`` held.

    A package of the same name imported before (another kit, the notebook's own) must
    neither be checked in place of these files nor be replaced for the caller.
    """
    tops = {found[1].split(".")[0] for found in map(package_module, files) if found}
    saved = {n: m for n, m in sys.modules.items() if n.split(".")[0] in tops}
    for name in saved:
        del sys.modules[name]
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] in tops]:
            del sys.modules[name]
        sys.modules.update(saved)


def import_learner_file(path: Path, search: Iterable[Path] = ()) -> ModuleType:
    """Import ``path`` under its package's name when it is in a package, else as a file."""
    found = package_module(path.resolve())
    if found is None:
        return load_module_from_path(path, search)
    top, name = found
    sys.path.insert(0, str(top))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(top))


def import_failure_note(exc: BaseException, file: Path, root: Path) -> str:
    """``could not import F: Error: message``, F being the learner's file that failed.

    A broken ``layer.py`` also stops every file that imports it: the note names the
    file where the error is, so that it reads the same for each of them.
    """
    where = file
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve().is_relative_to(root):
            where = Path(frame.filename)
    if isinstance(exc, SyntaxError) and exc.filename:  # raised compiling, not running, it
        where = Path(exc.filename)
    where = where.resolve()
    shown = where.relative_to(root) if where.is_relative_to(root) else file.relative_to(root)
    return f"could not import {shown}: {type(exc).__name__}: {exc}"


def load_paths(paths: Iterable[str | os.PathLike]) -> tuple[list[ModuleType], list[str]]:
    """Import the given files and the files of the given folders.

    Files inside a package are imported as its modules. Returns the modules and, for
    folders, one note per distinct import failure (a file given by name that cannot
    be imported raises).
    """
    modules, notes = [], []
    for path in map(Path, paths):
        if path.is_dir():
            root = path.resolve()
            files = python_files(root)
            with fresh_packages(files):
                for file in files:
                    try:
                        modules.append(import_learner_file(file, [root, package_root_parent(root)]))
                    except (Exception, SystemExit) as exc:
                        note = import_failure_note(exc, file, root)
                        notes += [note] if note not in notes else []
        else:
            with fresh_packages([path.resolve()]):
                modules.append(import_learner_file(path, [package_root_parent(path.resolve())]))
    return modules, notes


def detect_exercise(namespace: dict[str, object]) -> str:
    """The exercise of which ``namespace`` defines the most parts (the first one on a tie)."""
    found = {
        name: sum(key_for(namespace, part) is not None for part in parts)
        for name, parts in GRADED_EXERCISES.items()
    }
    best = max(found.values())
    return DEFAULT_EXERCISE if found[DEFAULT_EXERCISE] == best else max(found, key=found.get)


def exercise_names(namespace: dict[str, object], exercise: str) -> dict[str, object]:
    """The entries of ``namespace`` that ``exercise`` tests (a kit imports others freely)."""
    keys = (key_for(namespace, part) for part in GRADED_EXERCISES[exercise])
    return {key: namespace[key] for key in keys if key is not None}


def check_paths(
    paths: Iterable[str | os.PathLike],
    verbose: bool = True,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
    exercise: str | None = None,
) -> SuiteResult:
    """Import the files (or folders of files) and run an exercise's suite on their names.

    ``exercise`` (one of ``GRADED_EXERCISES``) defaults to the one whose names the
    files define the most of.
    """
    modules, notes = load_paths(paths)
    namespace = merge_exercise_names(modules)
    exercise = detect_exercise(namespace) if exercise is None else exercise
    result = run_exercise_suite(
        namespace,
        verbose=False,
        convention=convention,
        strict=strict,
        seed=seed,
        exercise=exercise,
    )
    result = SuiteResult(
        result.groups,
        result.missing,
        result.found,
        tuple(notes + barenet_notes(exercise_names(namespace, exercise))),
        result.seed,
    )
    if verbose:
        print("\n".join(result.lines()))
    return result


def check_file(path: str | os.PathLike, verbose: bool = True, **options) -> SuiteResult:
    """Import ``path`` and run the whole exercise suite on the names it defines."""
    return check_paths([path], verbose=verbose, **options)
