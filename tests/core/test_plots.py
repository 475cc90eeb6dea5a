"""Training-curve plots: legends where they cover nothing, every curve visible."""

import numpy as np

from barenet.plots import history_figure, loss_curves_figure

BEST = 0  # matplotlib's code of loc="best"


def styles(ax) -> list[tuple]:
    return [(str(line.get_linestyle()), line.get_marker()) for line in ax.lines]


def test_coinciding_loss_curves_get_distinct_line_styles_and_markers():
    flat = [2.30] * 20
    fig = loss_curves_figure(
        {"SGD": flat, "SGD + momentum": flat, "Adam": list(np.geomspace(2.3, 0.01, 20))}
    )
    (ax,) = fig.axes
    assert len(set(styles(ax))) == 3
    assert all(line.get_fillstyle() == "none" for line in ax.lines)  # hollow: one shows through
    assert ax.get_legend()._loc == BEST


def test_history_legends_are_placed_best():
    history = {
        "train_loss": [2.0, 1.0, 0.5],
        "val_loss": [2.1, 1.2, 0.9],
        "train_acc": [0.2, 0.5, 0.8],
        "val_acc": [0.2, 0.4, 0.6],
    }
    fig = history_figure(history, title="t")
    for ax in fig.axes:
        assert ax.get_legend()._loc == BEST
        assert len(set(styles(ax))) == 2
