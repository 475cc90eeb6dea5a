"""Optimizer.step: the one-pass loops where they apply, the rule everywhere else."""

import numpy as np
import pytest

import barenet as bn
from barenet.optim import fused as optim_fused

CLASSES = [
    (bn.SGD, bn.sgd),
    (bn.SGDMomentum, bn.sgd_momentum),
    (bn.SGDNesterov, bn.sgd_nesterov),
    (bn.Adam, bn.adam),
]
IDS = ["SGD", "SGDMomentum", "SGDNesterov", "Adam"]


class Model:
    """A flat dict of parameters and their gradients, as a Network has."""

    def __init__(self, dtype=np.float32, transpose=False, seed=0):
        rng = np.random.default_rng(seed)
        w = rng.standard_normal((7, 5)).astype(dtype)
        self.params = {"W": w.T if transpose else w, "b": rng.standard_normal(5).astype(dtype)}
        # Gradients of magnitude >= 0.5: float16's Adam keeps v above its underflow.
        grads = {k: rng.standard_normal(v.shape) for k, v in self.params.items()}
        self.grads = {k: (g + 0.5 * np.sign(g)).astype(dtype) for k, g in grads.items()}


def reference_run(model, rule, steps, lr):
    """What ``steps`` optimizer steps must give: the rule applied to copies."""
    out = {}
    for name, w in model.params.items():
        w, config = w.copy(), None
        for _ in range(steps):
            w, config = rule(w, model.grads[name], config, lr)
        out[name] = (w, config)
    return out


def assert_matches(opt, model, expected, rtol=0):
    for name, (w, config) in expected.items():
        np.testing.assert_allclose(model.params[name], w, rtol=rtol, atol=0)
        assert opt.state[name].keys() - {"learning_rate"} == config.keys()


@pytest.mark.parametrize("cls,rule", CLASSES, ids=IDS)
def test_step_uses_the_fused_loop_for_float32(monkeypatch, cls, rule):
    calls = []
    real = cls._fused

    def spy(w, dw, config, lr):
        calls.append(w.dtype)
        return real(w, dw, config, lr)

    monkeypatch.setattr(cls, "_fused", staticmethod(spy))
    model = Model()
    opt = cls(model, None, learning_rate=0.01)
    w0 = {k: v.copy() for k, v in model.params.items()}
    params = dict(model.params)
    opt.step()
    opt.step()
    if optim_fused.kernels() is not None:
        assert calls == [np.float32] * 4
    assert all(model.params[k] is params[k] for k in params)  # updated in place
    model.params = {k: v.copy() for k, v in w0.items()}
    expected = reference_run(model, rule, 2, 0.01)
    model.params = params
    assert_matches(opt, model, expected, rtol=1e-6)


@pytest.mark.parametrize("cls,rule", CLASSES, ids=IDS)
@pytest.mark.parametrize(
    "case", ["float16", "transposed", "no-numba"], ids=["float16", "transposed", "no-numba"]
)
def test_step_falls_back_to_the_rule(monkeypatch, cls, rule, case):
    if case == "no-numba":
        monkeypatch.setattr(optim_fused, "kernels", lambda: None)
    model = Model(
        dtype=np.float16 if case == "float16" else np.float32, transpose=case == "transposed"
    )
    expected = reference_run(model, rule, 3, 0.01)
    opt = cls(model, None, learning_rate=0.01)
    for _ in range(3):
        opt.step()
    assert_matches(opt, model, expected)  # the rule itself: exactly its numbers


def test_step_state_keeps_the_papers_names_only():
    model = Model()
    opt = bn.Adam(model, None, learning_rate=0.01)
    opt.step()
    assert set(opt.state["W"]) == {"beta1", "beta2", "epsilon", "m", "v", "t"}
    opt = bn.SGDMomentum(model, None, learning_rate=0.01)
    opt.step()
    assert set(opt.state["W"]) == {"momentum", "velocity"}


def test_a_subclass_with_its_own_update_is_the_one_called():
    """A learner's ``_update(self, w, dw, config, lr)`` (no ``out``) drives the step."""

    class HalfMomentum(bn.SGDMomentum):
        def _update(self, w, dw, config, lr):
            config.setdefault("velocity", np.zeros_like(w))
            config["velocity"] = 0.5 * config["velocity"] - lr * dw
            return w + config["velocity"], config

    model = Model()
    w0 = model.params["W"].copy()
    held = model.params["W"]
    opt = HalfMomentum(model, None, learning_rate=0.1)
    opt.step()
    opt.step()
    dw = model.grads["W"]
    np.testing.assert_allclose(model.params["W"], w0 - 0.1 * dw - 0.15 * dw, rtol=1e-6)
    assert model.params["W"] is held  # written into the parameter, not replacing it


def test_resumed_state_continues_the_same_trajectory():
    """State saved and loaded as arrays and scalars (a checkpoint) gives the same steps."""
    model_a, model_b = Model(), Model()
    opt_a = bn.Adam(model_a, None, learning_rate=0.01)
    for _ in range(3):
        opt_a.step()
    opt_b = bn.Adam(model_b, None, learning_rate=0.01)
    model_b.params = {k: v.copy() for k, v in model_a.params.items()}
    opt_b.state = {
        name: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in config.items()}
        for name, config in opt_a.state.items()
    }
    for _ in range(20):
        opt_a.step()
        opt_b.step()
    for name in model_a.params:
        np.testing.assert_array_equal(model_b.params[name], model_a.params[name])
