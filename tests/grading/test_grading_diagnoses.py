"""Broken implementations of each exercise score below 100 and get the right diagnosis."""

import numpy as np
import pytest

from barenet.grading.wrappers import (
    AffineTestWrapper,
    ReluTestWrapper,
    SGDMTestWrapper,
    SigmoidTestWrapper,
)


def failures(wrapper):
    """Score and {test name: message} of the failed tests."""
    result = wrapper.run(verbose=False)
    return result.score, {r.name: r.message for r in result.results if not r.passed}


def stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


# ---------------------------------------------------------------- Sigmoid


class NaiveSigmoid:
    """Overflows in exp(-x) for large negative x."""

    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        return out, out

    def backward(self, dout, cache):
        return dout * cache * (1 - cache)


class AveragingSigmoid(NaiveSigmoid):
    def forward(self, x):
        out = stable_sigmoid(x)
        return out, out

    def backward(self, dout, cache):
        return dout * cache * (1 - cache) / dout.shape[0]


class StatefulSigmoid(AveragingSigmoid):
    """Keeps the output on the layer: the backward uses the latest forward call's."""

    def forward(self, x):
        self.out = stable_sigmoid(x)
        return self.out, None

    def backward(self, dout, cache):
        return dout * self.out * (1 - self.out)


class NoOneMinusSigmoid(AveragingSigmoid):
    def backward(self, dout, cache):
        return dout * cache


class DoutWritingSigmoid(AveragingSigmoid):
    def backward(self, dout, cache):
        dout *= cache * (1 - cache)
        return dout


@pytest.mark.parametrize(
    ("implementation", "failed_test", "words"),
    [
        (NaiveSigmoid, "SigmoidForwardTest", "overflows"),
        (AveragingSigmoid, "SigmoidBackwardTest", "exactly 1/N"),
        (StatefulSigmoid, "SigmoidBackwardTest", "later forward call"),
        (NoOneMinusSigmoid, "SigmoidBackwardTest", "(1 - s)"),
        (DoutWritingSigmoid, "SigmoidBackwardTest", "dout was modified in place"),
    ],
    ids=["overflow", "batch-average", "wrong-cache", "missing-factor", "dout-in-place"],
)
def test_sigmoid_mistakes_are_diagnosed(implementation, failed_test, words):
    score, failed = failures(SigmoidTestWrapper(implementation))
    assert score < 100
    assert words in failed[failed_test]
    assert "Likely cause:" in failed[failed_test]


def test_the_overflow_failure_names_the_warning():
    _, failed = failures(SigmoidTestWrapper(NaiveSigmoid))
    assert "overflow encountered in exp" in failed["SigmoidForwardTest"]


# ---------------------------------------------------------------- ReLU


class ReluBase:
    def forward(self, x):
        return np.maximum(x, 0), x

    def backward(self, dout, cache):
        return np.where(cache > 0, dout, 0.0)


class ReluPassingAtZero(ReluBase):
    def backward(self, dout, cache):
        return np.where(cache >= 0, dout, 0.0)


class ReluFollowingDoutSign(ReluBase):
    def backward(self, dout, cache):
        return np.where(dout > 0, dout, 0.0)


class ReluWritingItsInput(ReluBase):
    def forward(self, x):
        x[x < 0] = 0
        return x, x


class ReluWritingDout(ReluBase):
    def backward(self, dout, cache):
        dout[cache <= 0] = 0
        return dout


class ReluWithStaleState(ReluBase):
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0), None

    def backward(self, dout, cache):
        return np.where(self.x > 0, dout, 0.0)


class ReluAveraging(ReluBase):
    def backward(self, dout, cache):
        return np.where(cache > 0, dout, 0.0) / len(dout)


@pytest.mark.parametrize(
    ("implementation", "failed_test", "words"),
    [
        (ReluPassingAtZero, "ReluBackwardTest", "at exactly 0 must be 0"),
        (ReluFollowingDoutSign, "ReluBackwardTest", "sign of dout"),
        (ReluWritingItsInput, "ReluForwardTest", "the input x was modified in place"),
        (ReluWritingDout, "ReluBackwardTest", "dout was modified in place"),
        (ReluWithStaleState, "ReluBackwardTest", "later forward call"),
        (ReluAveraging, "ReluBackwardTest", "exactly 1/N"),
    ],
    ids=["at-zero", "dout-sign", "input-in-place", "dout-in-place", "wrong-cache", "batch-average"],
)
def test_relu_mistakes_are_diagnosed(implementation, failed_test, words):
    score, failed = failures(ReluTestWrapper(implementation))
    assert score < 100
    assert words in failed[failed_test]


# ---------------------------------------------------------------- affine


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def averaging_backward(dout, cache):
    x, w, _ = cache
    n = x.shape[0]
    dout = dout / n  # "the mean over the batch", averaged a second time
    return (dout @ w.T).reshape(x.shape), x.reshape(n, -1).T @ dout, dout.sum(axis=0)


