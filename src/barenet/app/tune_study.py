"""An Optuna study for ``barenet tune``: storage, sampler, pruner, workers, resume.

The command line only builds the loaders and a base config and calls :func:`run_study`.
A study lives in a storage: by default Optuna's journal file ``study.journal`` inside the
output folder (several local processes can share it), or any storage URL Optuna takes
(``sqlite:///...``, ``postgresql://...``) so that workers on other machines join in.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import time
import warnings
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, TrialState

from barenet.networks import ClassificationNet

from .tune_objective import Loaders, TrialObjective
from .tune_report import leaderboard, plot_study, write_trials_csv
from .tune_space import SearchSpace

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
JOURNAL_NAME = "study.journal"
SETTINGS_NAME = "tune.json"
#: Trials that count against the budget; a failed (killed) trial is run again.
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def open_storage(spec: str) -> BaseStorage:
    """A storage from a URL (``sqlite:///f.db``, ``postgresql://user@host/db``) or a
    journal file path. Database storages send heartbeats, so that a trial whose machine
    died is marked failed after a few minutes by whichever worker starts a trial next."""
    if "://" in spec:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(spec, heartbeat_interval=30, grace_period=120)
    return JournalStorage(JournalFileBackend(str(spec)))


def make_sampler(name: str, seed: int, space: SearchSpace) -> optuna.samplers.BaseSampler:
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


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(trial: FrozenTrial, host: str | None = None) -> bool:
    """A RUNNING trial whose process is gone: it started on this host in a process that no
    longer exists, or it never recorded its process (killed as it began)."""
    if trial.state != TrialState.RUNNING:
        return False
    pid = trial.user_attrs.get("pid")
    if pid is None:
        return True
    return trial.user_attrs.get("host") == (host or socket.gethostname()) and not _process_alive(
        pid
    )


def fail_stale_trials(study: optuna.Study, storage: BaseStorage) -> list[int]:
    """Mark the stale RUNNING trials of ``study`` as FAIL; returns their numbers."""
    study_id = storage.get_study_id_from_name(study.study_name)
    numbers = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if is_stale(trial):
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
            numbers.append(trial.number)
    return numbers


def count_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def _worker_seed(seed: int, worker: int, existing: int) -> int:
    """Different for each worker and each resume, so no two start the same sequence."""
    return int(np.random.SeedSequence([seed, worker, existing]).generate_state(1)[0])


def _open_study(out_dir: Path, storage: str | None, study_name: str, resume: bool, space, seed):
    """Create the study, or load it when resuming or joining a shared storage."""
    spec = storage or str(out_dir / JOURNAL_NAME)
    if resume and storage is None and not (out_dir / JOURNAL_NAME).exists():
        raise ValueError(f"--resume {out_dir}: no study there ({JOURNAL_NAME} is missing)")
    handle = open_storage(spec)
    exists = study_name in [s.study_name for s in optuna.get_all_study_summaries(handle)]
    if exists and storage is None and not resume:
        raise ValueError(
            f"{out_dir} already holds study {study_name!r}: continue it with --resume {out_dir} "
            "or choose another output folder"
        )
    if resume and not exists:
        raise ValueError(f"--resume: storage {spec} holds no study named {study_name!r}")
    study = optuna.create_study(
        storage=handle, study_name=study_name, direction="minimize", load_if_exists=True
    )
    return spec, handle, study


def _save_settings(out_dir: Path, settings: dict) -> None:
    tmp = out_dir / f".{SETTINGS_NAME}.tmp"
    tmp.write_text(json.dumps(settings, indent=2, default=repr) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / SETTINGS_NAME)


def load_settings(out_dir: str | os.PathLike) -> dict:
    """What :func:`run_study` saved in ``tune.json``, with ``space`` as a SearchSpace: what
    the command line needs to resume a study with the same data and settings."""
    path = Path(out_dir) / SETTINGS_NAME
    if not path.is_file():
        raise ValueError(f"--resume {out_dir}: {SETTINGS_NAME} is missing (not a tune folder?)")
    settings = json.loads(path.read_text(encoding="utf-8"))
    settings["space"] = SearchSpace.from_list(settings["space"])
    return settings


def _quotas(remaining: int, workers: int) -> list[int]:
    """Split the remaining trials over the workers: the total is exact."""
    return [remaining // workers + (i < remaining % workers) for i in range(workers)]


class _AfterTrial:
    """Callback after each finished trial: rewrite ``trials.csv``, move the progress bar."""

    def __init__(self, csv_path: Path, bar=None) -> None:
        self.csv_path, self.bar = csv_path, bar

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        trials = study.get_trials(deepcopy=False)
        write_trials_csv(trials, self.csv_path)
        if self.bar is not None:
            self.bar.n = sum(t.state in FINISHED for t in trials)
            best = [t.value for t in trials if t.state == TrialState.COMPLETE]
            self.bar.set_postfix(best_val_loss=f"{min(best):.4f}" if best else "-", refresh=False)
            self.bar.refresh()


def _work(job: dict, worker: int, quota: int, bar=None) -> None:
    """One worker: its own storage connection, sampler seed and share of the trials."""
    if quota <= 0:
        return
    storage = open_storage(job["spec"])
    study = optuna.load_study(
        study_name=job["study_name"],
        storage=storage,
        sampler=make_sampler(
            job["sampler"], _worker_seed(job["seed"], worker, job["existing"]), job["space"]
        ),
        pruner=make_pruner(job["pruner"], job["epochs"]),
    )
    timeout = None if job["deadline"] is None else max(job["deadline"] - time.time(), 0.0)
    callbacks = [MaxTrialsCallback(job["trials"], states=FINISHED), _AfterTrial(job["csv"], bar)]
    study.optimize(job["objective"], n_trials=quota, timeout=timeout, callbacks=callbacks)


def _child(job: dict, worker: int, quota: int) -> None:
    code = 1
    try:
        _work(job, worker, quota)
        code = 0
    finally:
        # Skip the interpreter's teardown: it would close connections the parent shares.
        os._exit(code)


def _run_workers(job: dict, quotas: list[int], progress: bool) -> None:
    """Worker 0 runs here (with the progress bar); the others in forked processes."""
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_child, args=(job, i, q), daemon=False)
        for i, q in enumerate(quotas)
        if i > 0 and q > 0
    ]
    for child in children:
        child.start()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=job["trials"], initial=job["finished"], unit="trial", desc="tune")
    try:
        _work(job, 0, quotas[0], bar)
    finally:
        for child in children:
            child.join()
        if bar is not None:
            bar.close()
    failed = [c.exitcode for c in children if c.exitcode != 0]
    if failed:
        raise RuntimeError(
            f"{len(failed)} tuning worker(s) failed (exit codes {failed}); see above"
        )


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
    resume : bool
        Continue the study in ``out_dir`` (or ``storage``): RUNNING trials whose process
        is gone are marked FAIL; finished ones are kept and count against ``trials``.
    data_keys : collection of str
        Config keys only ``loaders`` reads.
    progress : bool
        A progress bar over trials, and the leaderboard printed at the end.

    Returns
    -------
    optuna.Study
    """
    if int(trials) < 1:
        raise ValueError(f"trials must be >= 1, got {trials!r}")
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers!r}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    if int(workers) > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise ValueError("workers > 1 needs the 'fork' start method (Linux or macOS)")
    make_sampler(sampler, seed, space)  # fail on a bad name before the study exists
    make_pruner(pruner, epochs)
    objective = TrialObjective(
        space, base_config, loaders, epochs, patience, model_class, data_keys, seed
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the bar and the leaderboard say it
    spec, handle, study = _open_study(out_dir, storage, study_name, resume, space, seed)
    if resume:
        failed = fail_stale_trials(study, handle)
        if failed and progress:
            print(f"Marked trial(s) {failed}, left running by a process that is gone, as failed.")
    _save_settings(
        out_dir,
        {
            "study_name": study_name,
            "storage": storage,
            "space": space.to_list(),
            "base_config": dict(base_config),
            "data_keys": sorted(data_keys),
            "trials": int(trials),
            "timeout": timeout,
            "epochs": int(epochs),
            "patience": patience,
            "sampler": sampler,
            "pruner": pruner,
            "seed": seed,
            "workers": int(workers),
        },
    )
    finished = count_finished(study)
    job = {
        "spec": spec,
        "study_name": study_name,
        "sampler": sampler,
        "pruner": pruner,
        "seed": seed,
        "existing": len(study.get_trials(deepcopy=False)),
        "space": space,
        "epochs": int(epochs),
        "trials": int(trials),
        "finished": finished,
        "objective": objective,
        "csv": out_dir / "trials.csv",
        "deadline": None if timeout is None else time.time() + float(timeout),
    }
    try:
        _run_workers(job, _quotas(max(int(trials) - finished, 0), int(workers)), progress)
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
