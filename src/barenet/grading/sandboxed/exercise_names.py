"""The exercise's names, and finding a learner's implementation of each.

A learner's work reaches the tests as a *source* (a module, or the dict of a
submission pickle) or as the object itself (a class, an instance, a function).
The course's pickle keys (``AffineForward``, ``SGD_Momentum_update``, ...) and
barenet's (``affine_forward``, ``SGDMomentum``, ...) are both accepted.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

# Each exercise and the keys that provide it, the course's first.
EXERCISE_KEYS: dict[str, tuple[str, ...]] = {
    "Sigmoid": ("Sigmoid",),
    "Relu": ("Relu",),
    "affine_forward": ("AffineForward", "affine_forward"),
    "affine_backward": ("AffineBackward", "affine_backward"),
    "SGDMomentum": ("SGD_Momentum_update", "SGDMomentum", "sgd_momentum"),
    # The next exercises (CS231n's call forms): the function's name is the key, and the
    # CamelCase form of the course's first exercise is accepted too.
    "conv_forward": ("conv_forward", "ConvForward"),
    "conv_backward": ("conv_backward", "ConvBackward"),
    "max_pool_forward": ("max_pool_forward", "MaxPoolForward"),
    "max_pool_backward": ("max_pool_backward", "MaxPoolBackward"),
    "batchnorm_forward": ("batchnorm_forward", "BatchNormForward"),
    "batchnorm_backward": ("batchnorm_backward", "BatchNormBackward"),
    "spatial_batchnorm_forward": ("spatial_batchnorm_forward", "SpatialBatchNormForward"),
    "spatial_batchnorm_backward": ("spatial_batchnorm_backward", "SpatialBatchNormBackward"),
    "layernorm_forward": ("layernorm_forward", "LayerNormForward"),
    "layernorm_backward": ("layernorm_backward", "LayerNormBackward"),
    "spatial_groupnorm_forward": ("spatial_groupnorm_forward", "SpatialGroupNormForward"),
    "spatial_groupnorm_backward": ("spatial_groupnorm_backward", "SpatialGroupNormBackward"),
    "dropout_forward": ("dropout_forward", "DropoutForward"),
    "dropout_backward": ("dropout_backward", "DropoutBackward"),
}
ALL_KEYS: tuple[str, ...] = tuple(key for keys in EXERCISE_KEYS.values() for key in keys)

# Each graded exercise (``barenet grade --exercise NAME``) and the parts it asks for:
# the names and the regions of the kits ``barenet exercise init --exercise NAME`` writes
# (keep the two in step; tests/grading/test_exercise_convnet_kit.py checks that every
# region of the batch-norm and ConvNet kits is reached by its grade).
GRADED_EXERCISES: dict[str, tuple[str, ...]] = {
    "neural-networks": ("Sigmoid", "Relu", "affine_forward", "affine_backward", "SGDMomentum"),
    "batchnorm-dropout": (
        "batchnorm_forward",
        "batchnorm_backward",
        "layernorm_forward",
        "layernorm_backward",
        "dropout_forward",
        "dropout_backward",
    ),
    "convnet": (
        "conv_forward",
        "conv_backward",
        "max_pool_forward",
        "max_pool_backward",
        "spatial_batchnorm_forward",
        "spatial_batchnorm_backward",
        "spatial_groupnorm_forward",
        "spatial_groupnorm_backward",
    ),
}
DEFAULT_EXERCISE = "neural-networks"


class MissingImplementationError(LookupError):
    """The module or submission does not define a name the exercise needs."""


def is_source(obj: object) -> bool:
    """True for a module or a mapping, in which the exercise's names are looked up."""
    return inspect.ismodule(obj) or isinstance(obj, Mapping)


def source_keys(source: object) -> list[str]:
    """The names a module or mapping defines (public names only for a module)."""
    if isinstance(source, Mapping):
        return [str(key) for key in source]
    return [name for name in dir(source) if not name.startswith("_")]


