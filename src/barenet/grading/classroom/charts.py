"""The class report's charts as PNG bytes (matplotlib's Agg canvas, no display, no pyplot).

Each chart is drawn on its own ``Figure``, so charts can be drawn from any thread
and the user's matplotlib backend is left alone.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from barenet.grading.classroom.summary import ItemStatistic

BAR_COLOR = "#3b6ea5"
FAIL_COLOR = "#c0504d"


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG bytes (96 dpi)."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=96)
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...``, for an ``<img src>`` that needs no other file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def histogram_png(
    values: Sequence[float],
    xlabel: str,
    upper: float = 100.0,
    mark: float | None = None,
) -> bytes:
    """A histogram of ``values`` on ``[0, upper]`` in ten bins, with an optional pass mark.

    Parameters
    ----------
    values : sequence of float
        Scores (0-100) or accuracies (0-1).
    xlabel : str
    upper : float
        The top of the scale (100 for scores, 1 for accuracies).
    mark : float, optional
        Drawn as a vertical dashed line (the pass mark).
    """
    figure = Figure(figsize=(6.4, 3.2))
    axes = figure.add_subplot()
    bins = [upper * i / 10 for i in range(11)]
    axes.hist(list(values), bins=bins, color=BAR_COLOR, edgecolor="white")
    if mark is not None:
        axes.axvline(mark, color=FAIL_COLOR, linestyle="--", label=f"pass mark {mark:g}")
        axes.legend(loc="upper left")
    axes.set_xlim(0, upper)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("Submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return png_bytes(figure)


def pass_rate_png(items: Sequence[ItemStatistic]) -> bytes:
    """One horizontal bar per test: the share of graded submissions that passed it."""
    height = 1.0 + 0.32 * max(1, len(items))
    figure = Figure(figsize=(6.4, height))
    axes = figure.add_subplot()
    names = [item.test for item in items][::-1]
    rates = [100 * item.rate for item in items][::-1]
    colors = [FAIL_COLOR if rate < 50 else BAR_COLOR for rate in rates]
    axes.barh(names, rates, color=colors)
    axes.set_xlim(0, 100)
    axes.set_xlabel("Passed (% of graded submissions)")
    axes.tick_params(axis="y", labelsize=8)
    return png_bytes(figure)
