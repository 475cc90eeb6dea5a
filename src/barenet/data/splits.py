"""Seeded train/val/test splits of a dataset's samples."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

#: The default split: read-only so that a shared default can never be mutated.
DEFAULT_SPLIT: Mapping[str, float] = MappingProxyType({"train": 0.6, "val": 0.2, "test": 0.2})

#: ``mode`` that selects every sample, whatever the split.
ALL = "all"


def validate_split(split: Mapping[str, float] | None) -> dict[str, float] | None:
    """Check the split fractions and return them as a plain dict.

    Parameters
    ----------
    split : mapping of str to float, or None
        Fraction of the samples in each part, e.g. ``{'train': 0.6, 'val': 0.2,
        'test': 0.2}``: non-negative, summing to 1 within 1e-6 (zero allowed).
        None means no split: every sample is used.

    Raises
    ------
    ValueError
        If ``split`` is not such a mapping; the message shows what was given.
    """
    if split is None:
        return None
    if not isinstance(split, Mapping) or not split:
        raise ValueError(f"split must be a non-empty dict of fractions or None, got {split!r}")
    fractions = {}
    for name, fraction in split.items():
        if not isinstance(name, str):
            raise ValueError(f"split keys must be strings, got {name!r} in split={split!r}")
        try:
            value = float(fraction)
        except (TypeError, ValueError):
            raise ValueError(f"split[{name!r}] must be a number, got {fraction!r}") from None
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"split fractions must be >= 0, got {name!r}: {fraction!r}")
        fractions[name] = value
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"split fractions must sum to 1, got {split!r} (sum {total:g})")
    return fractions


def validate_mode(mode: str, split: dict[str, float] | None) -> str:
    """Check that ``mode`` names a part of ``split`` (or is ``'all'``)."""
    if split is None or mode == ALL:
        return mode
    if mode not in split:
        choices = ", ".join(repr(name) for name in [*split, ALL])
        raise ValueError(f"mode must be one of {choices}, got {mode!r}")
    return mode


def select_indices(
    num_samples: int,
    mode: str,
    split: Mapping[str, float] | None,
    seed: int | np.random.Generator | None = 0,
    limit: int | None = None,
) -> np.ndarray | None:
    """The sorted indices of the samples in part ``mode`` of a seeded split.

    The samples are shuffled once with ``np.random.default_rng(seed)`` (never the
    global random state) and cut in the order of ``split``'s keys, so the parts
    of one seed are disjoint and together cover every sample. Part sizes are
    ``round(cumulative fraction * num_samples)`` differences.

    Parameters
    ----------
    num_samples : int
        N, the number of samples to split.
    mode : str
        A key of ``split``, or ``'all'``.
    split : mapping of str to float, or None
        See ``validate_split``; None selects every sample.
    seed : int or np.random.Generator or None
        Seed of the shuffle.
    limit : int, optional
        Keep only the first ``limit`` samples of the shuffled part (so a limited
        part still mixes the classes).

    Returns
    -------
    np.ndarray of int64, shape (M,), or None
        Indices into the N samples, in increasing order (file order); None
        means "every sample, in order", so the caller can avoid a copy.
    """
    split = validate_split(split)
    mode = validate_mode(mode, split)
    limit = validate_limit(limit)
    if split is None or mode == ALL:
        if limit is None or limit >= num_samples:
            return None
        order = np.random.default_rng(seed).permutation(num_samples)
        return np.sort(order[:limit])
    order = np.random.default_rng(seed).permutation(num_samples)
    bounds = np.rint(np.cumsum([0.0, *split.values()]) * num_samples).astype(np.int64)
    bounds[-1] = num_samples  # the fractions may sum to 1 - 1e-7
    position = list(split).index(mode)
    part = order[bounds[position] : bounds[position + 1]]
    return np.sort(part[:limit])


def validate_limit(limit: int | None) -> int | None:
    """Check ``limit_files``: None or a positive int."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"limit_files must be a positive int or None, got {limit!r}")
    return int(limit)
