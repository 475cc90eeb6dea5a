"""What ``barenet tune`` leaves in its output folder: ``trials.csv``, the leaderboard, ``study.png``."""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from barenet.io import atomic_write, write_text_atomically

FIXED_COLUMNS = ["number", "state", "value", "val_acc"]
TAIL_COLUMNS = ["epochs", "seconds"]


def _seconds(trial: FrozenTrial) -> float | str:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return ""
    return round((trial.datetime_complete - trial.datetime_start).total_seconds(), 3)


def trial_rows(trials: Sequence[FrozenTrial]) -> tuple[list[str], list[dict]]:
    """Columns and one row per trial: number, state, value (the best val loss of a complete
    trial, the last reported one of a pruned trial), val_acc (at the best epoch), one
    column per parameter, epochs trained and seconds taken."""
    names: list[str] = []
    for trial in trials:
        names += [n for n in trial.params if n not in names]
    rows = []
    for trial in sorted(trials, key=lambda t: t.number):
        row = {
            "number": trial.number,
            "state": trial.state.name,
            "value": "" if trial.value is None else trial.value,
            "val_acc": trial.user_attrs.get("val_acc", ""),
            "epochs": len(trial.intermediate_values),
            "seconds": _seconds(trial),
        }
        row.update({n: trial.params.get(n, "") for n in names})
        rows.append(row)
    return FIXED_COLUMNS + names + TAIL_COLUMNS, rows


def write_trials_csv(trials: Sequence[FrozenTrial], path: str | os.PathLike) -> Path:
    """Rewrite ``path`` atomically: a reader never sees a half-written file."""
    path = Path(path)
    columns, rows = trial_rows(trials)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    # Workers may rewrite the file at the same moment: each has its own temporary name.
    return write_text_atomically(path, buffer.getvalue())


def leaderboard(trials: Sequence[FrozenTrial], top: int = 10) -> str:
    """The ``top`` complete trials by validation loss, with a count of every state."""
    done = sorted(
        (t for t in trials if t.state == TrialState.COMPLETE and t.value is not None),
        key=lambda t: (math.isnan(t.value), t.value),
    )
    counts = {s.name.lower(): sum(t.state == s for t in trials) for s in TrialState}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines = [f"{len(trials)} trials: {summary or 'none'}"]
    if not done:
        return "\n".join(lines + ["no trial completed"])
    lines.append(f"{'rank':>4} {'trial':>5} {'val loss':>9} {'val acc':>8}  params")
    for rank, trial in enumerate(done[:top], start=1):
        acc = trial.user_attrs.get("val_acc")
        acc_text = f"{acc:8.4f}" if isinstance(acc, float) else f"{'':>8}"
        params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        lines.append(f"{rank:>4} {trial.number:>5} {trial.value:9.5f} {acc_text}  {params}")
    return "\n".join(lines)


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def plot_study(study: optuna.Study, path: str | os.PathLike) -> Path | None:
    """``study.png``: the optimization history beside the parameter importances (or, with
    too few complete trials or a single parameter, the parallel coordinates).

    Returns None, and draws nothing, before two trials have completed.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ov

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        axes = [ov.plot_optimization_history(study, target_name="val loss")]
        try:
            if len(complete[0].params) < 2:
                raise ValueError("importances need two parameters")
            axes.append(ov.plot_param_importances(study, target_name="val loss"))
        except (ValueError, RuntimeError):
            axes.append(ov.plot_parallel_coordinate(study, target_name="val loss"))
    path = Path(path)
    _side_by_side([ax.figure for ax in axes], path)
    for ax in axes:
        plt.close(ax.figure)
    return path


def _side_by_side(figures: list, path: Path) -> None:
    """Draw each figure and paste them left to right into one PNG."""
    import numpy as np
    from PIL import Image

    images = []
    for figure in figures:
        figure.set_size_inches(6.4, 4.8)
        figure.tight_layout()
        figure.canvas.draw()
        images.append(np.asarray(figure.canvas.buffer_rgba())[..., :3])
    height = max(im.shape[0] for im in images)
    padded = [
        np.pad(im, ((0, height - im.shape[0]), (0, 0), (0, 0)), constant_values=255)
        for im in images
    ]
    with atomic_write(path) as file:
        Image.fromarray(np.concatenate(padded, axis=1)).save(file, format="PNG")
