"""Worker processes of one ``barenet tune`` study on this machine.

Worker 0 runs in the calling process, with the progress bar; the others are forked, so
they share the loaded data without copying it. Each opens its own connection to the
storage and draws from its own sampler seed. The remaining budget is split between
them, so together they finish exactly the trials asked for.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, TrialState

from barenet.app.exit_codes import EXIT_INTERRUPTED
from barenet.progress import progress_bar

from .report import write_trials_csv
from .storage import FINISHED, open_storage


@dataclass(frozen=True)
class WorkerJob:
    """What every worker needs.

    Attributes
    ----------
    spec : str
        Storage URL or journal path, opened again in each worker.
    study_name : str
    objective : callable
        ``objective(trial) -> float``.
    make_sampler : callable
        ``make_sampler(seed) -> BaseSampler``.
    make_pruner : callable
        ``make_pruner() -> BasePruner``.
    seed : int
    trials : int
        The study's budget of finished trials (all workers and machines).
    finished : int
        Finished trials when this run began.
    existing : int
        Trials of any state when this run began (varies the sampler seeds on resume).
    csv_path : Path
        ``trials.csv``, rewritten after each finished trial.
    deadline : float or None
        ``time.time()`` after which no trial starts.
    """

    spec: str
    study_name: str
    objective: Callable
    make_sampler: Callable[[int], optuna.samplers.BaseSampler]
    make_pruner: Callable[[], optuna.pruners.BasePruner]
    seed: int
    trials: int
    finished: int
    existing: int
    csv_path: Path
    deadline: float | None


#: The logger through which Optuna reports a failed trial.
OPTUNA_TRIAL_LOG = "optuna.study._optimize"


def split_budget(remaining: int, workers: int) -> list[int]:
    """Trials per worker: as even as possible, summing to ``remaining``."""
    return [remaining // workers + (i < remaining % workers) for i in range(workers)]


def worker_seed(seed: int, worker: int, existing: int) -> int:
    """Different for each worker and each resume, so no two replay the same draws."""
    return int(np.random.SeedSequence([seed, worker, existing]).generate_state(1)[0])


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


def _work(job: WorkerJob, worker: int, quota: int, bar=None) -> None:
    """One worker's share of the trials, on its own storage connection."""
    if quota <= 0:
        return
    study = optuna.load_study(
        study_name=job.study_name,
        storage=open_storage(job.spec),
        sampler=job.make_sampler(worker_seed(job.seed, worker, job.existing)),
        pruner=job.make_pruner(),
    )
    timeout = None if job.deadline is None else max(job.deadline - time.time(), 0.0)
    # The budget is also checked against the whole study: other machines may add trials.
    callbacks = [MaxTrialsCallback(job.trials, states=FINISHED), _AfterTrial(job.csv_path, bar)]
    with _CtrlCInTrials(job.objective) as objective:
        study.optimize(objective, n_trials=quota, timeout=timeout, callbacks=callbacks)


class _CtrlCInTrials:
    """Let Ctrl-C stop a worker inside a trial's objective only.

    Optuna marks a trial failed when its objective raises, but a Ctrl-C that lands while
    it creates or records a trial leaves that trial RUNNING for ever. So outside the
    objective a Ctrl-C is only noted: the next objective raises it at once (its trial
    fails before training), or the worker raises it after its last trial.

    The trial that Ctrl-C stops is marked failed without Optuna's warnings about it (a
    traceback, then ``Trial N failed with value None.``): the command says in one line
    what happened and how to continue.
    """

    def __init__(self, objective: Callable) -> None:
        self.objective, self.pending, self.inside = objective, False, False
        self.interrupted, self.previous = False, None

    def __call__(self, trial: optuna.Trial) -> float:
        try:
            if self.pending:
                raise KeyboardInterrupt
            self.inside = True
            try:
                return self.objective(trial)
            finally:
                self.inside = False
        except KeyboardInterrupt:
            self.interrupted = True
            raise

    def filter(self, record: logging.LogRecord) -> bool:
        """A logging filter: nothing of Optuna's trial-failed warnings after Ctrl-C."""
        return not self.interrupted

    def _on_sigint(self, signum, frame) -> None:
        if self.inside:
            raise KeyboardInterrupt
        self.pending = True

    def __enter__(self) -> _CtrlCInTrials:
        # Signal handlers belong to the main thread; elsewhere Ctrl-C cannot reach us anyway.
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._on_sigint)
        logging.getLogger(OPTUNA_TRIAL_LOG).addFilter(self)
        return self

    def __exit__(self, kind, error, traceback_) -> None:
        logging.getLogger(OPTUNA_TRIAL_LOG).removeFilter(self)
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        if kind is None and self.pending:
            raise KeyboardInterrupt


def _child(job: WorkerJob, worker: int, quota: int) -> None:
    code = 1
    try:
        _work(job, worker, quota)
        code = 0
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED  # Ctrl-C reached the whole process group: the parent reports it
    except Exception:
        traceback.print_exc()
    finally:
        # Skip the interpreter's teardown: it would close connections the parent shares.
        os._exit(code)


def _finish_bar(job: WorkerJob, bar) -> None:
    """Show the study's final count: trials that other workers finished after this
    process's last trial never moved the bar."""
    study = optuna.load_study(study_name=job.study_name, storage=open_storage(job.spec))
    bar.n = sum(t.state in FINISHED for t in study.get_trials(deepcopy=False))
    bar.refresh()
    bar.close()


def run_workers(job: WorkerJob, quotas: list[int], progress: bool) -> None:
    """Run ``len(quotas)`` workers, worker ``i`` taking ``quotas[i]`` trials; wait for all.

    Raises
    ------
    RuntimeError
        When a forked worker failed (its traceback is printed above).
    """
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_child, args=(job, i, q)) for i, q in enumerate(quotas) if i and q
    ]
    for child in children:
        child.start()
    bar = None
    if progress:
        bar = progress_bar(total=job.trials, initial=job.finished, unit="trial", desc="tune")
    try:
        _work(job, 0, quotas[0], bar)
    finally:
        for child in children:
            child.join()
        if bar is not None:
            _finish_bar(job, bar)
    failed = [c.exitcode for c in children if c.exitcode != 0]
    if failed:
        raise RuntimeError(
            f"{len(failed)} tuning worker(s) failed (exit codes {failed}); see above"
        )
