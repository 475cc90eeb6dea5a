"""An Optuna study for ``barenet tune``: storage, sampler, pruner, workers, resume.

The command line only builds the loaders and a base config and calls :func:`run_study`.
A study lives in a storage: by default Optuna's journal file ``study.journal`` inside the
output folder (several local processes can share it), or any storage URL Optuna takes
(``sqlite:///...``, ``postgresql://...``) so that workers on other machines join in.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from barenet.networks import ClassificationNet

from .tune_objective import Loaders, TrialObjective
from .tune_report import leaderboard, plot_study, write_trials_csv
from .tune_space import SearchSpace
from .tune_storage import count_finished, fail_stale_trials, hide_password, open_study
from .tune_workers import WorkerJob, run_workers, split_budget

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
SETTINGS_NAME = "tune.json"


def make_sampler(name: str, seed: int | None, space: SearchSpace) -> optuna.samplers.BaseSampler:
    """TPE (default), random, or grid (every parameter a ``choice``)."""
    if name == "tpe":
        # constant_liar: parallel workers do not all pick the same promising point.
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=seed)
    raise ValueError(f"sampler must be one of {SAMPLERS}, got {name!r}")


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """Median: stop a trial whose val loss is worse than the median of earlier trials at
    the same epoch (after 3 trials and 1 epoch). Hyperband: successive halving over
    1..``epochs`` epochs."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(int(epochs), 1))
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner must be one of {PRUNERS}, got {name!r}")


def _save_settings(out_dir: Path, settings: dict) -> None:
    tmp = out_dir / f".{SETTINGS_NAME}.tmp"
    tmp.write_text(json.dumps(settings, indent=2, default=repr) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / SETTINGS_NAME)


def load_settings(out_dir: str | os.PathLike) -> dict:
    """What :func:`run_study` saved in ``tune.json``, with ``space`` as a SearchSpace: what
    the command line needs to resume a study with the same data and settings. A database
    URL is saved without its password; give it again to resume."""
    path = Path(out_dir) / SETTINGS_NAME
    if not path.is_file():
        raise ValueError(f"--resume {out_dir}: {SETTINGS_NAME} is missing (not a tune folder?)")
    settings = json.loads(path.read_text(encoding="utf-8"))
    settings["space"] = SearchSpace.from_list(settings["space"])
    return settings


def _check_budget(trials: int, workers: int, timeout: float | None) -> None:
    if int(trials) < 1:
        raise ValueError(f"trials must be >= 1, got {trials!r}")
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers!r}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    if int(workers) > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise ValueError("workers > 1 needs the 'fork' start method (Linux or macOS)")


