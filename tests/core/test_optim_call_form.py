"""``rule(w, dw, config)``: the learning rate from the config, as some courses call it."""

import numpy as np
import pytest

import barenet as bn


def test_sgd_reads_the_learning_rate_from_config():
    w, config = bn.sgd(np.array([1.0, 2.0]), np.array([1.0, -1.0]), {"learning_rate": 0.5})
    np.testing.assert_allclose(w, [0.5, 2.5])
    assert config["learning_rate"] == 0.5


def test_sgd_momentum_reads_the_learning_rate_from_config():
    config = {"learning_rate": 0.5, "momentum": 0.9}
    w, config = bn.sgd_momentum(np.array([1.0]), np.array([2.0]), config)
    np.testing.assert_allclose(config["velocity"], [-1.0])
    np.testing.assert_allclose(w, [0.0])
    w, config = bn.sgd_momentum(w, np.array([2.0]), config)
    np.testing.assert_allclose(config["velocity"], [-1.9])
    np.testing.assert_allclose(w, [-1.9])


def test_adam_reads_the_learning_rate_from_config():
    # First step: m_hat = dw and v_hat = dw**2, so w moves by lr * sign(dw).
    w, config = bn.adam(np.array([1.0, -1.0]), np.array([0.2, -0.4]), {"learning_rate": 0.25})
    np.testing.assert_allclose(w, [0.75, -0.75], rtol=1e-7)
    assert config["t"] == 1


@pytest.mark.parametrize("rule", [bn.sgd, bn.sgd_momentum, bn.adam])
def test_without_lr_or_config_the_one_default_is_used_and_stored(rule):
    _, config = rule(np.zeros(2), np.ones(2))
    assert config["learning_rate"] == bn.optim.LEARNING_RATE == 1e-3


@pytest.mark.parametrize("rule", [bn.sgd, bn.sgd_momentum, bn.adam])
def test_an_explicit_lr_wins_over_the_config(rule):
    config = {"learning_rate": 100.0}
    w_config, _ = rule(np.ones(3), np.ones(3), dict(config), 0.1)
    w_plain, _ = rule(np.ones(3), np.ones(3), None, 0.1)
    np.testing.assert_array_equal(w_config, w_plain)
    assert "learning_rate" not in rule(np.ones(3), np.ones(3), {}, 0.1)[1]
