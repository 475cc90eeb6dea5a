"""Unit tests of the SGD-with-momentum update rule.

barenet's convention: ``v = momentum * v - lr * dw``, then ``w = w + v``, with
``config['velocity']`` holding ``v`` between steps and ``momentum`` 0.9 by
default. The expected values are derived here from that formula on fixed inputs.
The rule is called as ``rule(w, dw, config, lr) -> (next_w, config)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from barenet.gradcheck import rel_error
from barenet.grading import diagnoses
from barenet.grading.harness import UnitTest, Verdict

MOMENTUM_TOLERANCE = 1e-8
LR = 1e-3
MOMENTUM = 0.9
DEFAULT_MOMENTUM = 0.9

GetRule = Callable[[], Callable]


def fixed_inputs() -> dict[str, np.ndarray]:
    """w, dw, an initial velocity v and a second gradient dw2, each of shape (4, 5)."""
    n, d = 4, 5
    return {
        "w": np.linspace(-0.4, 0.6, num=n * d).reshape(n, d),
        "dw": np.linspace(-0.6, 0.4, num=n * d).reshape(n, d),
        "v": np.linspace(0.6, 0.9, num=n * d).reshape(n, d),
        "dw2": np.linspace(0.3, -0.5, num=n * d).reshape(n, d),
    }


def momentum_step(w, dw, v, momentum=MOMENTUM, lr=LR):
    """The reference step: returns ``(next_w, next_v)``, arrays of ``w``'s shape."""
    next_v = momentum * v - lr * dw
    return w + next_v, next_v


def call_rule(get_rule: GetRule, w: np.ndarray, dw: np.ndarray, config: dict, lr: float = LR):
    """Call the rule on copies; return ``(next_w, config)`` as (ndarray, dict)."""
    result = get_rule()(w.copy(), dw.copy(), config, lr)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"the update must return (next_w, config), got {type(result).__name__}")
    next_w, config = result
    if not isinstance(config, dict):
        raise TypeError(f"the update must return config as a dict, got {type(config).__name__}")
    return np.asarray(next_w, dtype=np.float64), config


def compare(
    name: str, measured: np.ndarray, expected: np.ndarray
) -> tuple[bool, str, float | None]:
    """``(passed, detail, error)`` of one array against its expected value."""
    if measured.shape != expected.shape:
        return False, f"expected {name} of shape {expected.shape}, measured {measured.shape}", None
    error = rel_error(measured, expected)
    detail = f"expected rel_error({name}, formula) < {MOMENTUM_TOLERANCE:.0e}, measured {error:.3g}"
    return error < MOMENTUM_TOLERANCE, detail, error


def weight_mistakes(inputs: dict[str, np.ndarray]) -> list[tuple[np.ndarray, str]]:
    """Wrong next_w formulas after one step from velocity v with momentum 0.9."""
    w, dw, v = inputs["w"], inputs["dw"], inputs["v"]
    return [
        (
            w + MOMENTUM * v + LR * dw,
            "momentum sign flipped: the gradient is added (the step goes uphill). Use "
            "v = momentum * v - lr * dw, then w = w + v.",
        ),
        (
            w - (MOMENTUM * v - LR * dw),
            "the velocity is subtracted from w: with v = momentum * v - lr * dw the "
            "update is w = w + v.",
        ),
        (
            w - MOMENTUM * v - LR * dw,
            "the momentum term has the wrong sign, e.g. the opposite convention "
            "v = momentum * v + lr * dw with w = w - v. barenet's convention is "
            "v = momentum * v - lr * dw, then w = w + v (the velocity points downhill).",
        ),
        (w - LR * dw, "the velocity is ignored: this is plain SGD, w - lr * dw."),
        (w + MOMENTUM * v - dw, "the learning rate is not applied to dw."),
    ]


def weights_verdict(get_rule: GetRule) -> Verdict:
    """Weights after one step with a given velocity and momentum 0.9."""
    inputs = fixed_inputs()
    config = {"momentum": MOMENTUM, "velocity": inputs["v"].copy()}
    next_w, _ = call_rule(get_rule, inputs["w"], inputs["dw"], config)
    expected, _ = momentum_step(inputs["w"], inputs["dw"], inputs["v"])
    passed, detail, error = compare("next_w", next_w, expected)
    diagnosis = None if passed else diagnoses.first_match(next_w, weight_mistakes(inputs))
    return Verdict(passed, detail, error, diagnosis)


