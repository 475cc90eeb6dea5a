"""Image transforms that work on one image ``(H, W, C)`` and on a batch ``(B, H, W, C)``.

Every transform returns a new array (never modifies its input) of ``dtype``
(float32 by default; ``dtype=None`` keeps a float input's dtype). Rescale and
Normalize are both per-channel affine maps ``x * scale + offset``, so
``ComposeTransform`` fuses a run of them into one multiply-add per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .base import Transform

DTypeLike = type | np.dtype | str | None


class ChannelAffineTransform:
    """``x * scale + offset`` with per-channel (last axis) ``scale`` and ``offset``.

    Parameters
    ----------
    scale, offset : float or array_like, shape (C,)
    dtype : dtype or None
        Output dtype; None: the input's float dtype (float32 for integer input).
    """

    def __init__(self, scale, offset, dtype: DTypeLike = np.float32) -> None:
        self.scale = np.asarray(scale, dtype=np.float64)
        self.offset = np.asarray(offset, dtype=np.float64)
        if self.scale.ndim > 1 or self.offset.ndim > 1:
            raise ValueError("scale and offset must be scalars or one value per channel")
        self.dtype = None if dtype is None else np.dtype(dtype)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        dtype = self.dtype or np.result_type(images.dtype, np.float32)
        _check_channels(self.scale, images, type(self).__name__)
        out = images.astype(dtype)  # a fresh array (the input is never modified), fast cast
        out *= self._per_row(self.scale, images.shape, dtype)
        out += self._per_row(self.offset, images.shape, dtype)
        return out

    @staticmethod
    def _per_row(values: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """``values`` tiled over one row ``shape[1:]`` of the input.

        Broadcasting a ``(C,)`` vector makes NumPy's inner loop only C = 3 values
        long (about 4x slower on a batch); a tiled row lets it run over whole images.
        """
        values = values.astype(dtype)
        if values.ndim == 0 or len(shape) < 2:
            return values
        return np.ascontiguousarray(np.broadcast_to(values, shape[1:]))

    def then(self, other: ChannelAffineTransform) -> ChannelAffineTransform:
        """The single affine map equal to ``other(self(x))`` (output dtype of ``other``)."""
        scale = self.scale * other.scale
        offset = self.offset * other.scale + other.offset
        return ChannelAffineTransform(scale, offset, dtype=other.dtype)

    def __repr__(self) -> str:
        return f"ChannelAffineTransform(scale={self.scale}, offset={self.offset})"


class RescaleTransform(ChannelAffineTransform):
    """Map values linearly from ``old_range`` to ``range_`` (e.g. 0..255 to 0..1).

    Parameters
    ----------
    range_ : (float, float)
        The new ``(min, max)``.
    old_range : (float, float)
        The ``(min, max)`` of the input values.
    dtype : dtype or None
        Output dtype (float32 by default).
    """

    def __init__(
        self,
        range_: tuple[float, float] = (0, 1),
        old_range: tuple[float, float] = (0, 255),
        dtype: DTypeLike = np.float32,
    ) -> None:
        new_min, new_max = _pair(range_, "range_")
        old_min, old_max = _pair(old_range, "old_range")
        if old_max == old_min:
            raise ValueError(f"old_range must have min != max, got {old_range!r}")
        scale = (new_max - new_min) / (old_max - old_min)
        super().__init__(scale, new_min - old_min * scale, dtype)
        self.min, self.max = new_min, new_max
        self._old_min, self._old_max = old_min, old_max

    def __repr__(self) -> str:
        return (
            f"RescaleTransform(range_=({self.min}, {self.max}), "
            f"old_range=({self._old_min}, {self._old_max}))"
        )


class NormalizeTransform(ChannelAffineTransform):
    """``(x - mean) / std`` per channel (the last axis).

    Parameters
    ----------
    mean : float or array_like, shape (C,)
    std : float or array_like, shape (C,)
        All > 0.
    dtype : dtype or None
        Output dtype (float32 by default).
    """

    def __init__(self, mean, std, dtype: DTypeLike = np.float32) -> None:
        mean = np.asarray(mean, dtype=np.float64)
        std = np.asarray(std, dtype=np.float64)
        if std.size == 0 or not np.all(std > 0):
            raise ValueError(f"std must be > 0 in every channel, got {std!r}")
        super().__init__(1.0 / std, -mean / std, dtype)
        self.mean, self.std = mean, std

    def __repr__(self) -> str:
        return f"NormalizeTransform(mean={self.mean}, std={self.std})"


class FlattenTransform:
    """Flatten one image to ``(H*W*C,)`` and a batch to ``(B, H*W*C)``.

    Parameters
    ----------
    dtype : dtype or None
        Output dtype (float32 by default; None keeps the input's dtype).
        The result is a reshaped view when no conversion is needed.
    batched : bool or None
        Whether the input is a batch; None: a batch if it has 4 dimensions
        ``(B, H, W, C)``.
    """

    def __init__(self, dtype: DTypeLike = np.float32, batched: bool | None = None) -> None:
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.batched = batched

    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=self.dtype)
        batched = images.ndim == 4 if self.batched is None else self.batched
        return images.reshape(len(images), -1) if batched else images.reshape(-1)

    def __repr__(self) -> str:
        return "FlattenTransform()"


class RandomHorizontalFlip:
    """Mirror images left-right, each with probability ``prob``.

    Parameters
    ----------
    prob : float
        In [0, 1].
    seed : int or np.random.Generator or None
        Source of the coin flips (never the global random state). One image
        uses one draw and a batch of B uses B draws, so flipping images one by
        one or as a batch gives the same result for the same seed.
    dtype : dtype or None
        Output dtype (float32 by default; None keeps the input's dtype).
    """

    def __init__(
        self,
        prob: float = 0.5,
        seed: int | np.random.Generator | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"prob must be in [0, 1], got {prob!r}")
        self.prob = float(prob)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.dtype = None if dtype is None else np.dtype(dtype)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim not in (3, 4):
            raise ValueError(
                f"RandomHorizontalFlip needs (H, W, C) or (B, H, W, C) images, got {images.shape}"
            )
        out = np.array(images, dtype=self.dtype or images.dtype)  # a copy: input untouched
        if images.ndim == 3:
            if self.rng.random() < self.prob:
                out = out[:, ::-1].copy()
            return out
        flip = self.rng.random(len(images)) < self.prob
        out[flip] = out[flip, :, ::-1]
        return out

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(prob={self.prob})"


class RandomCrop:
    """Pad each image by ``padding`` pixels and crop it back at a random offset.

    Each image is shifted by up to ``padding`` pixels in each direction, so a
    net sees a slightly different framing of it in every epoch.

    Parameters
    ----------
    padding : int
        Largest shift in pixels, >= 0.
    seed : int or np.random.Generator or None
        Source of the offsets (never the global random state). One image uses
        two draws and a batch of B uses 2B, so cropping images one by one or as
        a batch gives the same result for the same seed.
    padding_mode : {'reflect', 'constant'}
        Fill of the border: a mirror of the image (no artificial black edges)
        or zeros.
    """

    def __init__(
        self,
        padding: int = 2,
        seed: int | np.random.Generator | None = None,
        padding_mode: str = "reflect",
    ) -> None:
        if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"padding must be an int >= 0, got {padding!r}")
        if padding_mode not in ("reflect", "constant"):
            raise ValueError(f"padding_mode must be 'reflect' or 'constant', got {padding_mode!r}")
        self.padding = int(padding)
        self.padding_mode = padding_mode
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim not in (3, 4):
            raise ValueError(
                f"RandomCrop needs (H, W, C) or (B, H, W, C) images, got {images.shape}"
            )
        batch = images[np.newaxis] if images.ndim == 3 else images
        p, side = self.padding, 2 * self.padding + 1
        height, width = batch.shape[1:3]
        pad = ((0, 0), (p, p), (p, p), (0, 0))
        padded = np.pad(batch, pad, mode=self.padding_mode)
        offsets = self.rng.integers(0, side, size=(len(batch), 2))
        codes = offsets[:, 0] * side + offsets[:, 1]
        out = np.empty_like(batch)
        # One slice copy per distinct offset (at most side**2), not one per image.
        for code in np.unique(codes):
            dy, dx = divmod(int(code), side)
            chosen = codes == code
            out[chosen] = padded[chosen, dy : dy + height, dx : dx + width]
        return out[0] if images.ndim == 3 else out

    def __repr__(self) -> str:
        return f"RandomCrop(padding={self.padding}, padding_mode={self.padding_mode!r})"


class ComposeTransform:
    """Apply ``transforms`` in order; consecutive Rescale/Normalize run as one affine map.

    Parameters
    ----------
    transforms : sequence of callables
        Each maps an array to an array.
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        transforms = list(transforms)
        for transform in transforms:
            if not callable(transform):
                raise ValueError(f"transforms must be callables, got {transform!r}")
        self.transforms = transforms
        self._steps = _fuse_affine(transforms)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        for step in self._steps:
            images = step(images)
        return images

    def __repr__(self) -> str:
        return f"ComposeTransform({self.transforms!r})"


def compute_image_mean_and_std(
    images: np.ndarray, chunk_size: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of images.

    Accumulates in float64 over chunks of images, so a memory-mapped
    ``uint8`` dataset is never copied whole into floats.

    Parameters
    ----------
    images : np.ndarray, shape (N, H, W, C) or (H, W, C)
        Channels last.
    chunk_size : int
        Images per chunk.

    Returns
    -------
    mean : np.ndarray of float64, shape (C,)
    std : np.ndarray of float64, shape (C,)
    """
    images = np.asarray(images) if not isinstance(images, np.ndarray) else images
    if images.ndim < 2 or images.size == 0:
        raise ValueError(f"images must be a non-empty (N, H, W, C) array, got {images.shape}")
    rows = images.reshape(-1, images.shape[-1]) if images.ndim == 3 else images
    channels = images.shape[-1]
    total = np.zeros(channels)
    for start in range(0, len(rows), chunk_size):
        total += rows[start : start + chunk_size].reshape(-1, channels).sum(0, dtype=np.float64)
    count = images.size // channels
    mean = total / count
    squares = np.zeros(channels)
    for start in range(0, len(rows), chunk_size):  # second pass: exact, no cancellation
        centred = rows[start : start + chunk_size].reshape(-1, channels) - mean
        squares += np.einsum("ij,ij->j", centred, centred)
    return mean, np.sqrt(squares / count)


def _fuse_affine(transforms: list[Transform]) -> list[Callable[[np.ndarray], np.ndarray]]:
    """Merge runs of ``ChannelAffineTransform``s into one each."""
    steps: list[Callable[[np.ndarray], np.ndarray]] = []
    for transform in transforms:
        previous = steps[-1] if steps else None
        if isinstance(transform, ChannelAffineTransform) and isinstance(
            previous, ChannelAffineTransform
        ):
            steps[-1] = previous.then(transform)
        else:
            steps.append(transform)
    return steps


def _check_channels(values: np.ndarray, images: np.ndarray, name: str) -> None:
    if values.ndim == 1 and values.size not in (1, images.shape[-1]):
        raise ValueError(
            f"{name} has {values.size} channel values, but the images have "
            f"{images.shape[-1]} channels (last axis of {images.shape})"
        )


def _pair(values, name: str) -> tuple[float, float]:
    try:
        low, high = (float(value) for value in values)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (min, max) pair, got {values!r}") from None
    return low, high