def transposed_dw_backward(dout, cache):
    x, w, _ = cache
    x2d = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), dout.T @ x2d, dout.sum(axis=0)


def untransposed_dx_backward(dout, cache):
    x, w, _ = cache
    x2d = x.reshape(x.shape[0], -1)
    return (dout @ w).reshape(x.shape), x2d.T @ dout, dout.sum(axis=0)


def forward_without_bias(x, w, b):
    return x.reshape(x.shape[0], -1) @ w, (x, w, b)


def test_affine_averaged_over_the_batch_is_diagnosed_for_each_gradient():
    score, failed = failures(
        AffineTestWrapper(affine_forward=affine_forward, affine_backward=averaging_backward)
    )
    assert score == 25  # only the forward test passes
    for name in ("AffineBackwardTestDx", "AffineBackwardTestDw", "AffineBackwardTestDb"):
        assert "exactly 1/N (N = 10)" in failed[name]
        assert "loss already averages" in failed[name]


def test_affine_transposed_dw_is_diagnosed():
    score, failed = failures(
        AffineTestWrapper(affine_forward=affine_forward, affine_backward=transposed_dw_backward)
    )
    assert score == 75
    assert "transposed" in failed["AffineBackwardTestDw"]
    assert "(5, 6) instead of (6, 5)" in failed["AffineBackwardTestDw"]


def test_affine_w_not_transposed_in_dx_is_diagnosed():
    score, failed = failures(
        AffineTestWrapper(affine_forward=affine_forward, affine_backward=untransposed_dx_backward)
    )
    assert score == 25
    assert "raised ValueError" in failed["AffineBackwardTestDx"]
    assert "dout @ w.T" in failed["AffineBackwardTestDx"]


def test_affine_forward_without_bias_is_diagnosed():
    import barenet.layers

    score, failed = failures(
        AffineTestWrapper(
            affine_forward=forward_without_bias, affine_backward=barenet.layers.affine_backward
        )
    )
    assert score == 75
    assert "without the bias" in failed["AffineForwardTest"]


def test_affine_backward_writing_into_dout_is_diagnosed():
    def writes_dout(dout, cache):
        x, w, _ = cache
        dout *= 1.0  # harmless value, but a write all the same
        dout[0] = 0.0
        return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout.sum(0)

    score, failed = failures(
        AffineTestWrapper(affine_forward=affine_forward, affine_backward=writes_dout)
    )
    assert score == 25
    assert "dout was modified in place by affine_backward" in failed["AffineBackwardTestDw"]


# ---------------------------------------------------------------- SGD + momentum


def momentum_sign_flipped(w, dw, config=None, lr=1e-2):
    config = {} if config is None else config
    v = config.get("momentum", 0.9) * config.get("velocity", np.zeros_like(w)) + lr * dw
    config["velocity"] = v
    return w + v, config


def velocity_not_stored(w, dw, config=None, lr=1e-2):
    config = {} if config is None else config
    v = config.get("momentum", 0.9) * config.get("velocity", np.zeros_like(w)) - lr * dw
    return w + v, config


def wrong_default_momentum(w, dw, config=None, lr=1e-2):
    config = {} if config is None else config
    config.setdefault("momentum", 0.5)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - lr * dw
    config["velocity"] = v
    return w + v, config


class OppositeConventionSGDMomentum:
    """v = momentum * v + lr * dw; w = w - v: the same weights, the opposite velocity."""

    def _update(self, w, dw, config, lr):
        v = config.get("momentum", 0.9) * config.get("velocity", np.zeros_like(w)) + lr * dw
        config["velocity"] = v
        return w - v, config


def test_momentum_sign_flipped_is_diagnosed():
    score, failed = failures(SGDMTestWrapper(momentum_sign_flipped))
    assert score < 100
    assert "momentum sign flipped" in failed["SGDMomentumWeightsTest"]


def test_velocity_not_stored_is_diagnosed():
    score, failed = failures(SGDMTestWrapper(velocity_not_stored))
    assert score < 100
    assert "velocity not stored" in failed["SGDMomentumVelocityTest"]
    assert "SGDMomentumWeightsTest" not in failed


def test_wrong_default_momentum_is_diagnosed():
    score, failed = failures(SGDMTestWrapper(wrong_default_momentum))
    assert score == 66
    assert "the default momentum is 0.5; it must be 0.9" in failed["SGDMomentumDefaultTest"]


def test_opposite_velocity_convention_is_diagnosed():
    score, failed = failures(SGDMTestWrapper(OppositeConventionSGDMomentum))
    assert score == 0
    assert "opposite convention" in failed["SGDMomentumWeightsTest"]
    assert "opposite sign convention" in failed["SGDMomentumVelocityTest"]


def test_update_returning_only_the_weights_is_reported():
    score, failed = failures(SGDMTestWrapper(lambda w, dw, config, lr: w - lr * dw))
    assert score == 0
    assert "must return (next_w, config)" in failed["SGDMomentumWeightsTest"]
