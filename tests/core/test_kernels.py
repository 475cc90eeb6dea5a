"""The compiled passes of max pooling and batch, group and layer norm against the NumPy
function forms: random and odd shapes, N = 1, both memory orders, both dtypes, ties;
float64 numerical gradients of the layer objects; where each path applies."""

import numpy as np
import pytest
from layer_contract import assert_layer_contract

from barenet.gradcheck import eval_numerical_gradient_array, rel_error
from barenet.layers import (
    AvgPool2d,
    BatchNorm2d,
    GroupNorm,
    LayerNorm,
    MaxPool2d,
    compiled,
    layernorm_backward,
    layernorm_forward,
    max_pool_backward,
    max_pool_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from barenet.layers.batchnorm import compiled_batchnorm_backward, compiled_batchnorm_forward
from barenet.layers.norm import (
    compiled_groupnorm_forward,
    compiled_layernorm_backward,
    compiled_layernorm_forward,
    compiled_norm_backward,
)
from barenet.layers.pool import compiled_max_pool_backward, compiled_max_pool_forward

pytestmark = pytest.mark.skipif(compiled.kernels() is None, reason="numba is not installed")


def channels_last(x: np.ndarray) -> np.ndarray:
    """The same (N, C, H, W) values in channels-last memory, as the convolution writes."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def in_order(x: np.ndarray, order: str) -> np.ndarray:
    return channels_last(x) if order == "channels-last" else np.ascontiguousarray(x)


def memory_order(a: np.ndarray) -> tuple:
    """The axes from the largest stride to the smallest: (0, 1, 2, 3) is NCHW memory."""
    return tuple(np.argsort(a.strides)[::-1])


def assert_float_close(actual, expected):
    """Equal to the dtype's rounding, relative to the array's scale: the compiled sums run
    in float64, NumPy's in the dtype (pairwise), so the two round differently in the last
    bits; a sum's rounding grows with its terms, which cancel in ``dgamma``."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    tol = 4e-6 if expected.dtype == np.float32 else 1e-12
    scale = max(float(np.abs(expected).max()), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale)


ORDERS = ["channels-last", "nchw"]
DTYPES = [np.float32, np.float64]
MAPS = [(1, 1, 2, 2), (1, 5, 7, 9), (3, 4, 6, 6), (2, 17, 5, 11), (4, 32, 8, 8)]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "k"), [(s, k) for s in MAPS for k in (2, 3) if k <= min(s[2:])])
def test_max_pool_equals_the_function_form_exactly(order, dtype, shape, k):
    rng = np.random.default_rng(sum(shape) + k)
    # Few distinct values: most windows hold ties, which go to the first maximum.
    x = in_order(rng.integers(-2, 3, shape).astype(dtype), order)
    param = {"pool_height": k, "pool_width": k, "stride": k}
    out, cache = compiled_max_pool_forward(x, param)
    ref_out, ref_cache = max_pool_forward(x, param)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(cache[0], ref_cache[0])
    assert cache[0].dtype == np.uint8 and out.dtype == dtype
    assert memory_order(out) == memory_order(ref_out)
    dout = in_order(rng.standard_normal(out.shape).astype(dtype), order)
    dx = compiled_max_pool_backward(dout, cache)
    np.testing.assert_array_equal(dx, max_pool_backward(dout, ref_cache))
    assert memory_order(dx) == memory_order(x) and dx.dtype == dtype
    # Each path's backward accepts the other's cache, and dout in the other memory order.
    other = in_order(dout, ORDERS[1 - ORDERS.index(order)])
    np.testing.assert_array_equal(max_pool_backward(other, cache), dx)
    np.testing.assert_array_equal(compiled_max_pool_backward(other, ref_cache), dx)


