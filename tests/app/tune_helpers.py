"""Helpers for the tuning tests: small digits loaders and a tiny search space."""

from __future__ import annotations

import time
from pathlib import Path

import optuna

from barenet import ComposeTransform, DataLoader, DigitsDataset, FlattenTransform, RescaleTransform
from barenet.app.tune_space import space_from_flags
from barenet.app.tune_storage import JOURNAL_NAME, open_storage

BASE = {"input_size": 64, "num_classes": 10}


class SlowLoader:
    """A loader that waits before each batch, like data read from a slow disk: trials that
    last long enough to be interrupted, at almost no CPU cost."""

    def __init__(self, loader, delay: float) -> None:
        self.loader, self.delay = loader, delay

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            time.sleep(self.delay)
            yield batch


def digits_loaders(train_images: int = 400, batch_size: int = 32, delay: float = 0.0):
    """(train, val) loaders of flattened 8x8 digits, values in 0..1; ``delay`` seconds
    before each training batch."""
    transform = ComposeTransform([RescaleTransform(), FlattenTransform()])
    train = DigitsDataset("train", transform=transform, limit_files=train_images)
    val = DigitsDataset("val", transform=transform, limit_files=200)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, seed=0)
    val_loader = DataLoader(val, batch_size=200)
    return (SlowLoader(train_loader, delay) if delay else train_loader), val_loader


def small_space():
    # A wide learning-rate range: its low end barely learns, which the pruner catches.
    return space_from_flags(["learning_rate=log:1e-5:1e-1", "hidden_size=int:8:32"])


def load_trials(out_dir: Path, study_name: str = "barenet"):
    storage = open_storage(str(out_dir / JOURNAL_NAME))
    return optuna.load_study(study_name=study_name, storage=storage).get_trials()
