"""Optimizers: update rules against hand-computed values, state, validation."""

import numpy as np
import pytest

import barenet as bn


class TwoParams:
    def __init__(self):
        self.params = {"W": np.array([1.0, -2.0]), "b": np.array([0.5])}
        self.grads = {"W": np.array([0.1, 0.2]), "b": np.array([-1.0])}


def test_sgd_known_values():
    w, _ = bn.sgd(np.array([1.0, 2.0]), np.array([0.5, -1.0]), {}, lr=0.1)
    np.testing.assert_allclose(w, [0.95, 2.1])


def test_sgd_momentum_known_values_two_steps():
    w, dw = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    w1, config = bn.sgd_momentum(w, dw, None, lr=0.1)
    assert config["momentum"] == 0.9
    np.testing.assert_allclose(config["velocity"], [-0.05, 0.1])
    np.testing.assert_allclose(w1, [0.95, 2.1])
    w2, config = bn.sgd_momentum(w1, dw, config, lr=0.1)
    # v = 0.9 * [-0.05, 0.1] - 0.1 * [0.5, -1] = [-0.095, 0.19]
    np.testing.assert_allclose(config["velocity"], [-0.095, 0.19])
    np.testing.assert_allclose(w2, [0.855, 2.29])
    np.testing.assert_array_equal(w, [1.0, 2.0])  # inputs untouched


def test_adam_known_values():
    w, dw = np.array([1.0, -1.0]), np.array([0.2, -0.4])
    w1, config = bn.adam(w, dw, None, lr=0.01)
    # First step: m_hat = dw, v_hat = dw**2, so the step is lr * sign(dw) (up to epsilon).
    np.testing.assert_allclose(w1, [0.99, -0.99], rtol=1e-7)
    assert config["t"] == 1
    np.testing.assert_allclose(config["m"], 0.1 * dw)
    np.testing.assert_allclose(config["v"], 0.001 * dw**2)
    w2, config = bn.adam(w1, np.array([0.1, 0.1]), config, lr=0.01)
    m = 0.9 * 0.1 * dw + 0.1 * np.array([0.1, 0.1])
    v = 0.999 * 0.001 * dw**2 + 0.001 * np.array([0.01, 0.01])
    expected = w1 - 0.01 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(w2, expected, rtol=1e-12)
    assert config["t"] == 2


@pytest.mark.parametrize("rule", [bn.sgd, bn.sgd_momentum, bn.adam])
def test_rules_keep_float32(rule):
    w = np.ones(3, np.float32)
    next_w, _ = rule(w, np.full(3, 0.5, np.float32), None, 0.1)
    assert next_w.dtype == np.float32


@pytest.mark.parametrize(
    "cls,rule", [(bn.SGD, bn.sgd), (bn.SGDMomentum, bn.sgd_momentum), (bn.Adam, bn.adam)]
)
def test_optimizer_step_matches_rule_per_parameter(cls, rule):
    model = TwoParams()
    opt = cls(model, bn.CrossEntropyFromLogits(), learning_rate=0.1)
    w0 = {k: v.copy() for k, v in model.params.items()}
    opt.step()
    opt.step()
    for name in w0:
        w, config = w0[name], None
        for _ in range(2):
            w, config = rule(w, model.grads[name], config, 0.1)
        np.testing.assert_allclose(model.params[name], w)
    assert set(opt.state) == {"W", "b"}


def test_sgd_momentum_update_method_does_not_depend_on_self():
    w, dw = np.array([1.0]), np.array([1.0])
    next_w, config = bn.SGDMomentum._update(
        None, w, dw, {"momentum": 0.5, "velocity": np.array([1.0])}, 0.1
    )
    np.testing.assert_allclose(config["velocity"], [0.4])
    np.testing.assert_allclose(next_w, [1.4])


def test_hyperparameters_reach_the_rule():
    model = TwoParams()
    opt = bn.Adam(model, None, 0.1, beta1=0.5, epsilon=1e-3)
    opt.step()
    assert opt.state["W"]["beta1"] == 0.5 and opt.state["W"]["epsilon"] == 1e-3


@pytest.mark.parametrize(
    "cls,kwargs,match",
    [
        (bn.SGD, {"learning_rate": -0.1}, "learning_rate must be >= 0"),
        (bn.SGDMomentum, {"momentum": 1.0}, r"momentum must be \[0.0, 1.0\)"),
        (bn.SGDMomentum, {"momentum": -0.1}, "momentum"),
        (bn.Adam, {"beta1": 1.0}, "beta1"),
        (bn.Adam, {"beta2": -0.5}, "beta2"),
        (bn.Adam, {"epsilon": -1}, "epsilon"),
        (bn.Adam, {"momentum": 0.9}, "unknown hyperparameter"),
        (bn.SGD, {"learning_rate": float("nan")}, "learning_rate"),
    ],
)
def test_bad_hyperparameters_raise_naming_them(cls, kwargs, match):
    kwargs = {"learning_rate": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        cls(TwoParams(), None, **kwargs)


def test_flush_denormals_zeroes_only_negligible_values():
    values = np.array([1e-40, -1e-39, 1e-38, 1e-22, -3e-12, 1e-8, 1.0], np.float32)
    flushed = values.copy()
    bn.optim.flush_denormals(flushed)
    np.testing.assert_array_equal(flushed[:3], 0)
    np.testing.assert_array_equal(flushed[3:], values[3:])


def test_adam_state_of_a_dead_unit_never_goes_denormal():
    w = np.zeros(4, np.float32)
    config = None
    for t in range(1, 1001):
        dw = np.full(4, 1e-3 if t == 1 else 0.0, np.float32)  # one gradient, then none
        w, config = bn.adam(w, dw, config, 1e-3)
    tiny = np.finfo(np.float32).tiny
    for key in ("m", "v"):
        state = config[key]
        assert not np.any((state != 0) & (np.abs(state) < tiny)), key


def test_one_learning_rate_default_for_rules_optimizers_and_solver():
    import inspect

    default = bn.optim.LEARNING_RATE
    assert bn.SGD(TwoParams()).lr == bn.Adam(TwoParams()).lr == default
    assert inspect.signature(bn.Solver).parameters["learning_rate"].default == default
    for rule in (bn.sgd, bn.sgd_momentum, bn.adam):
        assert rule(np.zeros(2), np.ones(2), {})[1]["learning_rate"] == default


def test_the_registry_names_every_optimizer_and_states_each_default_once():
    from barenet.optim import rules

    assert bn.optim.OPTIMIZERS == {
        "adam": bn.Adam,
        "sgd_momentum": bn.SGDMomentum,
        "sgd_nesterov": bn.SGDNesterov,
        "sgd": bn.SGD,
    }
    assert bn.optim.optimizer_class("sgd") is bn.SGD
    with pytest.raises(ValueError, match="optimizer must be one of adam, sgd_momentum, sgd_n"):
        bn.optim.optimizer_class("rmsprop")
    # The classes' defaults are the very dicts the rules fill in state from.
    assert bn.SGDMomentum.defaults is bn.SGDNesterov.defaults is rules.MOMENTUM_DEFAULTS
    assert bn.Adam.defaults is rules.ADAM_DEFAULTS
    config = {}
    bn.adam(np.zeros(2), np.ones(2), config, 0.1)
    assert {k: config[k] for k in bn.Adam.defaults} == bn.Adam.defaults