def run_study(
    out_dir: str | os.PathLike,
    space: SearchSpace,
    base_config: Mapping[str, Any],
    loaders: Loaders,
    *,
    trials: int = 20,
    timeout: float | None = None,
    epochs: int = 10,
    patience: int | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    seed: int = 0,
    workers: int = 1,
    storage: str | None = None,
    study_name: str = "barenet",
    resume: bool = False,
    data_keys: Collection[str] = (),
    model_class: type = ClassificationNet,
    progress: bool = True,
    resolve: Callable[[dict], dict] | None = None,
) -> optuna.Study:
    """Run (or resume, or join) a study until ``trials`` trials have finished.

    Parameters
    ----------
    out_dir : path
        Output folder: ``trials.csv`` (rewritten after every finished trial),
        ``leaderboard.txt``, ``study.png``, ``tune.json`` (these settings) and, unless
        ``storage`` is given, the study itself in ``study.journal``.
    space : SearchSpace
        The tuned settings.
    base_config : mapping
        Fixed settings of every trial (see :class:`TrialObjective`).
    loaders : (train, val) or callable
        The data, or ``loaders(config) -> (train, val)``.
    trials : int
        Budget: finished (complete or pruned) trials in the study, all workers and
        machines together, earlier runs of a resumed study included.
    timeout : float, optional
        Seconds after which no new trial starts.
    epochs, patience : int
        Per trial.
    sampler : {'tpe', 'random', 'grid'}
    pruner : {'median', 'hyperband', 'none'}
    seed : int
        Seeds the samplers (one stream per worker) and the weight init.
    workers : int
        Processes on this machine sharing the study (forked: the loaders are shared).
    storage : str, optional
        A storage URL or journal path; another machine that runs the same command with
        the same ``storage`` and ``study_name`` works on the same study.
    study_name : str
    resume : bool
        Continue the study in ``out_dir`` (or ``storage``): RUNNING trials whose process
        is gone are marked FAIL; finished ones are kept and count against ``trials``.
    data_keys : collection of str
        Config keys only ``loaders`` reads.
    model_class : type
        The network each trial trains.
    progress : bool
        A progress bar over trials, and the leaderboard printed at the end.
    resolve : callable, optional
        ``resolve(config) -> kwargs``: turns a trial's settings (the base config with the
        suggestions) into the model and Solver keywords, for settings named otherwise than
        the model and the Solver name them (see :class:`TrialObjective`).

    Returns
    -------
    optuna.Study
    """
    _check_budget(trials, workers, timeout)
    make_sampler(sampler, seed, space)  # fail on a bad name before the study exists
    make_pruner(pruner, epochs)
    objective = TrialObjective(
        space, base_config, loaders, epochs, patience, model_class, data_keys, seed, resolve
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the bar and the leaderboard say it
    spec, handle, study = open_study(out_dir, storage, study_name, resume)
    if resume:
        failed = fail_stale_trials(study, handle)
        if failed and progress:
            print(f"Marked trial(s) {failed}, left running by a process that is gone, as failed.")
    settings = dict(
        study_name=study_name, storage=hide_password(storage), space=space.to_list(),
        base_config=dict(base_config), data_keys=sorted(data_keys), trials=int(trials),
        timeout=timeout, epochs=int(epochs), patience=patience, sampler=sampler, pruner=pruner,
        seed=seed, workers=int(workers),
    )  # fmt: skip
    _save_settings(out_dir, settings)
    finished = count_finished(study)
    job = WorkerJob(
        spec=spec,
        study_name=study_name,
        objective=objective,
        make_sampler=functools.partial(make_sampler, sampler, space=space),
        make_pruner=functools.partial(make_pruner, pruner, epochs),
        seed=seed,
        trials=int(trials),
        finished=finished,
        existing=len(study.get_trials(deepcopy=False)),
        csv_path=out_dir / "trials.csv",
        deadline=None if timeout is None else time.time() + float(timeout),
    )
    try:
        run_workers(job, split_budget(max(int(trials) - finished, 0), int(workers)), progress)
    except KeyboardInterrupt:
        # Ctrl-C can land in Optuna's bookkeeping, outside the objective, where nothing
        # marks the trial failed; the workers are joined, so every trial here is over.
        fail_stale_trials(study, handle, ended_pid=os.getpid())
        raise
    finally:
        _write_reports(study, out_dir, progress)
    return study


def best_config(study: optuna.Study, space: SearchSpace, base_config: Mapping[str, Any]) -> dict:
    """The base config with the parameters of the complete trial of lowest val loss: the
    settings to retrain as the study's result.

    Raises
    ------
    ValueError
        When no trial has completed.
    """
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise ValueError(f"study {study.study_name!r} has no complete trial yet")
    return {**base_config, **space.decode(study.best_trial.params)}


def _write_reports(study: optuna.Study, out_dir: Path, show: bool) -> None:
    trials = study.get_trials(deepcopy=False)
    write_trials_csv(trials, out_dir / "trials.csv")
    board = leaderboard(trials)
    (out_dir / "leaderboard.txt").write_text(board + "\n", encoding="utf-8")
    plot_study(study, out_dir / "study.png")
    if show:
        print(board)
