"""An Optuna study for ``barenet tune``: storage, sampler, pruner, workers, resume.

The command line builds the trials' shared settings and data (a
:class:`~barenet.app.tune.config.TrialSettings`) and the search's own settings (a
:class:`StudySettings`), and calls :func:`run_study`. A study lives in a storage: by
default Optuna's journal file ``study.journal`` inside the output folder (several local
processes can share it), or any storage URL Optuna takes (``sqlite:///...``,
``postgresql://...``) so that workers on other machines join in.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

from barenet.io import write_text_atomically
from barenet.search_space import SearchSpace

from .config import DATA_KEYS, TrialSettings
from .objective import TrialObjective
from .report import leaderboard, plot_study, write_trials_csv
from .storage import count_finished, fail_stale_trials, hide_password, open_study
from .workers import WorkerJob, run_workers, split_budget

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
SETTINGS_NAME = "tune.json"


@dataclass(frozen=True)
class StudySettings:
    """How a study searches; the defaults are ``barenet tune``'s.

    Attributes
    ----------
    sampler : {'tpe', 'random', 'grid'}
    pruner : {'median', 'hyperband', 'none'}
    trials : int
        Budget: finished (complete or pruned) trials in the study, all workers and
        machines together, earlier runs of a resumed study included.
    timeout : float or None
        Seconds after which no new trial starts.
    workers : int
        Processes on this machine sharing the study (forked: the data is shared).
    storage : str or None
        A storage URL or journal path; another machine that runs the same command with
        the same ``storage`` and ``study_name`` works on the same study.
    study_name : str
    """

    sampler: str = "tpe"
    pruner: str = "median"
    trials: int = 20
    timeout: float | None = None
    workers: int = 1
    storage: str | None = None
    study_name: str = "barenet"

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        if self.pruner not in PRUNERS:
            raise ValueError(f"pruner must be one of {PRUNERS}, got {self.pruner!r}")
        if int(self.trials) < 1:
            raise ValueError(f"trials must be >= 1, got {self.trials!r}")
        if int(self.workers) < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers!r}")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout!r}")
        if int(self.workers) > 1 and "fork" not in multiprocessing.get_all_start_methods():
            raise ValueError("workers > 1 needs the 'fork' start method (Linux or macOS)")


#: The names of the search's settings, as ``tune.json`` and the command line spell them.
SEARCH_NAMES = tuple(f.name for f in dataclasses.fields(StudySettings))


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


def run_study(
    out_dir: str | os.PathLike,
    space: SearchSpace,
    trials: TrialSettings,
    settings: StudySettings = StudySettings(),
    *,
    resume: bool = False,
    progress: bool = True,
) -> optuna.Study:
    """Run (or resume, or join) a study until ``settings.trials`` trials have finished.

    Parameters
    ----------
    out_dir : path
        Output folder: ``trials.csv`` (rewritten after every finished trial),
        ``leaderboard.txt``, ``study.png``, ``tune.json`` (the settings) and, unless
        ``settings.storage`` is given, the study itself in ``study.journal``.
    space : SearchSpace
        The tuned settings.
    trials : TrialSettings
        The fixed settings and data of every trial; its base RunConfig's ``epochs`` and
        ``patience`` are each trial's budget, its ``seed`` seeds the samplers too.
    settings : StudySettings
        Sampler, pruner, budget, workers and storage.
    resume : bool
        Continue the study in ``out_dir`` (or ``storage``): RUNNING trials whose process
        is gone are marked FAIL; finished ones are kept and count against the budget.
    progress : bool
        A progress bar over trials (on a terminal), and the leaderboard printed at the end.

    Returns
    -------
    optuna.Study
    """
    _check_before_the_study(space, trials, settings)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the bar and the leaderboard say it
    spec, handle, study = open_study(out_dir, settings.storage, settings.study_name, resume)
    if resume:
        failed = fail_stale_trials(study, handle)
        if failed and progress:
            print(f"Marked trial(s) {failed}, left running by a process that is gone, as failed.")
    _save_settings(out_dir, _settings_record(space, trials, settings))
    job = _worker_job(spec, study, space, trials, settings, out_dir)
    remaining = max(int(settings.trials) - job.finished, 0)
    try:
        run_workers(job, split_budget(remaining, int(settings.workers)), progress)
    except KeyboardInterrupt:
        # Ctrl-C can land in Optuna's bookkeeping, outside the objective, where nothing
        # marks the trial failed; the workers are joined, so every trial here is over.
        fail_stale_trials(study, handle, ended_pid=os.getpid())
        raise
    finally:
        _write_reports(study, out_dir, progress)
    return study


def _check_before_the_study(
    space: SearchSpace, trials: TrialSettings, settings: StudySettings
) -> None:
    """Fail on a bad space or setting before the study exists."""
    trials.check(space)
    make_sampler(settings.sampler, trials.base.seed, space)
    make_pruner(settings.pruner, trials.base.epochs)


def _settings_record(space: SearchSpace, trials: TrialSettings, settings: StudySettings) -> dict:
    """``tune.json``: what ``--resume`` needs to continue with the same data and settings."""
    base = trials.base
    return {
        **dataclasses.asdict(settings),
        "storage": hide_password(settings.storage),
        "space": space.to_list(),
        "base_config": dataclasses.asdict(base),
        "data_keys": sorted(k for k in DATA_KEYS if k in space.names),
        "epochs": base.epochs,
        "patience": base.patience,
        "seed": base.seed,
    }


def _save_settings(out_dir: Path, record: dict) -> None:
    write_text_atomically(
        out_dir / SETTINGS_NAME, json.dumps(record, indent=2, default=repr) + "\n"
    )


def _worker_job(
    spec: str,
    study: optuna.Study,
    space: SearchSpace,
    trials: TrialSettings,
    settings: StudySettings,
    out_dir: Path,
) -> WorkerJob:
    """What every worker of this run needs, with the study's counts as it begins."""
    timeout = settings.timeout
    return WorkerJob(
        spec=spec,
        study_name=settings.study_name,
        objective=TrialObjective(space, trials),
        make_sampler=functools.partial(make_sampler, settings.sampler, space=space),
        make_pruner=functools.partial(make_pruner, settings.pruner, trials.base.epochs),
        seed=trials.base.seed,
        trials=int(settings.trials),
        finished=count_finished(study),
        existing=len(study.get_trials(deepcopy=False)),
        csv_path=out_dir / "trials.csv",
        deadline=None if timeout is None else time.time() + float(timeout),
    )


def best_params(study: optuna.Study, space: SearchSpace) -> dict:
    """The settings of the complete trial of lowest val loss, decoded (``'512x256'`` ->
    ``[512, 256]``): what to retrain as the study's result.

    Raises
    ------
    ValueError
        When no trial has completed.
    """
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise ValueError(f"study {study.study_name!r} has no complete trial yet")
    return space.decode(study.best_trial.params)


def _write_reports(study: optuna.Study, out_dir: Path, show: bool) -> None:
    trials = study.get_trials(deepcopy=False)
    write_trials_csv(trials, out_dir / "trials.csv")
    board = leaderboard(trials)
    write_text_atomically(out_dir / "leaderboard.txt", board + "\n")
    plot_study(study, out_dir / "study.png")
    if show:
        print(board)
