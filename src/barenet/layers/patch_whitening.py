"""``PatchWhitening``: a first convolution whose filters whiten small image patches.

The filters are not learned: they are fitted once on training images. Every
``kh x kw x C`` patch of the images is a vector of ``d = C * kh * kw`` values; with
the eigendecomposition ``Cov = V diag(lambda) V^T`` of their covariance, filter ``k``
is ``v_k / sqrt(lambda_k + epsilon)``, so that the ``d`` responses of a patch are
uncorrelated with unit variance (PCA whitening of the patches). Each filter comes twice,
as ``+f`` and ``-f``: after a ReLU both signs of a response survive, so the layer
loses nothing. The bias starts at ``-f . mean`` (centred responses) and is trained;
the filters stay fixed (they are a buffer, saved with the weights, not a parameter).

This is the frozen first layer of the fast CIFAR-10 recipes (Page's and Jordan's
airbench): it gives the next layers decorrelated input, which they learn from in fewer
steps, and it costs almost nothing (a 2x2 convolution with 12 inputs).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from barenet.layers.base import Cache, Layer
from barenet.layers.conv import _dout_matrix, _pair, conv_forward


def image_patches(images: np.ndarray, kernel_size: tuple[int, int]) -> np.ndarray:
    """Every ``kh x kw`` patch of ``images`` as a row, in the (C, kh, kw) order of a filter.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W)
    kernel_size : (int, int)

    Returns
    -------
    patches : ndarray, shape (N * (H - kh + 1) * (W - kw + 1), C * kh * kw), float64
    """
    kh, kw = kernel_size
    windows = sliding_window_view(images, (kh, kw), axis=(2, 3))  # (N, C, Ho, Wo, kh, kw)
    c = images.shape[1]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, c * kh * kw).astype(np.float64)


def patch_whitening_filters(
    images: np.ndarray, kernel_size: int | tuple[int, int] = 2, epsilon: float = 5e-4
) -> tuple[np.ndarray, np.ndarray]:
    """Filters that whiten the patches of ``images``, and the patches' mean.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W)
        Training images as the network sees them (e.g. standardised per channel).
    kernel_size : int or (int, int)
        ``kh, kw``.
    epsilon : float
        Added to every eigenvalue before the inverse square root (> 0): it bounds the
        gain of the weakest directions (pixel noise).

    Returns
    -------
    filters : ndarray, shape (2 * d, C, kh, kw), float64
        ``d = C * kh * kw`` whitening filters, strongest direction first, then the same
        filters negated.
    mean : ndarray, shape (d,)
        The patches' mean, in the filters' (C, kh, kw) order.
    """
    kh, kw = _pair(kernel_size, "kernel_size")
    if np.ndim(images) != 4 or len(images) < 1:
        raise ValueError(f"images must have shape (N, C, H, W) with N >= 1; got {np.shape(images)}")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
    if kh > images.shape[2] or kw > images.shape[3]:
        raise ValueError(
            f"the {kh}x{kw} patches do not fit the {images.shape[2]}x{images.shape[3]} images"
        )
    patches = image_patches(np.asarray(images), (kh, kw))
    if len(patches) < 2:
        raise ValueError("need at least two patches to fit a covariance")
    mean = patches.mean(axis=0)
    centred = patches - mean
    covariance = centred.T @ centred / (len(patches) - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)  # ascending
    order = np.argsort(eigenvalues)[::-1]
    scaled = eigenvectors[:, order] / np.sqrt(np.maximum(eigenvalues[order], 0) + epsilon)
    filters = scaled.T.reshape(-1, images.shape[1], kh, kw)
    return np.concatenate([filters, -filters]), mean


class PatchWhitening(Layer):
    """A stride-1, unpadded convolution with fixed whitening filters and a trained bias.

    Parameters
    ----------
    in_channels : int
        C.
    kernel_size : int or (int, int)
        ``kh, kw``; the layer has ``2 * C * kh * kw`` output channels.
    epsilon : float
        See :func:`patch_whitening_filters`.
    dtype : numpy dtype

    Attributes
    ----------
    params : dict
        ``'b'`` (F,): the bias, trained.
    buffers : dict
        ``'filters'`` (F, C, kh, kw): fixed after :meth:`fit`, saved with the weights.
        Until :meth:`fit` they are an identity-like basis (each input value alone, both
        signs), so an unfitted layer still passes its input on.
    """

    def __init__(
        self,
        in_channels: int = 3,
        kernel_size: int | tuple[int, int] = 2,
        epsilon: float = 5e-4,
        dtype: type = np.float32,
    ):
        super().__init__()
        if not epsilon > 0:
            raise ValueError(f"PatchWhitening: epsilon must be > 0, got {epsilon!r}")
        self.in_channels = int(in_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.epsilon, self.dtype = float(epsilon), np.dtype(dtype)
        d = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        basis = np.eye(d).reshape(d, self.in_channels, *self.kernel_size)
        self.filters = np.concatenate([basis, -basis]).astype(self.dtype)
        self.params = {"b": np.zeros(2 * d, self.dtype)}

    @property
    def out_channels(self) -> int:
        return len(self.filters)

    def fit(self, images: np.ndarray) -> PatchWhitening:
        """Fit the filters (and reset the bias) on ``images`` (N, C, H, W); returns self."""
        if np.ndim(images) != 4 or np.shape(images)[1] != self.in_channels:
            raise ValueError(
                f"PatchWhitening.fit: images must have shape (N, {self.in_channels}, H, W); "
                f"got {np.shape(images)}"
            )
        filters, mean = patch_whitening_filters(images, self.kernel_size, self.epsilon)
        self.filters = filters.astype(self.dtype)
        # Centred responses: the bias cancels the mean patch.
        self.params["b"][...] = -(filters.reshape(len(filters), -1) @ mean)
        return self

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return {"filters": self.filters}

    def set_buffers(self, buffers: dict[str, np.ndarray]) -> None:
        super().set_buffers(buffers)
        if np.shape(buffers["filters"]) != self.filters.shape:
            raise ValueError(
                f"{self!r}: filters must have shape {self.filters.shape}; "
                f"got {np.shape(buffers['filters'])}"
            )
        self.filters = np.array(buffers["filters"], dtype=self.dtype)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        """``x`` (N, C, H, W) -> ``out`` (N, F, H - kh + 1, W - kw + 1)."""
        return conv_forward(x, self.filters, self.params["b"], {"stride": 1, "pad": 0})

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        """Not available: the layer is meant to come first, where no ``dx`` is needed."""
        raise NotImplementedError(
            "PatchWhitening computes no input gradient: put it first in the network"
        )

    def param_grads(self, dout: np.ndarray, cache: Cache) -> None:
        """Only ``db`` (F,): the filters are not trained."""
        self.grads["b"] = _dout_matrix(dout).sum(axis=0)

    def config(self) -> dict:
        return {
            "in_channels": self.in_channels,
            "kernel_size": list(self.kernel_size),
            "epsilon": self.epsilon,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        kh, kw = self.kernel_size
        return (
            f"PatchWhitening({self.in_channels}, kernel_size=({kh}, {kw}), "
            f"epsilon={self.epsilon:g})"
        )
