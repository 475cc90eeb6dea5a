"""The exercise's test wrappers, called as the course calls them.

Each wrapper runs one group of tests at once, prints its lines and returns a
:class:`~barenet.grading.engine.results.Score`, so that the course's test cell works
as written::

    >>> print(SigmoidTestWrapper())          # barenet's own Sigmoid   # doctest: +SKIP
    SigmoidForwardTest passed.
    SigmoidBackwardTest passed.
    Congratulations! You have passed all the unit tests!!! Tests passed: 2/2
    Score: 100/100
    You secured a score of: 100
    >>> print(SigmoidTestWrapper(MySigmoid))  # a learner's class    # doctest: +SKIP

The tests' names are the course's; barenet's extra tests come after them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from barenet.grading.definitions.activation_tests import relu_specs, sigmoid_specs
from barenet.grading.definitions.affine_tests import affine_specs
from barenet.grading.definitions.momentum_tests import momentum_specs
from barenet.grading.engine.results import GroupResult, Score
from barenet.grading.engine.spec import TestSpec, check_convention, fresh_seed
from barenet.grading.local.in_process import run_in_process


def run_group(
    name: str,
    specs: Sequence[TestSpec],
    implementations: dict[str, object],
    strict: bool,
    seed: int | None,
    verbose: bool,
) -> Score:
    """Run ``specs`` in this process, print the lines when ``verbose``, return the score."""
    seed = fresh_seed() if seed is None else seed
    result: GroupResult = run_in_process(name, specs, implementations, seed, strict)
    if verbose:
        print("\n".join(result.lines()))
    return Score(result)


def _barenet_layers():
    import barenet.layers

    return barenet.layers


def _barenet_momentum():
    from barenet.optim import SGDMomentum

    return SGDMomentum._update


def SigmoidTestWrapper(  # the course's name
    implementation: object = None,
    *,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """Run ``SigmoidForwardTest`` and ``SigmoidBackwardTest``; print them; return the score.

    Parameters
    ----------
    implementation : class, instance, module or mapping, optional
        A ``Sigmoid`` class (instantiated without arguments) or instance, or a
        module/dict defining ``Sigmoid``. Default: ``barenet.layers.Sigmoid``.
    convention : {"exact", "batch-mean"}
        How gradients are expected (only the affine layer's differ).
    strict : bool
        Advice (overflow warnings, in-place writes, Python loops) fails a test too.
    seed : int, optional
        Seed of the test inputs; fresh inputs on every call by default.
    verbose : bool
        Print the lines.
    """
    check_convention(convention)
    implementation = _barenet_layers() if implementation is None else implementation
    specs = sigmoid_specs()
    return run_group(
        "SigmoidTestWrapper", specs, {"Sigmoid": implementation}, strict, seed, verbose
    )


def ReluTestWrapper(  # the course's name
    implementation: object = None,
    *,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """Run ``ReluForwardTest`` and ``ReluBackwardTest``; print them; return the score.

    Parameters are those of :func:`SigmoidTestWrapper`, for a ``Relu``.
    """
    check_convention(convention)
    implementation = _barenet_layers() if implementation is None else implementation
    return run_group(
        "ReluTestWrapper", relu_specs(), {"Relu": implementation}, strict, seed, verbose
    )


def AffineTestWrapper(  # the course's name
    source: object = None,
    *,
    affine_forward: Callable | None = None,
    affine_backward: Callable | None = None,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """Run ``AffineForwardTest`` and ``AffineBackwardTestDx``/``Dw``/``Db``; return the score.

    Parameters
    ----------
    source : module or mapping, optional
        Defines ``affine_forward`` and ``affine_backward`` (or the course's keys
        ``AffineForward``, ``AffineBackward``). Default: ``barenet.layers``.
    affine_forward, affine_backward : callable, optional
        Override the functions taken from ``source``.
    convention : {"exact", "batch-mean"}
        ``batch-mean`` expects dw and db averaged over the batch.
    strict, seed, verbose
        As for :func:`SigmoidTestWrapper`.
    """
    source = _barenet_layers() if source is None else source
    implementations = {
        "affine_forward": source if affine_forward is None else affine_forward,
        "affine_backward": source if affine_backward is None else affine_backward,
    }
    specs = affine_specs(convention)
    return run_group("AffineTestWrapper", specs, implementations, strict, seed, verbose)


def SGDMTestWrapper(  # the course's name
    implementation: object = None,
    *,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
    verbose: bool = True,
) -> Score:
    """Run ``SGDM_Weight_Test``, ``SGDM_Velocity_Test`` and barenet's two; return the score.

    Parameters
    ----------
    implementation : callable, class, instance, module or mapping, optional
        The unbound ``SGDMomentum._update`` (called with ``self=None``, as the
        course does); an ``SGDMomentum``-like class (its ``_update``, likewise)
        or instance; an update function ``sgd_momentum(w, dw, config, lr)``; or a
        module/dict defining ``SGD_Momentum_update``, ``SGDMomentum`` or
        ``sgd_momentum``. Default: barenet's ``SGDMomentum._update``.
    convention, strict, seed, verbose
        As for :func:`SigmoidTestWrapper`.
    """
    check_convention(convention)
    implementation = _barenet_momentum() if implementation is None else implementation
    implementations = {"SGDMomentum": implementation}
    return run_group("SGDMTestWrapper", momentum_specs(), implementations, strict, seed, verbose)
