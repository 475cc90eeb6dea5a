"""Shared helpers of the exercise-kit tests: importing a kit and running its wrappers."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path

import barenet.grading

#: True once barenet's wrappers run when called and return a printable score, as
#: the course's do (``print(SigmoidTestWrapper())``); before, they returned a group
#: that had to be called again.
COURSE_WRAPPERS = "convention" in inspect.signature(barenet.grading.SigmoidTestWrapper).parameters

WRAPPERS = {
    "SigmoidTestWrapper": ("layer_tests", ["SigmoidForwardTest", "SigmoidBackwardTest"]),
    "ReluTestWrapper": ("layer_tests", ["ReluForwardTest", "ReluBackwardTest"]),
    "AffineTestWrapper": (
        "layer_tests",
        [
            "AffineForwardTest",
            "AffineBackwardTestDx",
            "AffineBackwardTestDw",
            "AffineBackwardTestDb",
        ],
    ),
    "SGDMTestWrapper": ("sgdm_tests", []),
}


def forget_kit_modules() -> None:
    """Drop every ``exercise_code`` module, so that the next import reads another kit."""
    for name in [n for n in sys.modules if n == "exercise_code" or n.startswith("exercise_code.")]:
        del sys.modules[name]


@contextlib.contextmanager
def kit_on_path(kit: Path) -> Iterator[None]:
    """Make ``exercise_code`` of ``kit`` importable, as it is from a notebook in ``kit``."""
    forget_kit_modules()
    sys.path.insert(0, str(kit))
    try:
        yield
    finally:
        sys.path.remove(str(kit))
        forget_kit_modules()


def kit_module(name: str):
    """Import ``exercise_code.<name>`` (call inside :func:`kit_on_path`)."""
    return importlib.import_module(f"exercise_code.{name}")


def print_wrapper(name: str) -> None:
    """Run the kit's wrapper ``name`` as a notebook cell does: ``print(Wrapper())``."""
    module, _ = WRAPPERS[name]
    result = getattr(kit_module(f"tests.{module}"), name)()
    if not COURSE_WRAPPERS:
        result = result()  # a group to run; it prints its lines and returns the score
    print(result)
