"""Helpers for the tuning tests: small digits studies and a tiny search space."""

from __future__ import annotations

import optuna

from barenet.app.config import RunConfig
from barenet.app.run_data import build_data
from barenet.app.tune.config import TrialSettings
from barenet.app.tune.storage import JOURNAL_NAME, open_storage
from barenet.search_space import space_from_flags


def digits_trials(limit: int = 400, epochs: int = 5, **settings) -> TrialSettings:
    """The trials of a study on ``limit`` training digits, ``epochs`` epochs each, without
    early stopping; ``settings`` are further RunConfig settings."""
    config = RunConfig(limit=limit, epochs=epochs, patience=None, **settings)
    return TrialSettings(config, build_data(config))


def small_space():
    # A wide learning-rate range: its low end barely learns, which the pruner catches.
    return space_from_flags(["learning_rate=log:1e-5:1e-1", "hidden_size=int:8:32"])


def load_trials(out_dir, study_name: str = "barenet"):
    storage = open_storage(str(out_dir / JOURNAL_NAME))
    return optuna.load_study(study_name=study_name, storage=storage).get_trials()