def test_max_pool_ties_go_to_the_first_maximum_and_nan_propagates():
    x = np.zeros((1, 2, 2, 4))
    x[0, 0] = [[1, 5, 2, 2], [5, 0, 2, 2]]  # a tie of two 5s, and of four 2s
    x[0, 1] = [[0, np.nan, 3, 4], [9, 1, 1, 1]]
    x = channels_last(x)
    out, cache = MaxPool2d(2).forward(x)
    np.testing.assert_array_equal(cache[0][0], [[[1, 0]], [[0, 1]]])
    np.testing.assert_array_equal(out[0], [[[5, 2]], [[np.nan, 4]]])
    np.testing.assert_array_equal(out, max_pool_forward(x, MaxPool2d(2).pool_param)[0])
    dx = MaxPool2d(2).backward(np.ones((1, 2, 1, 2)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 1, 1, 0], [0, 0, 0, 0]])


def test_max_pool_layer_uses_the_compiled_pass_only_where_it_applies():
    rng = np.random.default_rng(0)
    x = channels_last(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    assert compiled_max_pool_forward(x, MaxPool2d(2).pool_param) is not None
    overlapping = MaxPool2d(3, stride=2)
    assert compiled_max_pool_forward(x, overlapping.pool_param) is None
    assert compiled_max_pool_forward(x.astype(np.float16), MaxPool2d(2).pool_param) is None
    assert compiled_max_pool_forward(x[:, :, ::2], MaxPool2d(2).pool_param) is None
    for layer, v in [
        (overlapping, x),
        (MaxPool2d(2), x.astype(np.float16)),
        (MaxPool2d(2), x[:, :, 1:]),
    ]:
        out, cache = layer.forward(v)
        ref_out, ref_cache = max_pool_forward(v, layer.pool_param)
        np.testing.assert_array_equal(out, ref_out)
        dout = np.ones_like(out)
        np.testing.assert_array_equal(
            layer.backward(dout, cache), max_pool_backward(dout, ref_cache)
        )


def batchnorm_pair(x, gamma, beta, mode):
    """The compiled and the function form's (out, cache, bn_param), two forward steps in."""
    results = []
    for forward in (compiled_batchnorm_forward, spatial_batchnorm_forward):
        bn_param = {"mode": "train", "momentum": 0.8}
        forward(x * 0.5 + 1, gamma, beta, bn_param)
        bn_param["mode"] = mode
        results.append((*forward(x, gamma, beta, bn_param), bn_param))
    return results


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", MAPS)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_equals_the_function_form(order, dtype, shape, mode):
    rng = np.random.default_rng(sum(shape))
    # A large mean against the spread: a one-pass variance would lose digits here.
    x = in_order((3 * rng.standard_normal(shape) + 40).astype(dtype), order)
    gamma, beta = rng.standard_normal((2, shape[1])).astype(dtype)
    (out, cache, param), (ref_out, ref_cache, ref_param) = batchnorm_pair(x, gamma, beta, mode)
    assert_float_close(out, ref_out)
    assert memory_order(out) == memory_order(ref_out)
    for key in ("running_mean", "running_var"):
        assert_float_close(param[key], ref_param[key])
    dout = in_order(rng.standard_normal(shape).astype(dtype), order)
    for got, want in zip(
        compiled_batchnorm_backward(dout, cache),
        spatial_batchnorm_backward(dout, ref_cache),
        strict=True,
    ):
        assert_float_close(got, want)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [s for s in MAPS if s[1] % 2 == 0] + [(2, 6, 5, 3), (1, 9, 4, 4)])
def test_groupnorm_equals_the_function_form(order, dtype, shape):
    rng = np.random.default_rng(sum(shape) + 1)
    groups = 3 if shape[1] % 3 == 0 else 2
    x = in_order((2 * rng.standard_normal(shape) - 5).astype(dtype), order)
    gamma, beta = rng.standard_normal((2, shape[1])).astype(dtype)
    out, cache = compiled_groupnorm_forward(x, gamma, beta, groups, 1e-5)
    ref_out, ref_cache = spatial_groupnorm_forward(x, gamma, beta, groups, {"eps": 1e-5})
    assert_float_close(out, ref_out)
    assert memory_order(out) == memory_order(ref_out)
    dout = in_order(rng.standard_normal(shape).astype(dtype), order)
    for got, want in zip(
        compiled_norm_backward(dout, cache),
        spatial_groupnorm_backward(dout, ref_cache),
        strict=True,
    ):
        assert_float_close(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 37), (16, 2048), (3, 4, 5)])
