"""Mutants of barenet's reference layers: a function rebuilt from its edited source.

The library is never edited: the mutant lives in a copy of its module's namespace,
where the module's other functions are rebound so that they call the mutant (a
mutated helper reaches the public functions that use it). The namespace is a dict,
which the test wrappers take as a learner's source.
"""

from __future__ import annotations

import inspect
import textwrap
import types
from collections.abc import Sequence
from types import ModuleType


def rebound(namespace: dict, module_name: str) -> dict:
    """Each function of ``module_name`` in ``namespace``, made to look its globals up there."""
    for name, value in list(namespace.items()):
        if inspect.isfunction(value) and value.__module__ == module_name:
            copy = types.FunctionType(
                value.__code__, namespace, value.__name__, value.__defaults__, value.__closure__
            )
            copy.__kwdefaults__ = value.__kwdefaults__
            namespace[name] = copy
    return namespace


def mutant_namespace(module: ModuleType, function: str, source: str) -> dict:
    """``module``'s namespace with ``function`` compiled from ``source``."""
    namespace = rebound(dict(vars(module)), module.__name__)
    code = compile(source, f"<mutant of {module.__name__}.{function}>", "exec")
    exec(code, namespace)  # defines the mutant under its own name
    namespace[function].__module__ = module.__name__
    return namespace


def edited_source(module: ModuleType, function: str, edits: Sequence[tuple[str, str]]) -> str:
    """The function's source with each ``(old, new)`` replaced; each ``old`` occurs once."""
    source = textwrap.dedent(inspect.getsource(getattr(module, function)))
    for old, new in edits:
        count = source.count(old)
        if count != 1:
            raise ValueError(f"{old!r} occurs {count} times in {module.__name__}.{function}")
        source = source.replace(old, new)
    return source


def text_mutant(module: ModuleType, function: str, edits: Sequence[tuple[str, str]]) -> dict:
    """``module``'s functions with ``function`` carrying exactly the given edits."""
    return mutant_namespace(module, function, edited_source(module, function, edits))
