"""``ZCAWhitening``: decorrelate the pixels of images, fitted on a training set.

ZCA whitening maps an image ``x`` (flattened to ``D`` values) to
``W (x - mean)`` with ``W = C_eps^{-1/2} = U diag(1 / sqrt(lambda + epsilon)) U^T``,
where ``C = U diag(lambda) U^T`` is the covariance of the training images. Among all
whitening maps it is the one that changes the images least: the result still looks
like an image (mostly its edges), so image-space augmentation can follow it.
``epsilon`` shrinks the gain of the weakest directions (pixel noise), which would
otherwise be amplified without bound.

With ``flip_symmetric=True`` (the default) the covariance and the mean are those of
the training images together with their mirror images. Then the whitening commutes
with the horizontal flip, ``whiten(flip(x)) == flip(whiten(x))``, so images can be
whitened once and flipped per batch afterwards. Such a covariance is block-diagonal in
the basis of mirror-symmetric and mirror-antisymmetric images, ``(x + flip(x)) / sqrt 2``
and ``(x - flip(x)) / sqrt 2``, so the fit decomposes two ``D/2 x D/2`` matrices
instead of one ``D x D`` (four times less work) and a transform costs half the
multiply-adds of a full ``D x D`` product.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from barenet.io import atomic_write

_ROOT_HALF = np.float32(np.sqrt(0.5))


class ZCAWhitening:
    """ZCA whitening of ``(H, W, C)`` images, fitted with :meth:`fit`.

    Parameters
    ----------
    epsilon : float
        Added to every eigenvalue of the covariance before the inverse square root,
        in the units of the scaled input squared (``input_scale=1/255``: pixel values
        0..1). Larger values whiten less; > 0.
    input_scale : float
        Inputs are multiplied by this first (1/255 maps ``uint8`` pixels to 0..1).
    flip_symmetric : bool
        Fit on the images and their mirror images, so that whitening commutes with
        the horizontal flip (needs an even width).
    dtype : dtype
        Output dtype (float32).

    Attributes
    ----------
    image_shape : tuple of int or None
        ``(H, W, C)`` of the fitted images; None before :meth:`fit`.
    mean : np.ndarray, shape (D,)
        Mean of the scaled training images (mirror-symmetric when ``flip_symmetric``).
    blocks : list of np.ndarray
        The whitening matrix: ``[W]`` of shape (D, D), or with ``flip_symmetric``
        ``[W_sym, W_anti]``, each (D/2, D/2), acting on the symmetric and antisymmetric
        parts of the image.
    eigenvalues : np.ndarray, shape (D,)
        Eigenvalues of the fitted covariance (ascending within each block).
    """

    def __init__(
        self,
        epsilon: float = 0.1,
        input_scale: float = 1 / 255,
        flip_symmetric: bool = True,
        dtype=np.float32,
    ) -> None:
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
        if not input_scale > 0:
            raise ValueError(f"input_scale must be > 0, got {input_scale!r}")
        self.epsilon = float(epsilon)
        self.input_scale = float(input_scale)
        self.flip_symmetric = bool(flip_symmetric)
        self.dtype = np.dtype(dtype)
        self.image_shape: tuple[int, ...] | None = None
        self.mean = np.zeros(0, dtype=self.dtype)
        self.blocks: list[np.ndarray] = []
        self.eigenvalues = np.zeros(0)

    # -- fitting -------------------------------------------------------------------

    def fit(self, images: np.ndarray, chunk_size: int = 4096) -> ZCAWhitening:
        """Fit the mean and whitening matrix on ``images``.

        Parameters
        ----------
        images : np.ndarray, shape (N, H, W, C)
            Training images, e.g. ``uint8``; read in chunks, so a memory-mapped array
            is never copied whole into floats. N >= 2.
        chunk_size : int
            Images per chunk.

        Returns
        -------
        ZCAWhitening
            ``self``.
        """
        images = np.asarray(images) if not isinstance(images, np.ndarray) else images
        if images.ndim != 4 or len(images) < 2:
            raise ValueError(f"images must be (N, H, W, C) with N >= 2, got {images.shape}")
        if self.flip_symmetric and images.shape[2] % 2:
            raise ValueError(
                f"flip_symmetric needs an even image width, got {images.shape[2]} "
                "(use flip_symmetric=False)"
            )
        self.image_shape = tuple(int(n) for n in images.shape[1:])
        chunks = [images[i : i + chunk_size] for i in range(0, len(images), chunk_size)]
        # First pass: the mean of each part; second pass: centred second moments.
        sums = None
        for chunk in chunks:
            p = self._parts(self._scaled(chunk))
            s = [part.sum(0, dtype=np.float64) for part in p]
            sums = s if sums is None else [a + b for a, b in zip(sums, s, strict=True)]
        means = [s / len(images) for s in sums]
        if self.flip_symmetric:
            means[1][:] = 0.0  # the antisymmetric part of a mirror-symmetric mean
        moments = [np.zeros((len(m), len(m))) for m in means]
        for chunk in chunks:
            for acc, part, m in zip(moments, self._parts(self._scaled(chunk)), means, strict=True):
                centred = part - m.astype(self.dtype)
                acc += centred.T @ centred
        eigenvalues, blocks = [], []
        for acc in moments:
            lam, vectors = np.linalg.eigh(acc / len(images))
            lam = np.maximum(lam, 0.0)
            blocks.append(((vectors / np.sqrt(lam + self.epsilon)) @ vectors.T).astype(self.dtype))
            eigenvalues.append(lam)
        self.blocks, self.eigenvalues = blocks, np.concatenate(eigenvalues)
        self.mean = self._from_parts([m.astype(self.dtype)[np.newaxis] for m in means])[0]
        return self

    # -- applying ------------------------------------------------------------------

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Whiten one image ``(H, W, C)`` or a batch ``(B, H, W, C)``; same shape out.

        Each image is whitened on its own, so a batch gives the same numbers as its
        images one by one.
        """
        if self.image_shape is None:
            raise ValueError("ZCAWhitening must be fitted (fit) before it is applied")
        images = np.asarray(images)
        single = images.shape == self.image_shape
        if not single and images.shape[1:] != self.image_shape:
            raise ValueError(
                f"ZCAWhitening was fitted on images of shape {self.image_shape}, got {images.shape}"
            )
        batch = images[np.newaxis] if single else images
        parts = self._parts(self._scaled(batch))
        means = self._parts(self.mean[np.newaxis])
        whitened = [(p - m) @ w for p, m, w in zip(parts, means, self.blocks, strict=True)]
        out = self._from_parts(whitened).reshape(batch.shape)
        return out[0] if single else out

    def transform_all(self, images: np.ndarray, chunk_size: int = 4096) -> np.ndarray:
        """Whiten a whole array in chunks: ``(N, H, W, C)`` in, float ``(N, H, W, C)`` out."""
        images = np.asarray(images)
        out = np.empty(images.shape, dtype=self.dtype)
        for start in range(0, len(images), chunk_size):
            out[start : start + chunk_size] = self(images[start : start + chunk_size])
        return out

    def matrix(self) -> np.ndarray:
        """The whitening matrix ``W`` of shape (D, D) in pixel space (for inspection)."""
        dims = int(np.prod(self.image_shape))
        identity = np.eye(dims, dtype=self.dtype)
        return self._from_parts(
            [p @ w for p, w in zip(self._parts(identity), self.blocks, strict=True)]
        ).reshape(dims, dims)

    # -- the symmetric/antisymmetric basis -----------------------------------------

    def _scaled(self, batch: np.ndarray) -> np.ndarray:
        """``(B, ...)`` -> ``(B, D)`` floats times ``input_scale``."""
        flat = batch.reshape(len(batch), -1).astype(self.dtype)
        flat *= self.dtype.type(self.input_scale)
        return flat

    def _parts(self, flat: np.ndarray) -> list[np.ndarray]:
        """``(B, D)`` -> ``[sym, anti]`` each ``(B, D/2)``, or ``[flat]`` when not symmetric.

        ``sym`` holds ``(x + flip(x)) / sqrt 2`` and ``anti`` ``(x - flip(x)) / sqrt 2``
        over the left half of the image (the right half repeats them up to sign).
        """
        if not self.flip_symmetric:
            return [flat]
        height, width, channels = self.image_shape
        images = flat.reshape(len(flat), height, width, channels)
        half = width // 2
        left, mirrored = images[:, :, :half], images[:, :, ::-1][:, :, :half]
        parts = [left + mirrored, left - mirrored]
        for part in parts:
            part *= _ROOT_HALF
        return [part.reshape(len(flat), -1) for part in parts]

    def _from_parts(self, parts: list[np.ndarray]) -> np.ndarray:
        """Inverse of :meth:`_parts`: ``(B, D)``."""
        if not self.flip_symmetric:
            return parts[0]
        height, width, channels = self.image_shape
        half = width // 2
        sym, anti = (p.reshape(len(p), height, half, channels) for p in parts)
        out = np.empty((len(sym), height, width, channels), dtype=sym.dtype)
        np.add(sym, anti, out=out[:, :, :half])
        np.subtract(sym, anti, out=out[:, :, ::-1][:, :, :half])
        out *= _ROOT_HALF
        return out.reshape(len(sym), -1)

    # -- saving --------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted whitening to an ``.npz`` file (atomically)."""
        if self.image_shape is None:
            raise ValueError("ZCAWhitening must be fitted (fit) before it is saved")
        arrays = {
            "epsilon": np.float64(self.epsilon),
            "input_scale": np.float64(self.input_scale),
            "flip_symmetric": np.bool_(self.flip_symmetric),
            "image_shape": np.asarray(self.image_shape, dtype=np.int64),
            "mean": self.mean,
            "eigenvalues": self.eigenvalues,
            **{f"block{i}": block for i, block in enumerate(self.blocks)},
        }
        path = Path(path)
        with atomic_write(path, "wb") as file:
            np.savez(file, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> ZCAWhitening:
        """Read a whitening written by :meth:`save` (``allow_pickle=False``)."""
        with np.load(path, allow_pickle=False) as data:
            zca = cls(
                epsilon=float(data["epsilon"]),
                input_scale=float(data["input_scale"]),
                flip_symmetric=bool(data["flip_symmetric"]),
                dtype=data["mean"].dtype,
            )
            zca.image_shape = tuple(int(n) for n in data["image_shape"])
            zca.mean = data["mean"]
            zca.eigenvalues = data["eigenvalues"]
            zca.blocks = [data[f"block{i}"] for i in range(1 + zca.flip_symmetric)]
        return zca

    def __repr__(self) -> str:
        return (
            f"ZCAWhitening(epsilon={self.epsilon:g}, input_scale={self.input_scale:g}, "
            f"flip_symmetric={self.flip_symmetric})"
        )
