"""One trial of ``barenet tune``: train a network with the suggested settings, report, prune."""

from __future__ import annotations

import inspect
import os
import socket
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

import optuna

from barenet.networks import ClassificationNet
from barenet.solver import Solver, TrainingDivergedError
from barenet.tuning import split_config

from .tune_space import SearchSpace

#: ``loaders(config) -> (train, val)``, or a fixed pair of loaders.
Loaders = Callable[[dict], tuple[Iterable, Iterable]] | tuple[Iterable, Iterable]


class TrialObjective:
    """The function an Optuna study minimises: the best validation loss of one training.

    Parameters
    ----------
    space : SearchSpace
        What each trial suggests.
    base_config : mapping
        Settings shared by every trial (model, Solver and optimizer keys, and the keys
        in ``data_keys``); a trial's suggestions override them.
    loaders : pair of loaders, or callable
        ``(train, val)``, or ``loaders(config) -> (train, val)`` when the data depends on
        a setting (e.g. ``batch_size``): batches ``{'image': (B, D), 'label': (B,)}``.
    epochs : int
        Most epochs per trial; the pruner sees the validation loss after each one.
    patience : int or None
        Early stopping within a trial.
    model_class : type
        The network, built from the model keys of the config.
    data_keys : collection of str
        Config keys that only ``loaders`` reads; they are not passed to the model.
    seed : int
        Weight-init seed when the config has none.
    resolve : callable, optional
        ``resolve(config) -> kwargs``: the model and Solver keywords of a trial's settings,
        when these are named otherwise (e.g. a command line's ``optimizer='adam'``, which the
        Solver takes as a class). Without it, the settings other than ``data_keys`` are the
        keywords themselves.

    Notes
    -----
    A trial records in its user attributes the host and process that run it (so that a
    resumed study can tell a trial whose process died), its best validation accuracy, the
    number of epochs trained and the seconds taken. A diverged training is pruned.
    """

    def __init__(
        self,
        space: SearchSpace,
        base_config: Mapping[str, Any],
        loaders: Loaders,
        epochs: int,
        patience: int | None = None,
        model_class: type = ClassificationNet,
        data_keys: Collection[str] = (),
        seed: int = 0,
        resolve: Callable[[dict], dict] | None = None,
    ) -> None:
        if int(epochs) < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs!r}")
        if patience is not None and int(patience) < 1:
            raise ValueError(f"patience must be >= 1 or None, got {patience!r}")
        self.space, self.base_config = space, dict(base_config)
        self.loaders, self.epochs, self.patience = loaders, int(epochs), patience
        self.model_class, self.data_keys, self.seed = model_class, set(data_keys), seed
        self.resolve = resolve
        self._check_names()

    def _check_names(self) -> None:
        """Fail before any trial on a setting no part of a trial takes."""
        names = {**self.base_config, **dict.fromkeys(self.space.names)}
        try:
            self._split({k: self.base_config.get(k) for k in names})
        except ValueError as error:
            raise ValueError(f"{error}; or a data setting ({sorted(self.data_keys)})") from None

    def _split(self, config: dict) -> tuple[dict, dict]:
        if self.resolve is not None:
            model_part = self.resolve(config)
        else:
            model_part = {k: v for k, v in config.items() if k not in self.data_keys}
        model_kwargs, solver_kwargs = split_config(model_part, self.model_class)
        if "seed" in inspect.signature(self.model_class).parameters:
            model_kwargs.setdefault("seed", self.seed)
        return model_kwargs, solver_kwargs

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        config = {**self.base_config, **self.space.suggest(trial)}
        train, val = self.loaders(config) if callable(self.loaders) else self.loaders
        model_kwargs, solver_kwargs = self._split(config)
        solver = Solver(
            self.model_class(**model_kwargs),
            train,
            val,
            **{**solver_kwargs, "verbose": False},
            on_epoch_end=lambda s: self._report(trial, s),
        )
        start = time.perf_counter()
        try:
            solver.train(epochs=self.epochs, patience=self.patience)
        except TrainingDivergedError:
            trial.set_user_attr("diverged", True)
            raise optuna.TrialPruned("training diverged") from None
        finally:
            trial.set_user_attr("train_seconds", round(time.perf_counter() - start, 3))
        if solver.stop_reason.startswith("Interrupted"):
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
