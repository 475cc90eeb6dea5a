"""Unit tests of the SGD-with-momentum update rule.

The rule is called as the course calls ``SGDMomentum._update``:
``rule(w, dw, config, lr) -> (next_w, config)``. Its convention is
``v = momentum * v - lr * dw``, then ``w = w + v``; ``config['velocity']`` holds
``v`` between steps, ``config.get('momentum', 0.9)`` is the momentum. The course's
two tests (a step from a given velocity, with the default momentum) come first;
barenet's add a first step with no velocity in ``config`` and a momentum other
than 0.9, the two defects real solutions have that the course's tests miss.
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions import diagnoses
from barenet.grading.engine.records import as_array, compare, dict_value, items
from barenet.grading.engine.results import Verdict
from barenet.grading.engine.spec import Probe, TestSpec
from barenet.grading.sandboxed.learner_calls import Call, Ref

MOMENTUM_TOLERANCE = 1e-8
DEFAULT_MOMENTUM = 0.9
FORMULA = "the momentum step"
RETURNS = "the update must return (next_w, config)"

FLIPPED = (
    "the momentum term has the wrong sign, e.g. the opposite convention "
    "v = momentum * v + lr * dw with w = w - v. The convention here is "
    "v = momentum * v - lr * dw, then w = w + v (the velocity points downhill)."
)
MISSING_VELOCITY = (
    "the first step finds no 'velocity' in config: start from zeros, e.g. "
    "v = config.get('velocity', np.zeros_like(w))."
)


def step_inputs(rng: np.random.Generator) -> dict:
    """Fresh w, dw, v, dw2 of one random shape (n, d), and a learning rate."""
    shape = (int(rng.integers(2, 7)), int(rng.integers(2, 8)))
    inputs = {key: rng.standard_normal(shape) for key in ("w", "dw", "v", "dw2")}
    inputs["lr"] = float(10 ** rng.uniform(-3, -1))
    return inputs


def momentum_step(w, dw, v, momentum, lr):
    """The reference step: ``(next_w, next_v)``, arrays of ``w``'s shape."""
    next_v = momentum * v - lr * dw
    return w + next_v, next_v


def step_call(inputs: dict, config: dict, keep: str | None = None) -> Call:
    return Call("SGDMomentum", (inputs["w"], inputs["dw"], config, inputs["lr"]), keep=keep)


def next_w_of(record: dict) -> np.ndarray:
    next_w, _ = items(record["result"], 2, RETURNS)
    return as_array(next_w, "next_w")


def velocity_of(record: dict) -> np.ndarray | None:
    """``config['velocity']`` after the step: in the returned config, else the one passed."""
    _, config = items(record["result"], 2, RETURNS)
    stored = dict_value(config, "velocity")
    if stored is None and record.get("args_after"):
        stored = dict_value(record["args_after"][2], "velocity")
    return None if stored is None else as_array(stored, "config['velocity']")


def weight_mistakes(inputs: dict, momentum: float) -> list[tuple[np.ndarray, str]]:
    """Wrong next_w formulas after one step from velocity v."""
    w, dw, v, lr = inputs["w"], inputs["dw"], inputs["v"], inputs["lr"]
    return [
        (w + momentum * v + lr * dw, "the gradient is added: the step goes uphill. " + FLIPPED),
        (w - (momentum * v - lr * dw), "the velocity is subtracted from w: w = w + v."),
        (w - momentum * v - lr * dw, FLIPPED),
        (w - lr * dw, "the velocity is ignored: this is plain SGD, w - lr * dw."),
        (w + momentum * v - dw, "the learning rate is not applied to dw."),
        (
            w + DEFAULT_MOMENTUM * v - lr * dw,
            "the momentum is hard-coded to 0.9: read it from the config, "
            "config.get('momentum', 0.9).",
        ),
    ]


def implied_momentum(next_w: np.ndarray, inputs: dict) -> str | None:
    """Name the momentum actually used, when next_w = w + m * v - lr * dw for some m."""
    w, dw, v, lr = inputs["w"], inputs["dw"], inputs["v"], inputs["lr"]
    if next_w.shape != w.shape:
        return None
    m = float(np.sum((next_w - w + lr * dw) * v) / np.sum(v * v))
    if diagnoses.matches(next_w, w + m * v - lr * dw):
        return f"the momentum used is {m:.4g}, not the one asked for."
    return None


