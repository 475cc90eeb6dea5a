"""The data of a run: the command chooses the settings, :mod:`barenet.data.prepare` does
the rest (source, split, limit, whitening or normalisation, loaders).

Normalisation statistics come from the training split only and are stored in the
run's ``config.json``, so that ``evaluate`` preprocesses exactly alike; with ``zca``
the fitted :class:`~barenet.data.ZCAWhitening` is kept in ``whitening.npz``.
"""

from __future__ import annotations

from pathlib import Path

from barenet.app.config import RunConfig
from barenet.data import CIFAR10
from barenet.data.prepare import RunData, RunDataSettings, prepare_run_data
from barenet.data.whitening import ZCAWhitening

__all__ = ["RunData", "build_data", "cifar10_is_available", "data_settings"]


def data_settings(config: RunConfig) -> RunDataSettings:
    """The data settings of a run's ``config``."""
    return RunDataSettings(
        dataset=config.dataset,
        path=config.data,
        val_fraction=config.val_fraction,
        limit=config.limit,
        seed=config.seed,
        on_bad_image=config.on_bad_image,
        zca=config.zca,
        batch_size=config.batch_size,
        flip=config.flip,
        crop=config.crop,
        flatten=config.model == "mlp",
    )


def build_data(
    config: RunConfig, stats: tuple | None = None, whitening: ZCAWhitening | None = None
) -> RunData:
    """The loaders of a run (see :func:`~barenet.data.prepare.prepare_run_data`).

    ``stats=(mean, std)`` and ``whitening`` reuse a saved run's; else they are computed
    on the training split.

    Raises
    ------
    ValueError
        Naming ``--data``, when the path does not exist.
    """
    if config.data and not Path(config.data).exists():
        raise ValueError(
            f"--data: {config.data} does not exist (expected an image folder or a .zip of one)"
        )
    return prepare_run_data(data_settings(config), stats, whitening)


def cifar10_is_available() -> bool:
    """Whether the CIFAR-10 archive is already downloaded (no network needed)."""
    try:
        CIFAR10(train=False, download=False, progress=False)
    except (FileNotFoundError, OSError, ValueError):
        return False
    return True
