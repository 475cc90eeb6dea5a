"""Packaging a learner's work: ``save_pickle`` and ``submit_exercise``.

``save_pickle`` stores the learner's own functions and classes *by value*
(cloudpickle), so that a grader who does not have the learner's source files can
still run them; barenet's, the standard library's and installed packages'
objects are stored by reference. Use the course's keys (or barenet's, in
parentheses)::

    save_pickle(data_dict={"SGD_Momentum_update": SGDMomentum._update,   # (SGDMomentum)
                           "AffineForward": affine_forward,              # (affine_forward)
                           "AffineBackward": affine_backward,            # (affine_backward)
                           "Sigmoid": Sigmoid, "Relu": Relu}, file_name="NN.p")
    submit_exercise("exercise06")

Both say which exercises the pickle holds, and warn (without refusing) about
missing exercises and keys the grader does not know.
"""

from __future__ import annotations

import os
import pickle
import sys
import sysconfig
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import cloudpickle

from barenet.grading.sandboxed.exercise_names import ALL_KEYS, EXERCISE_KEYS, GRADED_EXERCISES
from barenet.io import atomic_write

SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git"}


def _installed_roots() -> list[Path]:
    """Folders of the standard library and of installed packages."""
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    return [Path(p).resolve() for p in {sysconfig.get_paths()[n] for n in names}]


def is_learner_module(module: ModuleType) -> bool:
    """True for a module the learner wrote: not barenet, not stdlib, not an installed package.

    ``__main__`` (a notebook or script) is excluded too: cloudpickle already stores
    its objects by value.
    """
    name = module.__name__
    if name == "__main__" or name == "barenet" or name.startswith("barenet."):
        return False
    file = getattr(module, "__file__", None)
    if not file:  # built-in or namespace module
        return False
    path = Path(file).resolve()
    return not any(path.is_relative_to(root) for root in _installed_roots())


def _module_of(value: object) -> ModuleType | None:
    """The module that defines ``value`` (its class's module for a plain instance)."""
    name = getattr(value, "__module__", None)
    if not isinstance(name, str) or not (callable(value) or isinstance(value, type)):
        name = getattr(type(value), "__module__", None)
    return sys.modules.get(name) if isinstance(name, str) else None


def learner_modules(values: Iterable[object]) -> list[ModuleType]:
    """The learner's top-level modules/packages that define any of ``values``.

    The top-level package is registered, so that helpers in sibling submodules
    travel by value too.
    """
    found: dict[str, ModuleType] = {}
    for value in values:
        module = _module_of(value)
        if module is None or not is_learner_module(module):
            continue
        top = sys.modules.get(module.__name__.split(".")[0], module)
        chosen = top if is_learner_module(top) else module
        found[chosen.__name__] = chosen
    return list(found.values())


@contextmanager
def pickled_by_value(modules: Sequence[ModuleType]) -> Iterator[None]:
    """Register ``modules`` with cloudpickle for by-value pickling, for the duration only."""
    registered = []
    try:
        for module in modules:
            if module.__name__ not in cloudpickle.list_registry_pickle_by_value():
                cloudpickle.register_pickle_by_value(module)
                registered.append(module)
        yield
    finally:
        for module in registered:
            cloudpickle.unregister_pickle_by_value(module)


#: The key of the model that the CIFAR-10 classification exercise hands in.
MODEL_KEY = "cifar_fcn"


def exercise_summary(keys: Sequence[object], where: str) -> list[str]:
    """Lines saying which exercises ``keys`` provide, which are missing, which keys are unknown.

    Parameters
    ----------
    keys : the dict's keys
    where : how the file is named in the lines, e.g. ``"models/NN.p"``
    """
    names = [str(k) for k in keys]
    if MODEL_KEY in names:  # the CIFAR-10 classification exercise: one model, graded whole
        return [f"{where} holds: {MODEL_KEY} (the model of the CIFAR-10 classification exercise)"]
    found = [k for k in names if k in ALL_KEYS]
    missing = min(  # the parts missing from the exercise these keys are closest to
        (
            [part for part in parts if not any(k in names for k in EXERCISE_KEYS[part])]
            for parts in GRADED_EXERCISES.values()
        ),
        key=len,
    )
    unknown = [k for k in names if k not in ALL_KEYS]
    lines = [f"{where} holds: {', '.join(found) or 'no exercise'}"]
    if missing:
        lines.append(
            f"Warning: {where} has no {', '.join(missing)}; those tests will fail when graded. "
            f"Accepted keys: {', '.join(ALL_KEYS)}"
        )
    if unknown:
        lines.append(f"Warning: {where} has keys the grader does not use: {', '.join(unknown)}")
    return lines


