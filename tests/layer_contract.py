"""The layer contract, checked once for any forward/backward pair (tests/core uses it)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def assert_layer_contract(
    forward: Callable, backward: Callable, x: np.ndarray, dtype: type, seed: int
) -> None:
    """Forward keeps ``dtype``; backward twice gives the same arrays of that dtype; neither
    pass writes into ``x``, ``dout`` or the cache's arrays."""
    x0 = x.copy()
    out, cache = forward(x)
    assert out.dtype == dtype
    dout = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    dout0 = dout.copy()
    cache0 = [np.copy(c) if isinstance(c, np.ndarray) else c for c in cache]
    first, second = backward(dout, cache), backward(dout, cache)
    first = first if isinstance(first, tuple) else (first,)
    second = second if isinstance(second, tuple) else (second,)
    for a, b in zip(first, second, strict=True):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(dout, dout0)
    for c, c0 in zip(cache, cache0, strict=True):
        if isinstance(c, np.ndarray):
            np.testing.assert_array_equal(c, c0)
