"""Test wrappers of the next exercises' layers, called as the first exercise's are.

Each wrapper runs one layer family's tests, prints one line per test, then
``Tests passed: k/n`` and ``Score: s/100``, and returns the
:class:`~barenet.grading.engine.results.Score`::

    >>> print(ConvTestWrapper())               # barenet's own layers   # doctest: +SKIP
    ConvForwardTest passed.
    ...
    >>> print(ConvTestWrapper(my_layers))      # a module of yours      # doctest: +SKIP
    >>> BatchNormTestWrapper(batchnorm_forward=my_forward, seed=1)      # doctest: +SKIP

The implementation is a module or dict defining the two functions (CS231n's names,
e.g. ``conv_forward`` and ``conv_backward``; the CamelCase pickle keys
``ConvForward``/``ConvBackward`` work too), a class or object with them as
attributes, or one function (matched by its ``__name__``, else taken as the
forward); keyword arguments override either function. Inputs are fresh on every
call; ``seed=`` repeats them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from barenet.grading.definitions.batchnorm_tests import batchnorm_specs, spatial_batchnorm_specs
from barenet.grading.definitions.conv_tests import conv_specs
from barenet.grading.definitions.dropout_tests import dropout_specs
from barenet.grading.definitions.groupnorm_tests import groupnorm_specs
from barenet.grading.definitions.layernorm_tests import layernorm_specs
from barenet.grading.definitions.pool_tests import max_pool_specs
from barenet.grading.engine.results import Score
from barenet.grading.engine.spec import TestSpec
from barenet.grading.local.wrappers import run_group
from barenet.grading.sandboxed.exercise_names import EXERCISE_KEYS, is_source


def part_sources(implementation: object, parts: tuple[str, ...]) -> dict[str, object]:
    """Per part (``conv_forward``, ...), where to look it up or the function itself."""
    if implementation is None:
        import barenet.layers

        implementation = barenet.layers
    if is_source(implementation):
        return dict.fromkeys(parts, implementation)
    if inspect.isfunction(implementation) or inspect.isbuiltin(implementation):
        name = getattr(implementation, "__name__", "")
        for part in parts:
            if name in EXERCISE_KEYS[part]:
                return {part: implementation}
        return {parts[0]: implementation}
    found = {
        key: getattr(implementation, key)
        for part in parts
        for key in EXERCISE_KEYS[part]
        if callable(getattr(implementation, key, None))
    }
    if not found:
        accepted = ", ".join(key for part in parts for key in EXERCISE_KEYS[part])
        raise TypeError(
            f"expected a module, a dict, a function or an object with {accepted}; "
            f"got {implementation!r}"
        )
    return dict.fromkeys(parts, found)


def run_family(
    name: str,
    specs: list[TestSpec],
    implementation: object,
    overrides: dict[str, Callable | None],
    strict: bool,
    seed: int | None,
    verbose: bool,
) -> Score:
    """Resolve the implementation of each part, then run the family's tests."""
    parts = tuple(overrides)
    sources = part_sources(implementation, parts)
    for part, function in overrides.items():
        if function is not None:
            sources[part] = function
    return run_group(name, specs, sources, strict, seed, verbose)


