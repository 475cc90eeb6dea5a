"""The memory account of one training pass: what the caches and gradients hold."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

try:  # NumPy >= 2.0
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy import byte_bounds


def _arrays_in(obj, prefix: str) -> Iterator[tuple[str, np.ndarray]]:
    """Yield ``(name, array)`` for every array inside nested dicts, tuples and lists."""
    if isinstance(obj, np.ndarray):
        yield prefix, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _arrays_in(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(obj, (tuple, list)):
        for i, value in enumerate(obj):
            yield from _arrays_in(value, f"{prefix}[{i}]")


def _new_bytes(array: np.ndarray, seen: list[tuple[int, int]]) -> int:
    """Bytes of ``array``'s memory span not already in ``seen``, then add the span to it.

    Memory is tracked as address ranges (``seen`` is kept disjoint and sorted), so a
    view or reshape (same range) adds 0 bytes and a slice of a big array counts only
    the part it spans.
    """
    low, high = byte_bounds(array)
    overlap = sum(max(0, min(high, s_high) - max(low, s_low)) for s_low, s_high in seen)
    merged = []
    for s_low, s_high in sorted([*seen, (low, high)]):
        if merged and s_low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], s_high))
        else:
            merged.append((s_low, s_high))
    seen[:] = merged
    return (high - low) - overlap


def network_size_breakdown(model) -> dict[str, int]:
    """Bytes added by each cache and gradient entry, counting every buffer once.

    Parameters
    ----------
    model : Network
        After a forward and a backward pass, so that ``cache`` and ``grads`` are filled.

    Returns
    -------
    dict
        ``'cache.<key>...'`` and ``'grads.<key>'`` names, in order, to the bytes each adds
        to what the entries before it already hold (0 for a view). The values sum to
        :func:`compute_network_size`.
    """
    seen: list[tuple[int, int]] = []
    breakdown: dict[str, int] = {}
    for name, array in _arrays_in({"cache": model.cache, "grads": model.grads}, ""):
        breakdown[name] = _new_bytes(array, seen)
    return breakdown


def compute_network_size(model) -> int:
    """Bytes held by the caches and gradients of one training pass, each buffer once.

    The caches include the batch input and the weights they refer to (the backward
    pass needs both); views of an array are not new memory.

    Parameters
    ----------
    model : Network
        After a forward and a backward pass.

    Returns
    -------
    int
    """
    return int(sum(network_size_breakdown(model).values()))


def human_readable_size(size: float, precision: int = 2) -> str:
    """Format a byte count: divide by 1024 while it exceeds 1024.

    >>> human_readable_size(1024), human_readable_size(1025), human_readable_size(39_521_000_000)
    ('1024.00B', '1.00KB', '36.81GB')
    """
    suffixes = ["B", "KB", "MB", "GB", "TB"]
    index = 0
    while size > 1024 and index < len(suffixes) - 1:
        size /= 1024.0
        index += 1
    return f"{size:.{precision}f}{suffixes[index]}"


GetHumanReadable = human_readable_size
