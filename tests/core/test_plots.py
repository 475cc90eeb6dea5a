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


def test_accuracy_vs_minutes_writes_a_png_with_one_line_per_run_and_the_target(tmp_path):
    from PIL import Image

    from barenet.plots import accuracy_vs_minutes_figure, plot_accuracy_vs_minutes

    curves = {"barenet": ([1.5, 3.0, 4.5], [0.5, 0.7, 0.8]), "PyTorch": ([1.0, 2.0], [0.6, 0.75])}
    fig = accuracy_vs_minutes_figure(curves, target=0.85)
    (ax,) = fig.axes
    assert [list(line.get_ydata()) for line in ax.lines[:2]] == [[50, 70, 80], [60, 75]]
    assert list(ax.lines[2].get_ydata()) == [85, 85]  # the target line
    assert ax.get_legend()._loc == BEST
    path = plot_accuracy_vs_minutes(curves, tmp_path / "curve.png", title="t")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (700, 450)


def test_accuracy_vs_minutes_refuses_lists_of_different_lengths():
    import pytest

    from barenet.plots import accuracy_vs_minutes_figure

    with pytest.raises(ValueError, match=r"curves\['a'\]: 2 times but 1 accuracies"):
        accuracy_vs_minutes_figure({"a": ([1.0, 2.0], [0.5])})