def test_layernorm_equals_the_function_form(dtype, shape):
    rng = np.random.default_rng(sum(shape) + 2)
    x = (3 * rng.standard_normal(shape) + 10).astype(dtype)
    gamma, beta = rng.standard_normal((2, *shape[1:])).astype(dtype)
    out, cache = compiled_layernorm_forward(x, gamma, beta, 1e-5)
    ref_out, ref_cache = layernorm_forward(x, gamma, beta, {"eps": 1e-5})
    assert_float_close(out, ref_out)
    dout = rng.standard_normal(shape).astype(dtype)
    got, want = compiled_layernorm_backward(dout, cache), layernorm_backward(dout, ref_cache)
    for a, b in zip(got, want, strict=True):
        assert_float_close(a, b)


def norm_layers(dtype):
    """(layer, input) pairs that take the compiled passes, with non-trivial parameters."""
    rng = np.random.default_rng(3)
    cases = [
        (BatchNorm2d(4, dtype=dtype), channels_last(rng.standard_normal((3, 4, 3, 5)))),
        (BatchNorm2d(4, dtype=dtype).eval(), rng.standard_normal((2, 4, 3, 3))),
        (GroupNorm(2, 4, dtype=dtype), channels_last(rng.standard_normal((2, 4, 3, 3)))),
        (GroupNorm(4, 4, dtype=dtype), rng.standard_normal((2, 4, 2, 3))),
        (LayerNorm((3, 4), dtype=dtype), rng.standard_normal((3, 3, 4))),
    ]
    for layer, _ in cases:
        for p in layer.params.values():
            p[...] = rng.standard_normal(p.shape)
        if isinstance(layer, BatchNorm2d):
            layer.bn_param["running_mean"][...] = rng.standard_normal(4)
    return [(layer, x.astype(dtype)) for layer, x in cases]