def velocity_verdict(get_rule: GetRule) -> Verdict:
    """The velocity stored after one step, and a second step that must use it."""
    inputs = fixed_inputs()
    w, dw, v, dw2 = inputs["w"], inputs["dw"], inputs["v"], inputs["dw2"]
    config = {"momentum": MOMENTUM, "velocity": v.copy()}
    w1, config = call_rule(get_rule, w, dw, config)
    expected_w1, expected_v1 = momentum_step(w, dw, v)
    if config.get("velocity") is None:
        return Verdict(
            False,
            "expected config['velocity'] after the step, measured no such key",
            None,
            "velocity not stored: config['velocity'] must hold the new velocity, so that "
            "the next step can use it.",
        )
    stored = np.asarray(config["velocity"], dtype=np.float64)
    passed, detail, error = compare("config['velocity']", stored, expected_v1)
    if not passed:
        return Verdict(False, detail, error, velocity_diagnosis(stored, inputs, expected_v1))
    w2, _ = call_rule(get_rule, expected_w1, dw2, config)
    expected_w2, _ = momentum_step(expected_w1, dw2, expected_v1)
    passed, detail, error = compare("next_w of the second step", w2, expected_w2)
    diagnosis = None
    if not passed and diagnoses.matches(w2, expected_w1 - LR * dw2):
        diagnosis = "the second step ignores the stored velocity: read config['velocity']."
    return Verdict(passed, detail, error, diagnosis)


def velocity_diagnosis(
    stored: np.ndarray, inputs: dict[str, np.ndarray], expected_v: np.ndarray
) -> str | None:
    """Explain a wrong stored velocity: the old one kept, or the opposite sign convention."""
    old_v, dw = inputs["v"], inputs["dw"]
    opposite = (
        "the velocity is stored with the opposite sign convention (v = momentum * v + lr * dw, "
        "w = w - v); barenet's convention is v = momentum * v - lr * dw and w = w + v."
    )
    return diagnoses.first_match(
        stored,
        [
            (
                old_v,
                "velocity not stored: config['velocity'] still holds the old velocity; "
                "store the new one (config['velocity'] = v).",
            ),
            (MOMENTUM * old_v + LR * dw, opposite),
            (-expected_v, opposite),
        ],
    )


def default_verdict(get_rule: GetRule) -> Verdict:
    """One step with a velocity but no momentum in config: the default 0.9 must be used."""
    inputs = fixed_inputs()
    w, dw, v = inputs["w"], inputs["dw"], inputs["v"]
    next_w, _ = call_rule(get_rule, w, dw, {"velocity": v.copy()})
    expected, _ = momentum_step(w, dw, v, momentum=DEFAULT_MOMENTUM)
    passed, detail, error = compare("next_w with the default momentum", next_w, expected)
    diagnosis = None
    if not passed and next_w.shape == w.shape:
        # Solve next_w = w + m * v - lr * dw for the momentum m actually used.
        implied = float(np.sum((next_w - w + LR * dw) * v) / np.sum(v * v))
        if implied >= 0 and diagnoses.matches(next_w, w + implied * v - LR * dw):
            diagnosis = f"the default momentum is {implied:.4g}; it must be {DEFAULT_MOMENTUM}."
    return Verdict(passed, detail, error, diagnosis)


def momentum_tests(get_rule: GetRule) -> list[UnitTest]:
    """``SGDMomentumWeightsTest``, ``SGDMomentumVelocityTest``, ``SGDMomentumDefaultTest``."""
    return [
        UnitTest("SGDMomentumWeightsTest", lambda: weights_verdict(get_rule)),
        UnitTest("SGDMomentumVelocityTest", lambda: velocity_verdict(get_rule)),
        UnitTest("SGDMomentumDefaultTest", lambda: default_verdict(get_rule)),
    ]
