"""``barenet check FILE.py``: run the exercise suite on a learner's own source file.

The file is imported in this process (it is the learner's own code on their own
machine; nothing is sandboxed here), its folder is put on ``sys.path`` for the
duration so that it can import its siblings.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from pathlib import Path
from types import ModuleType

from barenet.grading.suite import SuiteResult, run_exercise_suite

_counter = itertools.count()


def load_module_from_path(path: str | os.PathLike) -> ModuleType:
    """Import the Python file at ``path`` as a fresh module.

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
    # A unique name, so that checking two files called layers.py does not mix them up.
    name = f"barenet_check_{path.stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up here
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.path.remove(str(path.parent))
    return module


def check_file(path: str | os.PathLike, verbose: bool = True) -> SuiteResult:
    """Import ``path`` and run the whole exercise suite on the names it defines."""
    return run_exercise_suite(load_module_from_path(path), verbose=verbose)