def test_norm_layers_take_the_compiled_path_and_match_numerical_gradients():
    for layer, x in norm_layers(np.float64):
        out, cache = layer.forward(x)
        assert isinstance(cache, compiled.NormCache), layer
        dout = np.random.default_rng(4).standard_normal(out.shape)
        dx = layer.backward(dout, cache)

        def f(v, layer=layer):
            return layer.forward(v)[0]

        assert rel_error(dx, eval_numerical_gradient_array(f, x.copy(), dout)) < 1e-7, layer
        for name, p in layer.params.items():
            num = eval_numerical_gradient_array(lambda _, x=x: f(x), p, dout)
            assert rel_error(layer.grads[name], num) < 1e-7, (layer, name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_layers_keep_the_layer_contract(dtype):
    rng = np.random.default_rng(5)
    x = channels_last(rng.standard_normal((2, 4, 4, 6)).astype(dtype))
    for layer, v in [(MaxPool2d(2), x), *norm_layers(dtype)]:
        assert_layer_contract(layer.forward, layer.backward, v, dtype, seed=6)


def test_norm_layers_fall_back_to_the_function_forms_where_compiled_passes_do_not_apply():
    rng = np.random.default_rng(6)
    strided = rng.standard_normal((2, 4, 6, 6))[:, :, ::2]  # neither memory order
    half = rng.standard_normal((2, 4, 3, 3)).astype(np.float16)
    for layer in (BatchNorm2d(4, dtype=np.float64), GroupNorm(2, 4, dtype=np.float64)):
        for x in (strided, half):
            out, cache = layer.forward(x)
            assert not isinstance(cache, compiled.NormCache)
            assert layer.backward(np.ones_like(out), cache).shape == x.shape
    out, cache = LayerNorm(6, dtype=np.float64).forward(strided[:, 0, 0])
    assert not isinstance(cache, compiled.NormCache)


def test_a_subclass_with_its_own_forward_runs_it_not_the_compiled_pass():
    calls = []

    class Mine(BatchNorm2d):
        @staticmethod
        def _forward(x, gamma, beta, bn_param):
            calls.append("forward")
            return spatial_batchnorm_forward(x, gamma, beta, bn_param)

    layer = Mine(3, dtype=np.float64)
    out, cache = layer.forward(np.random.default_rng(7).standard_normal((2, 3, 2, 2)))
    assert calls == ["forward"] and not isinstance(cache, compiled.NormCache)
    assert layer._compiled_passes() is None and BatchNorm2d(3)._compiled_passes() is not None


def test_average_pooling_and_a_max_pool_subclass_run_their_own_passes():
    calls = []

    class Mine(MaxPool2d):
        @staticmethod
        def _forward(x, pool_param):
            calls.append("forward")
            return max_pool_forward(x, pool_param)

    x = np.random.default_rng(8).standard_normal((2, 3, 4, 4))
    out, cache = Mine(2).forward(x)
    assert calls == ["forward"]
    np.testing.assert_array_equal(cache[0], max_pool_forward(x, Mine(2).pool_param)[1][0])
    assert AvgPool2d(2)._compiled_passes() is None and MaxPool2d(2)._compiled_passes()
    np.testing.assert_allclose(AvgPool2d(2).forward(x)[0], x.reshape(2, 3, 2, 2, 2, 2).mean((3, 5)))


@pytest.mark.parametrize("order", ORDERS)
def test_statistics_of_a_mean_far_from_zero_are_no_less_accurate_than_numpys(order):
    """Mean 1e4, spread 1: a variance from raw float32 sums of squares (E[x^2] - mean^2)
    loses every digit, and a sum reordered into (sum + x) - shift most of them; the
    compiled passes must stay at least as close to float64 as the function forms."""
    rng = np.random.default_rng(9)
    x = in_order((rng.standard_normal((8, 16, 9, 9)) + 1e4).astype(np.float32), order)
    gamma, beta = rng.standard_normal((2, 16)).astype(np.float32)
    x64, g64, b64 = (a.astype(np.float64) for a in (x, gamma, beta))
    rows = np.ascontiguousarray(x.reshape(8, -1))
    g_rows, b_rows = np.ones(rows.shape[1], np.float32), np.zeros(rows.shape[1], np.float32)
    cases = [
        (
            compiled_batchnorm_forward(x, gamma, beta, {})[0],
            spatial_batchnorm_forward(x, gamma, beta, {})[0],
            spatial_batchnorm_forward(x64, g64, b64, {})[0],
        ),
        (
            compiled_groupnorm_forward(x, gamma, beta, 4, 1e-5)[0],
            spatial_groupnorm_forward(x, gamma, beta, 4, {})[0],
            spatial_groupnorm_forward(x64, g64, b64, 4, {})[0],
        ),
        (
            compiled_layernorm_forward(rows, g_rows, b_rows, 1e-5)[0],
            layernorm_forward(rows, g_rows, b_rows, {})[0],
            layernorm_forward(rows.astype(np.float64), g_rows * 1.0, b_rows * 1.0, {})[0],
        ),
    ]
    for ours, numpy_form, exact in cases:
        error = np.abs(ours - exact).max()
        assert error <= np.abs(numpy_form - exact).max() and error < 1e-2


def test_parallel_loops_run_on_the_workqueue_layer_unless_one_is_chosen():
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, numba, barenet.layers as L;"
        "L.MaxPool2d(2).forward(np.ones((2, 3, 4, 4), np.float32));"
        "print(numba.threading_layer())"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    layer = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert layer.stdout.strip() == "workqueue", layer.stderr


CONCURRENT_LAUNCHES = """
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from barenet.layers import LayerNorm
rng = np.random.default_rng(0)
inputs = [rng.standard_normal((8, 64), dtype=np.float32) for _ in range(16)]
expected = [LayerNorm(64).forward(x)[0] for x in inputs]
with ThreadPoolExecutor(max_workers=4) as pool:
    for _ in range(10):
        for got, want in zip(pool.map(lambda x: LayerNorm(64).forward(x)[0], inputs), expected):
            np.testing.assert_array_equal(got, want)
print("ok")
"""


def test_loops_launched_from_two_python_threads_at_once_give_each_its_own_result():
    # The workqueue layer aborts the process on a concurrent launch: each launch holds
    # kernels.LAUNCH. In a child process, so that a failure is a failed test.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", CONCURRENT_LAUNCHES], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr[-2000:]
