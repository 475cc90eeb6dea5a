"""One trial of ``barenet tune``: train a network with the suggested settings, report, prune."""

from __future__ import annotations

import os
import socket
import time

import optuna

from barenet.search_space import SearchSpace
from barenet.solver import Solver, TrainingDivergedError

from .config import TrialSettings


class TrialObjective:
    """The function an Optuna study minimises: the best validation loss of one training.

    Parameters
    ----------
    space : SearchSpace
        What each trial suggests.
    trials : TrialSettings
        The study's fixed settings and data; a trial's RunConfig is these with its
        suggestions, and its network and Solver are built from that RunConfig (its
        ``epochs`` and ``patience`` are each trial's budget).

    Notes
    -----
    A trial records in its user attributes the host and process that run it (so that a
    resumed study can tell a trial whose process died), its best validation accuracy, the
    number of epochs trained and the seconds taken. A diverged training is pruned.
    """

    def __init__(self, space: SearchSpace, trials: TrialSettings) -> None:
        self.space, self.trials = space, trials

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        config = self.trials.config(self.space.suggest(trial))
        solver = self.trials.solver(
            config, verbose=False, on_epoch_end=lambda s: self._report(trial, s)
        )
        start = time.perf_counter()
        try:
            solver.train(epochs=config.epochs, patience=config.patience)
        except TrainingDivergedError:
            trial.set_user_attr("diverged", True)
            raise optuna.TrialPruned("training diverged") from None
        finally:
            trial.set_user_attr("train_seconds", round(time.perf_counter() - start, 3))
        if solver.interrupted:
            raise KeyboardInterrupt  # the Solver swallowed Ctrl-C: stop the study, not just this trial
        stats = solver.best_model_stats
        trial.set_user_attr("val_acc", stats["val_acc"])
        trial.set_user_attr("best_epoch", stats["epoch"])
        return stats["val_loss"]

    @staticmethod
    def _report(trial: optuna.Trial, solver: Solver) -> None:
        """After each epoch: tell the pruner the val loss; stop here if it says so."""
        trial.report(solver.val_loss_history[-1], solver.epoch)
        if trial.should_prune():
            trial.set_user_attr("val_acc", solver.best_model_stats["val_acc"])
            raise optuna.TrialPruned(f"pruned after epoch {solver.epoch}")
