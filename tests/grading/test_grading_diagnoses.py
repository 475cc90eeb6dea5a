"""Broken implementations of each exercise score below 100 and get the right diagnosis."""

import numpy as np
import pytest

from barenet.grading.local import wrappers


def quiet(wrapper):
    """The wrapper, silent and with fixed inputs."""
    return lambda *args, **kwargs: wrapper(*args, verbose=False, seed=7, **kwargs)


SigmoidTestWrapper = quiet(wrappers.SigmoidTestWrapper)
ReluTestWrapper = quiet(wrappers.ReluTestWrapper)
AffineTestWrapper = quiet(wrappers.AffineTestWrapper)
SGDMTestWrapper = quiet(wrappers.SGDMTestWrapper)


def failures(score):
    """Score and {test name: message} of the failed tests."""
    result = score.result
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
        (AveragingSigmoid, "SigmoidBackwardTest", "exactly 1/N"),
        (StatefulSigmoid, "SigmoidBackwardTest", "later forward call"),
        (NoOneMinusSigmoid, "SigmoidBackwardTest", "(1 - out)"),
    ],
    ids=["batch-average", "wrong-cache", "missing-factor"],
)
def test_sigmoid_mistakes_are_diagnosed(implementation, failed_test, words):
    score, failed = failures(SigmoidTestWrapper(implementation))
    assert score < 100
    assert words in failed[failed_test]
    assert "Likely cause:" in failed[failed_test]


def test_overflow_and_writes_into_dout_are_advice_not_failures():
    score = SigmoidTestWrapper(NaiveSigmoid)
    assert score == 100
    assert "overflow encountered in exp" in score.result.results[0].advice[0]
    score = SigmoidTestWrapper(DoutWritingSigmoid)
    assert score == 100
    assert "dout modified in place by backward" in score.result.results[1].advice[0]


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
        (ReluPassingAtZero, "ReluBackwardTest", "gradient at 0 is 0"),
        (ReluFollowingDoutSign, "ReluBackwardTest", "sign of dout"),
        (ReluWithStaleState, "ReluBackwardTest", "later forward call"),
        (ReluAveraging, "ReluBackwardTest", "exactly 1/N"),
    ],
    ids=["at-zero", "dout-sign", "wrong-cache", "batch-average"],
)
def test_relu_mistakes_are_diagnosed(implementation, failed_test, words):
    score, failed = failures(ReluTestWrapper(implementation))
    assert score < 100
    assert words in failed[failed_test]


def test_relu_writing_its_input_or_dout_is_advice():
    for implementation, words in [
        (ReluWritingItsInput, "the input x modified in place by forward"),
        (ReluWritingDout, "dout modified in place by backward"),
    ]:
        score = ReluTestWrapper(implementation)
        assert score == 100
        assert any(words in a for r in score.result.results for a in r.advice)


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
        assert "exactly 1/N (N = " in failed[name]
        assert "loss already averages" in failed[name]


def test_affine_transposed_dw_is_diagnosed():
    score, failed = failures(
        AffineTestWrapper(affine_forward=affine_forward, affine_backward=transposed_dw_backward)
    )
    assert score == 75
    assert "transposed" in failed["AffineBackwardTestDw"]
    assert "instead of" in failed["AffineBackwardTestDw"]


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


def test_affine_backward_writing_into_dout_is_advice():
    def writes_dout(dout, cache):
        x, w, _ = cache
        grads = (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout.sum(0)
        dout *= 2.0  # right gradients, but the caller's dout is spoiled
        return grads

    score = AffineTestWrapper(affine_forward=affine_forward, affine_backward=writes_dout)
    assert score == 100
    advice = score.result.results[2].advice
    assert "dout modified in place by affine_backward" in advice[0]


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
    assert "the gradient is added" in failed["SGDM_Weight_Test"]


def test_velocity_not_stored_is_diagnosed():
    score, failed = failures(SGDMTestWrapper(velocity_not_stored))
    assert score < 100
    assert "velocity not stored" in failed["SGDM_Velocity_Test"]
    assert "SGDM_Weight_Test" not in failed


def test_wrong_default_momentum_is_diagnosed():
    score, failed = failures(SGDMTestWrapper(wrong_default_momentum))
    assert score == 50
    assert "the momentum used is 0.5" in failed["SGDM_Weight_Test"]


def test_opposite_velocity_convention_is_diagnosed():
    score, failed = failures(SGDMTestWrapper(OppositeConventionSGDMomentum))
    assert score == 0
    assert "opposite convention" in failed["SGDM_Weight_Test"]
    assert "opposite convention" in failed["SGDM_Velocity_Test"]


def test_update_returning_only_the_weights_is_reported():
    score, failed = failures(SGDMTestWrapper(lambda w, dw, config, lr: w - lr * dw))
    assert score == 0
    assert "must return (next_w, config)" in failed["SGDM_Weight_Test"]
