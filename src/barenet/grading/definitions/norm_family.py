"""The tests every normalisation layer shares: the training forward and the three gradients.

A :class:`NormFamily` says how one layer is called (CS231n's forms:
``batchnorm_forward(x, gamma, beta, bn_param)``, ``layernorm_forward(x, gamma, beta,
ln_param)``, ``spatial_groupnorm_forward(x, gamma, beta, G, gn_param)``), what its
output is (:mod:`.layer_references`) and which mistakes it is known for
(:mod:`.norm_diagnoses`). From it come ``<Prefix>ForwardTrainTest`` (or
``ForwardTest``) and ``<Prefix>BackwardTestDx`` / ``Dgamma`` / ``Dbeta``.

Inputs are fresh per run: features of different means and spreads (so that a
normaliser over the wrong axes shows), and an ``eps`` between 0.01 and 0.1 (so that
``eps`` outside the square root, or a fixed 1e-5, shows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from barenet.grading.definitions import diagnoses
from barenet.grading.definitions.gradient_checks import (
    EXACT_TOLERANCE,
    gradient_of,
    numeric_check,
    repeat_verdict,
)
from barenet.grading.engine.records import as_array, compare, items
from barenet.grading.engine.results import Verdict
from barenet.grading.engine.spec import Probe, TestSpec
from barenet.grading.sandboxed.learner_calls import Call, Ref

GRADIENTS = ("dx", "dgamma", "dbeta")
Mistakes = list[tuple[np.ndarray, str]]


@dataclass(frozen=True)
class NormFamily:
    """One normalisation layer, as its tests need it.

    Attributes
    ----------
    prefix : str
        Test names start with it, e.g. ``"BatchNorm"``.
    forward, backward : str
        The exercise names of the two functions (``"batchnorm_forward"``, ...).
    inputs : callable
        ``inputs(rng) -> dict`` with at least ``x``, ``gamma``, ``beta``, ``dout``, ``eps``.
    arguments : callable
        ``arguments(inputs) -> tuple``: the forward's arguments (training mode).
    reference : callable
        ``reference(inputs, x) -> out``: the right training-mode output for input ``x``.
    param_axes : tuple of int
        The axes ``dgamma`` and ``dbeta`` sum over.
    forward_mistakes, dx_mistakes : callable
        ``(inputs) -> Mistakes``.
    param_mistakes : callable
        ``(inputs, which) -> Mistakes`` for ``dgamma`` / ``dbeta``.
    xhat : callable
        ``xhat(inputs) -> ndarray``: the normalised input, x's shape.
    forward_name : str
        ``"ForwardTrainTest"`` where a test mode exists, else ``"ForwardTest"``.
    """

    prefix: str
    forward: str
    backward: str
    inputs: Callable[[np.random.Generator], dict]
    arguments: Callable[[dict], tuple]
    reference: Callable[[dict, np.ndarray], np.ndarray]
    param_axes: tuple[int, ...]
    forward_mistakes: Callable[[dict], Mistakes]
    dx_mistakes: Callable[[dict], Mistakes]
    param_mistakes: Callable[[dict, str], Mistakes]
    xhat: Callable[[dict], np.ndarray]
    forward_name: str = "ForwardTrainTest"


def spread_features(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random x whose channels (axis 1) have different means and spreads."""
    channel = (1, shape[1]) + (1,) * (len(shape) - 2)
    scale = rng.uniform(0.4, 3.0, channel)
    shift = rng.uniform(-3.0, 3.0, channel)
    return rng.standard_normal(shape) * scale + shift


