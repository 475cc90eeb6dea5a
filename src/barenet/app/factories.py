"""The network and the Solver that a :class:`RunConfig` describes."""

from __future__ import annotations

import numpy as np

from barenet.app.config import RunConfig
from barenet.data.prepare import RunData
from barenet.losses import CrossEntropyFromLogits
from barenet.networks import ClassificationNet
from barenet.optim import WarmupDecay, optimizer_class
from barenet.solver import Solver
from barenet.whitened_convnet import WhitenedConvNet


def model_settings(config: RunConfig, input_size: int, num_classes: int) -> dict:
    """The keyword arguments of :class:`ClassificationNet` that ``config`` describes."""
    hidden = config.hidden_size
    return {
        "activation": config.activation,
        "num_layer": len(hidden) + 1,
        "input_size": input_size,
        "hidden_size": hidden,
        "std": config.std,
        "num_classes": num_classes,
        "reg": config.reg,
        "dtype": np.dtype(config.dtype),
        "seed": config.seed,
        "dropout": config.dropout,
    }


def solver_settings(config: RunConfig) -> dict:
    """The :class:`Solver` keyword arguments of ``config``: optimizer class, learning rate,
    decay and the optimizer's hyperparameters."""
    optimizer = optimizer_class(config.optimizer)
    return {
        "learning_rate": config.learning_rate,
        "optimizer": optimizer,
        "lr_decay": config.lr_decay,
        "optim_config": {key: getattr(config, key) for key in optimizer.defaults},
    }


#: Training images the ConvNet's patch whitening is fitted on (the first ones of the
#: shuffled split): a covariance of 12-value patches needs few.
WHITENING_SAMPLE = 5000


def convnet_settings(config: RunConfig, image_shape: tuple, num_classes: int) -> dict:
    """The keyword arguments of :class:`WhitenedConvNet` that ``config`` describes."""
    return {
        "input_shape": image_shape,
        "widths": config.widths,
        "num_classes": num_classes,
        "whitening_kernel": config.whitening_kernel,
        "whitening_epsilon": config.whitening_epsilon,
        "dtype": np.dtype(config.dtype),
        "seed": config.seed,
    }


def make_model(
    config: RunConfig, input_size: int, num_classes: int, data: RunData | None = None
) -> ClassificationNet | WhitenedConvNet:
    """A freshly initialised network (seeded by ``config.seed``).

    With ``config.model == 'convnet'``, ``data`` is needed: the image shape, and the
    training images its patch whitening is fitted on.
    """
    if config.model == "mlp":
        return ClassificationNet(**model_settings(config, input_size, num_classes))
    if data is None or data.settings.flatten:
        raise ValueError("make_model: a convnet needs the run's data, as images (H, W, C)")
    net = WhitenedConvNet(**convnet_settings(config, data.image_shape, num_classes))
    return net.fit_whitening(data.plain_training_images(WHITENING_SAMPLE))


def lr_schedule(config: RunConfig, steps_per_epoch: int) -> WarmupDecay | None:
    """The run's learning rate per update (None: only ``lr_decay`` per epoch)."""
    if config.lr_schedule == "none" and not config.warmup_epochs:
        return None
    total = config.epochs * steps_per_epoch
    return WarmupDecay(
        total_steps=total,
        # A warm-up as long as the run (--epochs 1 with the recipe's one epoch of it)
        # leaves the last update to the decay.
        warmup_steps=min(round(config.warmup_epochs * steps_per_epoch), total - 1),
        decay=config.lr_schedule,
        final_factor=config.lr_final,
    )


def train_epochs(config: RunConfig, model) -> dict[str, int]:
    """The Solver's ``train_epochs``: the whitening bias's, for a ConvNet that sets them."""
    if config.model != "convnet" or config.whitening_bias_epochs is None:
        return {}
    return {model.whitening_bias_key: config.whitening_bias_epochs}


def make_solver(config: RunConfig, model, data: RunData, **kwargs) -> Solver:
    """A Solver with the run's optimizer, learning rate, decay, schedule, loss (label
    smoothing), weight average and hyperparameters.

    ``kwargs`` go to :class:`Solver` (``verbose``, ``progress``, ``on_epoch_end``, ...).
    """
    return Solver(
        model,
        data.train,
        data.val,
        loss_func=CrossEntropyFromLogits(smoothing=config.label_smoothing),
        lr_schedule=lr_schedule(config, len(data.train)),
        weight_average=config.weight_average,
        train_epochs=train_epochs(config, model),
        **solver_settings(config),
        **kwargs,
    )