def weight_spec(name: str, momentum: float | None) -> TestSpec:
    """One step from a given velocity; ``momentum=None`` leaves it out of config (0.9)."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = step_inputs(rng)
        if momentum is None:
            used = DEFAULT_MOMENTUM
        else:
            used = float(rng.uniform(0.3, 0.8))  # never 0.9: a hard-coded 0.9 must show
        config = {"learning_rate": inputs["lr"], "velocity": inputs["v"]}
        if momentum is not None:
            config["momentum"] = used
        return Probe([step_call(inputs, config)], {**inputs, "momentum": used})

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        inputs, used = probe.context, probe.context["momentum"]
        next_w = next_w_of(records[0])
        expected, _ = momentum_step(inputs["w"], inputs["dw"], inputs["v"], used, inputs["lr"])
        passed, detail, error = compare("next_w", next_w, expected, MOMENTUM_TOLERANCE, FORMULA)
        if passed:
            return Verdict(True, "", error)
        diagnosis = diagnoses.first_match(
            next_w, weight_mistakes(inputs, used)
        ) or implied_momentum(next_w, inputs)
        return Verdict(False, detail, error, diagnosis)

    return TestSpec(name, "SGDMomentum", build, judge)


def velocity_diagnosis(stored: np.ndarray, inputs: dict, expected_v: np.ndarray) -> str | None:
    """Explain a wrong stored velocity: the old one kept, or the opposite sign convention."""
    old_v, dw, lr = inputs["v"], inputs["dw"], inputs["lr"]
    return diagnoses.first_match(
        stored,
        [
            (
                old_v,
                "velocity not stored: config['velocity'] still holds the old velocity; "
                "store the new one (config['velocity'] = v).",
            ),
            (DEFAULT_MOMENTUM * old_v + lr * dw, FLIPPED),
            (-expected_v, FLIPPED),
        ],
    )


def velocity_spec() -> TestSpec:
    """``SGDM_Velocity_Test``: the stored velocity, and a second step that must use it."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = step_inputs(rng)
        config = {"learning_rate": inputs["lr"], "velocity": inputs["v"]}
        w1, _ = momentum_step(inputs["w"], inputs["dw"], inputs["v"], 0.9, inputs["lr"])
        second = Call("SGDMomentum", (w1, inputs["dw2"], Ref("first", 1), inputs["lr"]))
        return Probe([step_call(inputs, config, keep="first"), second], {**inputs, "w1": w1})

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        inputs = probe.context
        _, expected_v = momentum_step(
            inputs["w"], inputs["dw"], inputs["v"], DEFAULT_MOMENTUM, inputs["lr"]
        )
        stored = velocity_of(records[0])
        if stored is None:
            return Verdict(
                False,
                "expected config['velocity'] after the step, measured no such key",
                None,
                "velocity not stored: config['velocity'] must hold the new velocity, so that "
                "the next step can use it.",
            )
        passed, detail, error = compare(
            "config['velocity']", stored, expected_v, MOMENTUM_TOLERANCE, FORMULA
        )
        if not passed:
            return Verdict(False, detail, error, velocity_diagnosis(stored, inputs, expected_v))
        w2 = next_w_of(records[1])
        expected_w2, _ = momentum_step(
            inputs["w1"], inputs["dw2"], expected_v, DEFAULT_MOMENTUM, inputs["lr"]
        )
        passed, detail, error = compare(
            "next_w of the second step", w2, expected_w2, MOMENTUM_TOLERANCE, FORMULA
        )
        diagnosis = None
        if not passed and diagnoses.matches(w2, inputs["w1"] - inputs["lr"] * inputs["dw2"]):
            diagnosis = "the second step ignores the stored velocity: read config['velocity']."
        return Verdict(passed, detail, error, diagnosis)

    return TestSpec("SGDM_Velocity_Test", "SGDMomentum", build, judge)


def first_step_spec() -> TestSpec:
    """``SGDMomentumFirstStepTest``: ``config = {}`` (no velocity, no momentum yet)."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = step_inputs(rng)
        return Probe([step_call(inputs, {})], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        inputs = probe.context
        expected, expected_v = momentum_step(
            inputs["w"], inputs["dw"], 0.0, DEFAULT_MOMENTUM, inputs["lr"]
        )
        passed, detail, error = compare(
            "next_w", next_w_of(records[0]), expected, MOMENTUM_TOLERANCE, "the first step"
        )
        if not passed:
            return Verdict(False, detail, error)
        stored = velocity_of(records[0])
        if stored is None:
            return Verdict(
                False,
                "expected config['velocity'] after the first step, measured no such key",
                None,
                "store the velocity in config, so that the next step can use it.",
            )
        passed, detail, error = compare(
            "config['velocity']",
            stored,
            expected_v,
            MOMENTUM_TOLERANCE,
            "the first step's velocity",
        )
        return Verdict(passed, detail, error)

    def explain(error: dict) -> str | None:
        if error.get("type") == "KeyError" and "velocity" in error.get("message", ""):
            return MISSING_VELOCITY
        return None

    return TestSpec("SGDMomentumFirstStepTest", "SGDMomentum", build, judge, explain)


def momentum_specs() -> list[TestSpec]:
    """The course's ``SGDM_Weight_Test``, ``SGDM_Velocity_Test``, then barenet's two."""
    return [
        weight_spec("SGDM_Weight_Test", momentum=None),
        velocity_spec(),
        first_step_spec(),
        weight_spec("SGDMomentumCustomMomentumTest", momentum=0.5),
    ]