def scale_shift(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple:
    """gamma (away from 0 and 1) and beta (away from 0), both of ``shape``."""
    gamma = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return gamma, rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def draw_eps(rng: np.random.Generator) -> float:
    return float(rng.uniform(0.01, 0.1))


def forward_spec(family: NormFamily) -> TestSpec:
    """``<Prefix>ForwardTrainTest``: the training-mode output against the closed form."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = family.inputs(rng)
        names = ("the input x", "gamma", "beta")
        return Probe([Call(family.forward, family.arguments(inputs), names=names)], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        inputs = probe.context
        out, _ = items(records[0]["result"], 2, f"{family.forward} must return (out, cache)")
        out = as_array(out, "out")
        expected = family.reference(inputs, inputs["x"])
        passed, detail, error = compare("out", out, expected, EXACT_TOLERANCE, "the closed form")
        if passed:
            return Verdict(True, "", error)
        return Verdict(
            False, detail, error, diagnoses.first_match(out, family.forward_mistakes(inputs))
        )

    return TestSpec(f"{family.prefix}{family.forward_name}", family.forward, build, judge)


def backward_calls(family: NormFamily, inputs: dict) -> list[Call]:
    """Forward (kept), backward, and the same backward again."""
    cache = Ref("forward", 1)
    return [
        Call(family.forward, family.arguments(inputs), keep="forward"),
        Call(family.backward, (inputs["dout"], cache), names=("dout", "the cache")),
        Call(family.backward, (inputs["dout"], cache)),
    ]


def expected_param_grad(family: NormFamily, inputs: dict, which: str) -> np.ndarray:
    """``dgamma = sum(dout * xhat)`` or ``dbeta = sum(dout)`` over the shared axes."""
    dout = inputs["dout"]
    terms = dout * family.xhat(inputs) if which == "dgamma" else dout
    return terms.sum(axis=family.param_axes).reshape(np.shape(inputs["gamma"]))


def judge_gradient(family: NormFamily, inputs: dict, which: str, measured: np.ndarray):
    """``(passed, detail, error, mistakes, measured)``; measured in the expected shape."""
    if which == "dx":
        passed, detail, error = numeric_check(
            "dx", measured, lambda x: family.reference(inputs, x), inputs["x"], inputs["dout"]
        )
        return passed, detail, error, family.dx_mistakes(inputs), measured
    expected = expected_param_grad(family, inputs, which)
    if measured.shape != expected.shape and measured.size == expected.size:
        measured = measured.reshape(expected.shape)  # (C,) for a (1, C, 1, 1) gamma is fine
    passed, detail, error = compare(which, measured, expected, EXACT_TOLERANCE, "exact gradient")
    n = inputs["x"].shape[0]
    mistakes = [(expected / n, diagnoses.BATCH_AVERAGED.format(name=which, n=n))]
    for value, message in family.param_mistakes(inputs, which):
        if value.size == expected.size:
            value = value.reshape(expected.shape)
        mistakes.append((value, message))
    return passed, detail, error, mistakes, measured


def backward_spec(family: NormFamily, which: str) -> TestSpec:
    """``<Prefix>BackwardTestDx`` / ``Dgamma`` / ``Dbeta``."""
    index = GRADIENTS.index(which)
    returns = f"{family.backward} must return (dx, dgamma, dbeta)"

    def build(rng: np.random.Generator) -> Probe:
        inputs = family.inputs(rng)
        return Probe(backward_calls(family, inputs), inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        inputs = probe.context
        measured = gradient_of(records[1], 3, index, which, returns)
        passed, detail, error, mistakes, measured = judge_gradient(family, inputs, which, measured)
        if passed:
            again = gradient_of(records[2], 3, index, which, returns)
            return repeat_verdict(
                again.reshape(measured.shape) if again.size == measured.size else again,
                measured,
                which,
                error,
            )
        return Verdict(False, detail, error, diagnoses.first_match(measured, mistakes))

    name = f"{family.prefix}BackwardTest{which.capitalize()}"
    return TestSpec(name, family.backward, build, judge)


def family_specs(family: NormFamily) -> list[TestSpec]:
    """The forward test, then the three gradient tests."""
    return [forward_spec(family)] + [backward_spec(family, which) for which in GRADIENTS]
