"""The confusion matrix of a classifier and its per-class table."""

from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``(C, C)`` from labels and predictions ``(N,)``: row = true, column = predicted."""
    return np.bincount(labels * num_classes + preds, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )


def format_confusion(matrix: np.ndarray, classes: list[str]) -> str:
    """Per-class accuracy and the ``(C, C)`` confusion matrix as a text table."""
    width = max(6, *(len(c) for c in classes)) + 1
    short = [c[:5] for c in classes]
    lines = [f"{'class':<{width}}{'acc':>7}  " + "".join(f"{s:>6}" for s in short)]
    for i, name in enumerate(classes):
        total = matrix[i].sum()
        acc = matrix[i, i] / total if total else float("nan")
        lines.append(f"{name:<{width}}{acc:>7.2%}  " + "".join(f"{n:>6d}" for n in matrix[i]))
    return "\n".join(lines)