def key_for(source: object, exercise: str) -> str | None:
    """The first of the exercise's keys that ``source`` defines, or None."""
    names = source if isinstance(source, Mapping) else None
    for key in EXERCISE_KEYS[exercise]:
        if (key in names) if names is not None else hasattr(source, key):
            return key
    return None


def describe_missing(source: object, exercise: str) -> str:
    """The message for a missing exercise: the accepted keys and the keys found."""
    where = "the submission" if isinstance(source, Mapping) else "the module"
    accepted = " or ".join(repr(k) for k in EXERCISE_KEYS[exercise])
    found = ", ".join(repr(k) for k in sorted(source_keys(source))[:20]) or "nothing"
    return f"{where} defines no {accepted} (it defines: {found})"


def lookup(source: object, exercise: str) -> Any:
    """The learner's object for ``exercise`` in a module or mapping.

    Raises
    ------
    MissingImplementationError
        When none of the exercise's keys is defined.
    """
    key = key_for(source, exercise)
    if key is None:
        raise MissingImplementationError(describe_missing(source, exercise))
    return source[key] if isinstance(source, Mapping) else getattr(source, key)


def resolve(implementation: object, exercise: str) -> Any:
    """A source's object for ``exercise``, or ``implementation`` itself."""
    return lookup(implementation, exercise) if is_source(implementation) else implementation


def make_layer(spec: object, exercise: str) -> Any:
    """A layer object: a class is instantiated without arguments, an instance is used as is."""
    layer = spec() if inspect.isclass(spec) else spec
    for method in ("forward", "backward"):
        if not callable(getattr(layer, method, None)):
            raise TypeError(f"{exercise}: {layer!r} has no {method}() method")
    return layer


def takes_self_first(function: Callable) -> bool:
    """True for a plain function whose first parameter is ``self`` (an unbound method)."""
    if not inspect.isfunction(function):
        return False
    parameters = list(inspect.signature(function).parameters)
    return bool(parameters) and parameters[0] == "self"


def update_rule(spec: object) -> Callable:
    """``rule(w, dw, config, lr) -> (next_w, config)`` from what the learner gave.

    Accepts the unbound ``SGDMomentum._update`` (called with ``self=None``, as the
    course does), an ``SGDMomentum``-like class (its ``_update``, also with
    ``self=None``), an instance (its bound ``_update``), or a plain update
    function such as ``sgd_momentum(w, dw, config, lr)``.
    """
    if inspect.isclass(spec):
        unbound = getattr(spec, "_update", None)
        if unbound is None:
            raise TypeError(f"{spec.__name__} has no _update(self, w, dw, config, lr) method")
        return lambda w, dw, config, lr: unbound(None, w, dw, config, lr)
    if not inspect.isfunction(spec) and callable(getattr(spec, "_update", None)):
        return spec._update
    if takes_self_first(spec):
        return lambda w, dw, config, lr: spec(None, w, dw, config, lr)
    if callable(spec):
        return spec
    raise TypeError(f"expected an update function or an SGDMomentum-like class, got {spec!r}")


def function(spec: object, exercise: str) -> Callable:
    """The learner's function for ``exercise`` (e.g. ``affine_forward``)."""
    if not callable(spec):
        raise TypeError(f"{exercise} is not callable: {spec!r}")
    return spec


class EntryPoints:
    """The learner's callables, found lazily so that a failure is one test's failure.

    Parameters
    ----------
    implementations : mapping of exercise -> object
        Per exercise, a source (module or mapping) or the object itself.
    """

    def __init__(self, implementations: Mapping[str, object]):
        self.implementations = dict(implementations)

    def raw(self, exercise: str) -> Any:
        if exercise not in self.implementations:
            raise MissingImplementationError(f"no implementation of {exercise} was given")
        return resolve(self.implementations[exercise], exercise)

    def layer(self, exercise: str) -> Any:
        return make_layer(self.raw(exercise), exercise)

    def rule(self) -> Callable:
        return update_rule(self.raw("SGDMomentum"))

    def function(self, exercise: str) -> Callable:
        return function(self.raw(exercise), exercise)
