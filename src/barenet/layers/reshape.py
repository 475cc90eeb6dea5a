"""Layers that only change an array's shape or axis order: ``Flatten``, ``ChannelsFirst``."""

from __future__ import annotations

import numpy as np

from barenet.layers.base import Cache, Layer


class Flatten(Layer):
    """``(N, d1, ..., dk) -> (N, d1 * ... * dk)``, in row-major (C, H, W) order."""

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        """Parameters: ``x`` (N, ...). Returns ``out`` (N, D) and the cache ``(x.shape,)``."""
        if np.ndim(x) < 1:
            raise ValueError(f"Flatten: x must have a batch axis; got shape {np.shape(x)}")
        return x.reshape(x.shape[0], -1), (x.shape,)

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        """``dout`` (N, D) reshaped to the input's shape."""
        return dout.reshape(cache[0])

    def __repr__(self) -> str:
        return "Flatten()"


class ChannelsFirst(Layer):
    """Images ``(N, H, W, C)`` as the ``(N, C, H, W)`` arrays convolutions take.

    The data pipeline's batches are channels-last; this returns a transposed *view*
    (no copy), whose memory order is the one the convolution uses inside, so the
    first convolution reads it without a transposing copy.
    """

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        """``x`` (N, H, W, C) -> ``out`` (N, C, H, W), a view; the cache is empty."""
        if np.ndim(x) != 4:
            raise ValueError(f"ChannelsFirst: x must have shape (N, H, W, C); got {np.shape(x)}")
        return x.transpose(0, 3, 1, 2), ()

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        """``dout`` (N, C, H, W) -> ``dx`` (N, H, W, C), a view."""
        return dout.transpose(0, 2, 3, 1)

    def __repr__(self) -> str:
        return "ChannelsFirst()"
