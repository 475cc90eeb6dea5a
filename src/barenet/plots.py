"""Training curves as PNG files.

Figures are built with matplotlib's object-oriented ``Figure`` (no ``pyplot``): it
needs no display, and it leaves the user's backend alone (inline plots in a notebook
keep working).
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def plot_history(history: dict, path: str | os.PathLike, title: str = "") -> Path:
    """Loss and accuracy per epoch, training and validation, side by side.

    Parameters
    ----------
    history : dict
        ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``: lists of floats, one
        per epoch (missing keys are skipped).
    path : path-like
        Where to write the PNG.
    title : str
        Figure title.

    Returns
    -------
    Path of the PNG.
    """
    fig = Figure(figsize=(10, 4))
    ax_loss, ax_acc = fig.subplots(1, 2)
    for ax, kind in ((ax_loss, "loss"), (ax_acc, "acc")):
        for split in ("train", "val"):
            values = history.get(f"{split}_{kind}", [])
            if values:
                ax.plot(range(1, len(values) + 1), values, marker=".", label=split)
        ax.set_xlabel("Epochs")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("Loss" if kind == "loss" else "Accuracy")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(loc="upper right" if kind == "loss" else "lower right")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_loss_curves(
    curves: dict[str, list[float]], path: str | os.PathLike, title: str = ""
) -> Path:
    """Several training-loss curves on one plot, e.g. one per optimizer.

    Parameters
    ----------
    curves : dict
        Legend label -> loss per epoch.
    path : path-like
        Where to write the PNG.
    title : str
        Plot title.

    Returns
    -------
    Path of the PNG.
    """
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for label, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, label=label)
    ax.set_xlabel("Epochs")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Loss")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return _save(fig, path)