def ConvTestWrapper(
    implementation: object = None,
    *,
    conv_forward: Callable | None = None,
    conv_backward: Callable | None = None,
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """``ConvForwardTest``, ``ConvForwardStrideTest``, ``ConvBackwardTestDx``/``Dw``/``Db``.

    Parameters
    ----------
    implementation : module, mapping, object or function, optional
        Defines ``conv_forward`` and ``conv_backward``. Default: ``barenet.layers``.
    conv_forward, conv_backward : callable, optional
        Override the functions found in ``implementation``.
    strict : bool
        Advice (arguments modified in place, Python loops) fails a test too.
    seed : int, optional
        Seed of the test inputs; fresh inputs on every call by default.
    verbose : bool
        Print the lines.
    """
    overrides = {"conv_forward": conv_forward, "conv_backward": conv_backward}
    return run_family(
        "ConvTestWrapper", conv_specs(), implementation, overrides, strict, seed, verbose
    )


def MaxPoolTestWrapper(
    implementation: object = None,
    *,
    max_pool_forward: Callable | None = None,
    max_pool_backward: Callable | None = None,
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """``MaxPoolForwardTest``, ``MaxPoolForwardStrideTest``, ``MaxPoolBackwardTest``,
    ``MaxPoolBackwardTiesTest``; parameters as for :func:`ConvTestWrapper`."""
    overrides = {"max_pool_forward": max_pool_forward, "max_pool_backward": max_pool_backward}
    specs = max_pool_specs()
    return run_family("MaxPoolTestWrapper", specs, implementation, overrides, strict, seed, verbose)


def BatchNormTestWrapper(
    implementation: object = None,
    *,
    batchnorm_forward: Callable | None = None,
    batchnorm_backward: Callable | None = None,
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """``BatchNormForwardTrainTest``, ``BatchNormRunningStatsTest``,
    ``BatchNormForwardTestModeTest``, ``BatchNormBackwardTestDx``/``Dgamma``/``Dbeta``;
    parameters as for :func:`ConvTestWrapper`."""
    overrides = {"batchnorm_forward": batchnorm_forward, "batchnorm_backward": batchnorm_backward}
    specs = batchnorm_specs()
    return run_family(
        "BatchNormTestWrapper", specs, implementation, overrides, strict, seed, verbose
    )


def SpatialBatchNormTestWrapper(
    implementation: object = None,
    *,
    spatial_batchnorm_forward: Callable | None = None,
    spatial_batchnorm_backward: Callable | None = None,
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """The six batch-norm tests on ``(N, C, H, W)`` maps (``SpatialBatchNorm...Test``);
    parameters as for :func:`ConvTestWrapper`."""
    overrides = {
        "spatial_batchnorm_forward": spatial_batchnorm_forward,
        "spatial_batchnorm_backward": spatial_batchnorm_backward,
    }
    specs = spatial_batchnorm_specs()
    name = "SpatialBatchNormTestWrapper"
    return run_family(name, specs, implementation, overrides, strict, seed, verbose)


def LayerNormTestWrapper(
    implementation: object = None,
    *,
    layernorm_forward: Callable | None = None,
    layernorm_backward: Callable | None = None,
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """``LayerNormForwardTest``, ``LayerNormBackwardTestDx``/``Dgamma``/``Dbeta``;
    parameters as for :func:`ConvTestWrapper`."""
    overrides = {"layernorm_forward": layernorm_forward, "layernorm_backward": layernorm_backward}
    specs = layernorm_specs()
    return run_family(
        "LayerNormTestWrapper", specs, implementation, overrides, strict, seed, verbose
    )


def GroupNormTestWrapper(
    implementation: object = None,
    *,
    spatial_groupnorm_forward: Callable | None = None,
    spatial_groupnorm_backward: Callable | None = None,
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """``GroupNormForwardTest``, ``GroupNormBackwardTestDx``/``Dgamma``/``Dbeta``;
    parameters as for :func:`ConvTestWrapper`."""
    overrides = {
        "spatial_groupnorm_forward": spatial_groupnorm_forward,
        "spatial_groupnorm_backward": spatial_groupnorm_backward,
    }
    specs = groupnorm_specs()
    return run_family(
        "GroupNormTestWrapper", specs, implementation, overrides, strict, seed, verbose
    )


def DropoutTestWrapper(
    implementation: object = None,
    *,
    dropout_forward: Callable | None = None,
    dropout_backward: Callable | None = None,
    p_means: str = "keep",
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """``DropoutTrainStatisticsTest``, ``DropoutInvertedScalingTest``,
    ``DropoutTestModeTest``, ``DropoutBackwardTest``.

    Parameters
    ----------
    p_means : {"keep", "drop"}
        What ``dropout_param['p']`` means: CS231n's probability of keeping a unit
        (default), or PyTorch's of dropping one.
    implementation, dropout_forward, dropout_backward, strict, seed, verbose
        As for :func:`ConvTestWrapper`.
    """
    overrides = {"dropout_forward": dropout_forward, "dropout_backward": dropout_backward}
    specs = dropout_specs(p_means)
    return run_family("DropoutTestWrapper", specs, implementation, overrides, strict, seed, verbose)
