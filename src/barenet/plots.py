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

#: One (line style, marker) per curve: curves that coincide stay visible, as a
#: dashed line over a solid one, and markers of different shapes.
LINE_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v")]


def _style(index: int, num_points: int) -> dict:
    """Line style, hollow marker and marker spacing of the ``index``-th curve."""
    linestyle, marker = LINE_STYLES[index % len(LINE_STYLES)]
    return {
        "linestyle": linestyle,
        "marker": marker,
        "fillstyle": "none",
        # About 10 markers per curve, offset per curve so that they do not stack.
        "markevery": (index % 3, max(1, num_points // 10)),
    }


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def plot_history(history: dict, path: str | os.PathLike, title: str = "") -> Path:
    """Draw :func:`history_figure` into a PNG at ``path``; returns the path."""
    return _save(history_figure(history, title), path)


def history_figure(history: dict, title: str = "") -> Figure:
    """Loss and accuracy per epoch, training and validation, side by side.

    Parameters
    ----------
    history : dict
        ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``: lists of floats, one
        per epoch (missing keys are skipped).
    title : str
        Figure title.

    Returns
    -------
    Figure
    """
    fig = Figure(figsize=(10, 4))
    ax_loss, ax_acc = fig.subplots(1, 2)
    for ax, kind in ((ax_loss, "loss"), (ax_acc, "acc")):
        for index, split in enumerate(("train", "val")):
            values = history.get(f"{split}_{kind}", [])
            if values:
                x = range(1, len(values) + 1)
                ax.plot(x, values, label=split, **_style(index, len(values)))
        ax.set_xlabel("Epochs")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("Loss" if kind == "loss" else "Accuracy")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(loc="best")  # where it covers the fewest points
    if title:
        fig.suptitle(title)
    return fig


def plot_loss_curves(
    curves: dict[str, list[float]], path: str | os.PathLike, title: str = ""
) -> Path:
    """Draw :func:`loss_curves_figure` into a PNG at ``path``; returns the path."""
    return _save(loss_curves_figure(curves, title), path)


def loss_curves_figure(curves: dict[str, list[float]], title: str = "") -> Figure:
    """Several training-loss curves on one plot, e.g. one per optimizer.

    Parameters
    ----------
    curves : dict
        Legend label -> loss per epoch.
    title : str
        Plot title.

    Returns
    -------
    Figure
    """
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for index, (label, values) in enumerate(curves.items()):
        ax.plot(range(1, len(values) + 1), values, label=label, **_style(index, len(values)))
    ax.set_xlabel("Epochs")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Loss")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(loc="best")  # where it covers the fewest points
    if title:
        ax.set_title(title)
    return fig


def plot_accuracy_vs_minutes(
    curves: dict[str, tuple[list[float], list[float]]],
    path: str | os.PathLike,
    title: str = "",
    target: float | None = None,
) -> Path:
    """Draw :func:`accuracy_vs_minutes_figure` into a PNG at ``path``; returns the path."""
    return _save(accuracy_vs_minutes_figure(curves, title, target), path)


def accuracy_vs_minutes_figure(
    curves: dict[str, tuple[list[float], list[float]]],
    title: str = "",
    target: float | None = None,
) -> Figure:
    """Accuracy against wall time, one curve per run: what a time budget buys.

    Parameters
    ----------
    curves : dict
        Legend label -> ``(minutes, accuracy)``: two lists of floats of one length,
        the time elapsed at each evaluation and the accuracy (0..1) measured then.
    title : str
        Plot title.
    target : float, optional
        An accuracy (0..1) drawn as a horizontal line.

    Returns
    -------
    Figure

    Raises
    ------
    ValueError
        When a curve's two lists differ in length.
    """
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for index, (label, (minutes, accuracy)) in enumerate(curves.items()):
        if len(minutes) != len(accuracy):
            raise ValueError(
                f"curves[{label!r}]: {len(minutes)} times but {len(accuracy)} accuracies"
            )
        percent = [100 * a for a in accuracy]
        ax.plot(minutes, percent, label=label, **_style(index, len(minutes)))
    if target is not None:
        ax.axhline(100 * target, color="grey", linewidth=0.8, label=f"target {target:.0%}")
    ax.set_xlabel("Minutes")
    ax.set_ylabel("Accuracy (%)")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return fig
