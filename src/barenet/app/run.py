"""A training run on disk: train, checkpoint every epoch, resume, save the results.

A run folder holds

* ``config.json``    -- the :class:`RunConfig`, with the normalisation statistics;
* ``model.npz``      -- the best weights (lowest validation loss), ``allow_pickle=False``;
* ``history.json``   -- per-epoch losses and accuracies, ``test_accuracy``, wall time;
* ``curves.png``     -- loss and accuracy curves;
* ``checkpoint.npz`` -- the state after the last finished epoch (see ``checkpoint``),
  written before the first epoch too, so that any run can be resumed;
* ``whitening.npz``  -- with ``zca``, the fitted :class:`ZCAWhitening` (``allow_pickle=False``).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from barenet.app.checkpoint import history_of, load_checkpoint, save_checkpoint
from barenet.app.config import RunConfig
from barenet.app.factories import make_model, make_solver
from barenet.app.run_data import RunData, build_data
from barenet.data.whitening import ZCAWhitening
from barenet.io import write_text_atomically
from barenet.networks import ClassificationNet
from barenet.plots import plot_history
from barenet.prediction import predict_dataset
from barenet.solver import Solver
from barenet.whitened_convnet import WhitenedConvNet

CONFIG, MODEL, HISTORY, CHECKPOINT, CURVES, WHITENING = (
    "config.json",
    "model.npz",
    "history.json",
    "checkpoint.npz",
    "curves.png",
    "whitening.npz",
)


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text_atomically(path, json.dumps(data, indent=2))


def train_run(config: RunConfig, out_dir: Path, resume: bool = False, verbose: bool = True) -> dict:
    """Train (or resume) the run in ``out_dir``; returns the history written there.

    ``config.epochs`` is the total number of epochs of the run, counting those
    done before a resume. On Ctrl-C the finished epochs are saved and the returned
    history has ``interrupted`` set. The folder is created once the data are ready,
    and removed again when the run fails before its first checkpoint is written: a
    bad ``--data`` or an early Ctrl-C leaves no empty run folder behind.
    """
    start = time.perf_counter()
    stats = (config.norm_mean, config.norm_std) if resume else None
    data = build_data(config, stats, load_whitening(out_dir, config) if resume else None)
    config = config.replace(
        norm_mean=data.mean, norm_std=data.std, input_size=data.input_size, classes=data.classes
    )
    with created_folder(out_dir):
        solver, previous_time = start_solver(config, data, out_dir, resume, verbose)
    try:
        solver.train(epochs=max(config.epochs - solver.epoch, 0), patience=config.patience)
    finally:
        # Runs on Ctrl-C too (the Solver has already restored the best weights).
        history = finish_run(
            solver, data, config, out_dir, previous_time + time.perf_counter() - start
        )
    return history


@contextlib.contextmanager
def created_folder(path: Path) -> Iterator[Path]:
    """Create ``path`` and its missing parents; if the block fails (Ctrl-C included),
    remove what was created, so that nothing empty or half-set-up is left."""
    first_missing = next((p for p in [path, *path.parents][::-1] if not p.exists()), None)
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        if first_missing is not None:
            shutil.rmtree(first_missing, ignore_errors=True)
        raise


def start_solver(
    config: RunConfig, data: RunData, out_dir: Path, resume: bool, verbose: bool
) -> tuple[Solver, float]:
    """The run's Solver, its settings and first checkpoint written (or its checkpoint
    loaded, on resume); returns it with the seconds trained before a resume."""
    if data.whitening is not None and not resume:
        data.whitening.save(out_dir / WHITENING)
    write_text_atomically(out_dir / CONFIG, config.to_json())
    model = make_model(config, data.input_size, len(data.classes), data)
    checkpoint = out_dir / CHECKPOINT
    solver = make_solver(
        config,
        model,
        data,
        verbose=verbose,
        progress=verbose,  # drawn on a terminal only (barenet.progress)
        on_epoch_end=lambda s: save_checkpoint(s, checkpoint),
    )
    previous_time = 0.0
    if resume:
        load_checkpoint(solver, checkpoint)
        if (out_dir / HISTORY).is_file():
            previous_time = json.loads((out_dir / HISTORY).read_text()).get("wall_time_s", 0.0)
        if verbose:
            print(f"Resuming {out_dir} after epoch {solver.epoch} of {config.epochs}.")
    else:
        save_checkpoint(solver, checkpoint)  # Ctrl-C in epoch 1 leaves a resumable run
    return solver, previous_time


def finish_run(
    solver: Solver, data: RunData, config: RunConfig, out_dir: Path, wall_time: float
) -> dict:
    """Save best weights, history (with test accuracy) and curves; return the history.

    With no finished epoch (Ctrl-C in the first one) there is nothing to report: the
    history says so, and no model, accuracy or empty plot is written.
    """
    history = {
        **history_of(solver),
        "best_epoch": solver.best_epoch,
        "epochs_done": solver.epoch,
        "test_accuracy": None,
        "test_accuracy_single_view": None,
        "test_views": len(data.test_views),
        "wall_time_s": round(wall_time, 3),
        "stop_reason": solver.stop_reason,
        "interrupted": solver.interrupted,
    }
    if solver.epoch > 0:
        solver.model.save(out_dir / MODEL)
        test = predict_dataset(solver.model, data.test_views)
        history["test_accuracy"] = test.accuracy
        history["test_accuracy_single_view"] = test.first_view_accuracy
    write_json(out_dir / HISTORY, history)
    if solver.epoch > 0:
        source = Path(config.data).name if config.data else config.dataset
        title = f"{source}: test accuracy {history['test_accuracy']:.2%}"
        plot_history(history, out_dir / CURVES, title=title)
    return history


def load_whitening(run_dir: Path, config: RunConfig) -> ZCAWhitening | None:
    """The saved whitening of a ``zca`` run (None for other runs).

    Raises
    ------
    ValueError
        When the run whitens its images but ``whitening.npz`` is missing.
    """
    if not config.zca:
        return None
    if not (run_dir / WHITENING).is_file():
        raise ValueError(
            f"RUN_DIR: {run_dir} was trained on ZCA-whitened images (zca {config.zca:g}) "
            f"but has no {WHITENING}"
        )
    return ZCAWhitening.load(run_dir / WHITENING)


def data_now(config: RunConfig, run_dir: Path, data: str | None = None) -> RunConfig:
    """A saved run's settings with its data where they are now: ``data`` (a ``--data``
    given again, e.g. the images in their new place), else the saved path.

    Raises
    ------
    ValueError
        Naming ``--data``, when the saved path is not there any more (the images moved,
        or an older run folder stored a path relative to another folder).
    """
    if data is not None:
        return config.replace(data=str(Path(data).expanduser().resolve()))
    if config.data and not Path(config.data).exists():
        raise ValueError(
            f"--data: {run_dir} was trained on {config.data}, which is not there any more; "
            "if the images moved, give their new place with --data PATH"
        )
    return config


def load_run(run_dir: Path) -> tuple[RunConfig, ClassificationNet | WhitenedConvNet]:
    """Settings and best model of a saved run.

    Raises
    ------
    ValueError
        When ``run_dir`` lacks ``config.json`` or ``model.npz``.
    """
    for name in (CONFIG, MODEL):
        if not (run_dir / name).is_file():
            raise ValueError(
                f"RUN_DIR: {run_dir} has no {name}; is it a folder written by 'barenet train'?"
            )
    config = RunConfig.from_json((run_dir / CONFIG).read_text())
    network = WhitenedConvNet if config.model == "convnet" else ClassificationNet
    return config, network.load(run_dir / MODEL)


def fresh_run_dir(config: RunConfig, kind: str = "") -> Path:
    """``runs/<date>-<time>-[<kind>-]<data>``, with a counter if that folder exists already."""
    stem = Path(config.data).stem if config.data else config.dataset
    stem = f"{kind}-{stem}" if kind else stem
    base = Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{stem}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out