def save_pickle(data_dict: dict, file_name: str, directory: str | os.PathLike = "models") -> Path:
    """Pickle ``data_dict`` to ``<directory>/<file_name>`` (``models/`` under the cwd).

    Parameters
    ----------
    data_dict : dict
        What to save, e.g. ``{"Sigmoid": Sigmoid, "AffineForward": affine_forward}``.
        Functions and classes from the learner's own modules or notebook are stored
        by value; barenet's and installed packages' by reference.
    file_name : str
        e.g. ``"NN.p"``.
    directory : str or PathLike
        Folder to write into, created if needed; relative to the current directory.

    Returns
    -------
    Path
        The written file.
    """
    if not isinstance(data_dict, dict):
        raise TypeError(f"save_pickle: data_dict must be a dict, got {type(data_dict).__name__}")
    path = Path(directory) / file_name
    with pickled_by_value(learner_modules(data_dict.values())):
        data = cloudpickle.dumps(data_dict)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        handle.write(data)
    print("\n".join(exercise_summary(list(data_dict), path.as_posix())))
    return path


PICKLE_SUFFIXES = {".p", ".pkl", ".pickle"}


def pickle_summary(path: Path, where: str) -> list[str]:
    """:func:`exercise_summary` of a pickle the learner saved (their own file, on their machine)."""
    try:
        with open(path, "rb") as handle:
            data = pickle.load(handle)
    except Exception as exc:
        return [f"Warning: could not read {where} ({type(exc).__name__}: {exc})"]
    if not isinstance(data, dict):
        return [
            f"Warning: {where} holds a {type(data).__name__}, not a dict of the exercise's names"
        ]
    return exercise_summary(list(data), where)


def _files_under(folder: Path) -> list[Path]:
    """Every regular file below ``folder``, skipping caches and checkpoints, sorted."""
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        files += [Path(root) / n for n in sorted(names) if (Path(root) / n).is_file()]
    return files


def folder_entries(base: Path, folder_name: str) -> list[tuple[Path, str]]:
    """The files of ``base/folder_name`` with their names in the zip; says what each pickle holds.

    Raises
    ------
    FileNotFoundError
        When the folder is missing or empty.
    """
    folder = base / folder_name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"submit_exercise: {folder} does not exist; save your work first, e.g. "
            "save_pickle({...}, 'exercise_code.p') writes models/exercise_code.p"
        )
    files = _files_under(folder)
    if not files:
        raise FileNotFoundError(
            f"submit_exercise: {folder} is empty; nothing to submit. Save your work "
            "with save_pickle(...) first."
        )
    print(f"Adding folder {folder_name}/ ({len(files)} file{'s' * (len(files) != 1)})")
    for file in files:
        if file.suffix in PICKLE_SUFFIXES:
            print("\n".join(pickle_summary(file, file.relative_to(base).as_posix())))
    return [(f, f.relative_to(base).as_posix()) for f in files]


def notebook_entries(base: Path) -> list[tuple[Path, str]]:
    """The notebooks beside the folders, by name."""
    notebooks = sorted(base.glob("*.ipynb"))
    for notebook in notebooks:
        print(f"Adding notebook {notebook.name}")
    return [(notebook, notebook.name) for notebook in notebooks]


def write_zip(zip_path: Path, entries: Sequence[tuple[Path, str]]) -> None:
    """Write the entries into ``zip_path`` atomically (a crash leaves no half zip)."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(zip_path) as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file, arcname in entries:
                archive.write(file, arcname)


def submit_exercise(
    name: str,
    data_path: str | os.PathLike = ".",
    relevant_folders: Sequence[str] = ("models",),
) -> Path:
    """Zip the relevant folders and the notebooks beside them into ``<name>.zip``.

    Parameters
    ----------
    name : str
        The zip's name without ``.zip``; may contain a folder (created if needed).
    data_path : str or PathLike
        The folder holding ``relevant_folders`` and the notebooks (``*.ipynb``).
    relevant_folders : sequence of str
        Folders to include, relative to ``data_path``; each must exist and hold files.

    Returns
    -------
    Path
        The zip file.

    Raises
    ------
    FileNotFoundError
        When a relevant folder is missing or empty; no zip is written then.
    """
    base = Path(data_path)
    entries = [entry for folder in relevant_folders for entry in folder_entries(base, folder)]
    entries += notebook_entries(base)
    zip_path = Path(f"{name}.zip")
    write_zip(zip_path, entries)
    print(f"Zipped submission written to {zip_path.resolve()}")
    return zip_path
