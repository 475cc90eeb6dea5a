"""The one-pass updates that Optimizer.step uses equal the reference rules."""

import platform

import numpy as np
import pytest

import barenet as bn
from barenet.optim import fused as optim_fused

pytestmark = pytest.mark.skipif(optim_fused.kernels() is None, reason="numba unavailable")

RULES = [
    (bn.sgd, optim_fused.sgd_step),
    (bn.sgd_momentum, optim_fused.sgd_momentum_step),
    (bn.sgd_nesterov, optim_fused.sgd_nesterov_step),
    (bn.adam, optim_fused.adam_step),
]
IDS = ["sgd", "sgd_momentum", "sgd_nesterov", "adam"]
# Same operations in the same order: equal, or (where a compiler fuses a multiply and an
# add) within one rounding of the dtype per step.
ONE_ROUNDING = {np.float32: 1.2e-7, np.float64: 2.3e-16}
BIT_EXACT_PLATFORM = platform.machine().lower() in ("x86_64", "amd64")


def random_gradients(rng, shape, dtype, steps):
    """Gradients of mixed scales (1 down to 1e-8), with a few all-zero rows (dead units)."""
    for _ in range(steps):
        dw = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 1, size=shape[0])[:, None]
        dw[:3] = 0
        yield dw.astype(dtype)


def run_both(rule, fused, dtype, steps, seed=0, lr=1e-3):
    """``steps`` updates of one (61, 37) parameter by the rule and by the fused loop."""
    rng = np.random.default_rng(seed)
    w_ref = rng.standard_normal((61, 37)).astype(dtype)
    w_fused = w_ref.copy()
    config_ref, config_fused = {}, {}
    for dw in random_gradients(rng, w_ref.shape, dtype, steps):
        rule(w_ref, dw, config_ref, lr, out=w_ref)
        fused(w_fused, dw, config_fused, lr)
    return (w_ref, config_ref), (w_fused, config_fused)


def assert_same_state(config_ref, config_fused, rtol):
    assert config_ref.keys() == config_fused.keys()
    for key, value in config_ref.items():
        if isinstance(value, np.ndarray):
            assert config_fused[key].dtype == value.dtype
            np.testing.assert_allclose(config_fused[key], value, rtol=rtol, atol=0, err_msg=key)
        else:
            assert config_fused[key] == value, key


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rule,fused", RULES, ids=IDS)
def test_one_fused_step_equals_the_rule_on_random_data(rule, fused, dtype):
    (w_ref, c_ref), (w_fused, c_fused) = run_both(rule, fused, dtype, steps=3)
    assert w_fused.dtype == dtype
    np.testing.assert_allclose(w_fused, w_ref, rtol=ONE_ROUNDING[dtype], atol=0)
    assert_same_state(c_ref, c_fused, ONE_ROUNDING[dtype])


@pytest.mark.parametrize("rule,fused", RULES, ids=IDS)
def test_fused_trajectory_of_100_steps_stays_on_the_rule(rule, fused):
    (w_ref, c_ref), (w_fused, c_fused) = run_both(rule, fused, np.float32, steps=100, seed=1)
    # At most one rounding per step could separate them.
    np.testing.assert_allclose(w_fused, w_ref, rtol=100 * ONE_ROUNDING[np.float32], atol=1e-12)
    assert_same_state(c_ref, c_fused, 100 * ONE_ROUNDING[np.float32])


@pytest.mark.skipif(not BIT_EXACT_PLATFORM, reason="bit equality is checked on x86-64")
@pytest.mark.parametrize("rule,fused", RULES, ids=IDS)
def test_fused_trajectory_is_bit_for_bit_the_rule_on_x86(rule, fused):
    (w_ref, c_ref), (w_fused, c_fused) = run_both(rule, fused, np.float32, steps=100, seed=2)
    np.testing.assert_array_equal(w_fused, w_ref)
    assert_same_state(c_ref, c_fused, rtol=0)


def test_fused_adam_flushes_denormal_moments_on_the_rules_schedule():
    w_ref, w_fused = np.zeros(4, np.float32), np.zeros(4, np.float32)
    config_ref, config_fused = {}, {}
    tiny = np.finfo(np.float32).tiny
    for t in range(1, 1001):
        dw = np.full(4, 1e-3 if t == 1 else 0.0, np.float32)  # one gradient, then none
        bn.adam(w_ref, dw, config_ref, 1e-3, out=w_ref)
        optim_fused.adam_step(w_fused, dw, config_fused, 1e-3)
        for key in ("m", "v"):
            state = config_fused[key]
            assert not np.any((state != 0) & (np.abs(state) < tiny)), (t, key)
            np.testing.assert_allclose(state, config_ref[key], rtol=1e-6, atol=0)
    np.testing.assert_allclose(w_fused, w_ref, rtol=1e-6)


def test_fused_adam_starts_its_state_like_the_rule():
    config = optim_fused.adam_step(np.ones(3), np.ones(3), {"beta1": 0.5}, 0.1)
    assert config["t"] == 1 and config["beta1"] == 0.5
    assert (config["beta2"], config["epsilon"]) == (0.999, 1e-8)
    np.testing.assert_allclose(config["m"], 0.5)
    np.testing.assert_allclose(config["v"], 0.001)


@pytest.mark.parametrize(
    "w,dw,config,expected",
    [
        (np.ones(4, np.float32), np.ones(4, np.float32), {}, True),
        (np.ones(4, np.float16), np.ones(4, np.float16), {}, False),
        (np.ones(4, np.float32), np.ones(4, np.float64), {}, False),
        (np.ones((4, 3), np.float32).T, np.ones((3, 4), np.float32), {}, False),
        (np.ones(4), np.ones(4), {"m": np.zeros(4, np.float32), "v": np.zeros(4)}, False),
        (np.ones(4), np.ones(4), {"velocity": np.zeros(5)}, False),
    ],
    ids=["float32", "float16", "mixed-dtypes", "transposed", "state-dtype", "state-shape"],
)
def test_can_fuse_only_contiguous_float_arrays_of_one_dtype(w, dw, config, expected):
    assert optim_fused.can_fuse(w, dw, config) is expected


def test_fused_loops_flush_with_the_reference_constant_and_schedule():
    from barenet.optim import rules

    assert optim_fused.DENORMAL_FLUSH is rules.DENORMAL_FLUSH
    assert optim_fused.FLUSH_EVERY is rules.FLUSH_EVERY
