"""Finding the implementation a test wrapper should exercise.

A wrapper can be given barenet's own implementation (the default), a learner's
class or instance, a function, or a *source*: a module (or a dict, e.g. the
unpickled submission) that defines the exercise's names. Resolution happens
inside each test, so that a missing name or a constructor that raises is
reported as a failed test instead of escaping the wrapper.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any


class MissingImplementationError(LookupError):
    """The module or submission does not define a name the exercise needs."""


def is_source(obj: object) -> bool:
    """True for a module or a mapping, in which the exercise's names are looked up."""
    return inspect.ismodule(obj) or isinstance(obj, Mapping)


def describe_source(source: object) -> str:
    """How a module or mapping is named in messages."""
    if isinstance(source, Mapping):
        return "the submission"
    return f"module {getattr(source, '__name__', source)!r}"


def lookup(source: object, name: str) -> Any:
    """The object called ``name`` in a module or mapping.

    Raises
    ------
    MissingImplementationError
        When ``source`` does not define ``name``.
    """
    if isinstance(source, Mapping):
        if name in source:
            return source[name]
    elif hasattr(source, name):
        return getattr(source, name)
    raise MissingImplementationError(f"{describe_source(source)} defines no {name!r}")


def resolve(implementation: object, name: str, default: Callable[[], Any]) -> Any:
    """The object to test: ``default()`` for None, a source's ``name``, else the object itself.

    Parameters
    ----------
    implementation : object or None
    name : str
        The exercise's name, looked up when ``implementation`` is a module or mapping.
    default : callable
        Returns barenet's own implementation (imported lazily).
    """
    if implementation is None:
        return default()
    if is_source(implementation):
        return lookup(implementation, name)
    return implementation


def layer_factory(
    implementation: object, name: str, default: Callable[[], Any]
) -> Callable[[], Any]:
    """A function that returns a fresh layer object (a class is instantiated, an instance reused).

    Parameters
    ----------
    implementation : class, instance, module, mapping or None
    name : str
        The class name looked up in a module or mapping, e.g. ``"Sigmoid"``.
    default : callable
        Returns barenet's class.
    """

    def make_layer() -> Any:
        spec = resolve(implementation, name, default)
        layer = spec() if inspect.isclass(spec) else spec
        for method in ("forward", "backward"):
            if not callable(getattr(layer, method, None)):
                raise TypeError(f"{name}: {layer!r} has no {method}() method")
        return layer

    return make_layer


def function_getter(
    implementation: object, name: str, default: Callable[[], Any]
) -> Callable[[], Callable]:
    """A function that returns the callable to test (e.g. the learner's ``affine_forward``)."""

    def get_function() -> Callable:
        function = resolve(implementation, name, default)
        if not callable(function):
            raise TypeError(f"{name} is not callable: {function!r}")
        return function

    return get_function


def dir_of(source: object) -> list[str]:
    """The names a module or mapping defines."""
    return list(source) if isinstance(source, Mapping) else dir(source)


def update_rule_getter(implementation: object) -> Callable[[], Callable]:
    """A function returning an update rule ``rule(w, dw, config, lr) -> (next_w, config)``.

    Accepts a function like ``sgd_momentum``, an ``SGDMomentum``-like class or
    instance (its ``_update`` is used), or a source defining ``SGDMomentum`` or
    ``sgd_momentum`` (the class is preferred: it is what the exercise asks for).
    """

    def default() -> Callable:
        from barenet.optim import sgd_momentum

        return sgd_momentum

    def get_rule() -> Callable:
        spec = implementation
        if spec is None:
            return default()
        if is_source(spec):
            names = [n for n in ("SGDMomentum", "sgd_momentum") if n in dir_of(spec)]
            if not names:
                raise MissingImplementationError(
                    f"{describe_source(spec)} defines neither 'SGDMomentum' nor 'sgd_momentum'"
                )
            spec = lookup(spec, names[0])
        if inspect.isclass(spec):
            # The rule needs no model: build the object without running __init__,
            # which would want a model and a loss.
            spec = spec.__new__(spec)
        if hasattr(spec, "_update"):
            return spec._update
        if callable(spec):
            return spec
        raise TypeError(f"expected an update function or an SGDMomentum-like class, got {spec!r}")

    return get_rule
