"""The command's argument types (the only module that defines any), and the options of a
run, derived from :class:`RunConfig`.

Every run option has ``default=argparse.SUPPRESS``: an option left out is absent
from the parsed arguments, so ``RunConfig.from_args`` can tell a user's choice
from a recipe default. The defaults shown in ``--help`` are read from RunConfig.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from barenet.app.config import (
    ACTIVATIONS,
    DATASETS,
    DTYPES,
    LR_SCHEDULES,
    MODELS,
    ON_BAD_IMAGE,
    OPTIMIZERS,
    default_text,
)

SUPPRESS = argparse.SUPPRESS


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad argument gives one line (and status 2), not the usage block,
    and no option is taken from a prefix of its name (``--epoch 2`` is an error, not
    ``--epochs 2``)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def number(
    kind: type, low: float | None = None, low_inclusive: bool = True, name: str = "value"
) -> Callable[[str], Any]:
    """An argparse type that parses ``kind`` and checks a lower bound."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if low is not None and (value < low or (value == low and not low_inclusive)):
            bound = f">= {low}" if low_inclusive else f"> {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    parse.__name__ = name
    return parse


positive_int = number(int, 1, name="positive int")
non_negative_int = number(int, 0, name="int")
non_negative_float = number(float, 0.0, name="non-negative float")
positive_float = number(float, 0.0, low_inclusive=False, name="positive float")


def int_or_none(text: str) -> int | None:
    """An int >= 0, or ``none``."""
    return None if text.strip().lower() == "none" else non_negative_int(text)


def seconds(text: str) -> float:
    """A finite number of seconds greater than 0 (a time limit)."""
    value = positive_float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds, got {text}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1] (a share)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1], got {text!r}")
    return value


def init_std(text: str) -> str | float:
    """``'he'``, ``'xavier'`` or a positive float."""
    if text in ("he", "xavier"):
        return text
    return number(float, 0.0, low_inclusive=False, name="std")(text)


def val_fraction(text: str) -> float:
    """A share in (0, 0.5): some images must be left for training."""
    value = number(float, 0.0, low_inclusive=False, name="fraction")(text)
    if value >= 0.5:
        raise argparse.ArgumentTypeError(f"must be below 0.5, got {text}")
    return value


def add_data_options(parser: argparse.ArgumentParser, overrides: dict | None = None) -> None:
    """``--dataset``, ``--data``, ``--val-fraction``, ``--limit``, ``--seed``, ``--zca``,
    ``--on-bad-image``."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--dataset",
        choices=DATASETS,
        default=SUPPRESS,
        help="digits: scikit-learn's bundled 8x8 digits, offline (the default); "
        "cifar10: the official archive, downloaded once into the cache",
    )
    group.add_argument(
        "--data",
        metavar="PATH",
        default=SUPPRESS,
        help="an image folder root/<class>/<image> or a .zip of one; its train/ and "
        "test/ folders are used when present, else a seeded split",
    )
    group.add_argument(
        "--val-fraction",
        type=val_fraction,
        default=SUPPRESS,
        help=f"share of the training images held out for validation ({default_text('val_fraction')})",
    )
    group.add_argument(
        "--limit",
        type=positive_int,
        default=SUPPRESS,
        help=f"use only this many training images, chosen at random ({default_text('limit', overrides)})",
    )
    group.add_argument(
        "--seed",
        type=int,
        default=SUPPRESS,
        help=f"seeds the split, init, shuffling, flips ({default_text('seed')})",
    )
    group.add_argument(
        "--zca",
        type=non_negative_float,
        metavar="EPSILON",
        default=SUPPRESS,
        help="ZCA-whiten the images (fitted on the training split) with this epsilon "
        "added to the covariance's eigenvalues, pixels scaled to 0..1; 0: standardise "
        f"each channel instead ({default_text('zca', overrides)})",
    )
    group.add_argument(
        "--on-bad-image",
        choices=ON_BAD_IMAGE,
        default=SUPPRESS,
        help="an image file that cannot be decoded: stop with its name (raise), or leave "
        f"it out with a warning (skip) ({default_text('on_bad_image')})",
    )


def add_model_options(parser: argparse.ArgumentParser, overrides: dict | None = None) -> None:
    """``--hidden-size``, ``--num-layer``, ``--activation``, ``--std``, ``--dtype``, ..."""
    group = parser.add_argument_group("network")
    group.add_argument(
        "--model",
        choices=MODELS,
        default=SUPPRESS,
        help="mlp: the ClassificationNet (affine layers); convnet: a WhitenedConvNet "
        f"(patch whitening, conv-pool-batchnorm blocks) ({default_text('model')})",
    )
    group.add_argument(
        "--hidden-size",
        type=positive_int,
        nargs="+",
        metavar="H",
        default=SUPPRESS,
        help=f"width of each hidden layer, e.g. 1024 512 ({default_text('hidden_size', overrides)})",
    )
    group.add_argument(
        "--num-layer",
        type=positive_int,
        help="number of affine layers; with one --hidden-size, repeats it",
    )
    group.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default=SUPPRESS,
        help=f"({default_text('activation')})",
    )
    group.add_argument(
        "--std",
        type=init_std,
        default=SUPPRESS,
        help=f"weight init std: a float, 'he' or 'xavier' ({default_text('std', overrides)})",
    )
    group.add_argument(
        "--dtype", choices=DTYPES, default=SUPPRESS, help=f"({default_text('dtype')})"
    )
    group.add_argument(
        "--dropout",
        type=number(float, 0.0, name="probability"),
        default=SUPPRESS,
        help=f"dropout after each hidden layer ({default_text('dropout', overrides)})",
    )
    group.add_argument(
        "--reg",
        type=non_negative_float,
        default=SUPPRESS,
        help=f"L2 strength ({default_text('reg')})",
    )
    add_convnet_options(parser, overrides)


def add_convnet_options(parser: argparse.ArgumentParser, overrides: dict | None = None) -> None:
    """``--widths``, ``--whitening-kernel``, ``--whitening-epsilon``,
    ``--whitening-bias-epochs`` (``--model convnet``)."""
    group = parser.add_argument_group("convnet (with --model convnet)")
    group.add_argument(
        "--widths",
        type=positive_int,
        nargs="+",
        metavar="W",
        default=SUPPRESS,
        help="channels of each conv block; each block halves the map "
        f"({default_text('widths', overrides)})",
    )
    group.add_argument(
        "--whitening-kernel",
        type=positive_int,
        metavar="K",
        default=SUPPRESS,
        help="side of the patches the fixed first layer whitens "
        f"({default_text('whitening_kernel', overrides)})",
    )
    group.add_argument(
        "--whitening-epsilon",
        type=positive_float,
        metavar="EPSILON",
        default=SUPPRESS,
        help="added to the patch covariance's eigenvalues "
        f"({default_text('whitening_epsilon', overrides)})",
    )
    group.add_argument(
        "--whitening-bias-epochs",
        type=int_or_none,
        metavar="E",
        default=SUPPRESS,
        help="train the whitening layer's bias for the first E epochs only, then keep it: "
        "the layers below the first convolution need no gradient any more; none: "
        f"train it throughout ({default_text('whitening_bias_epochs', overrides)})",
    )


def add_optim_options(
    parser: argparse.ArgumentParser,
    overrides: dict | None = None,
    choose_optimizer: bool = True,
    schedule: bool = True,
) -> None:
    """Optimizer, learning rate, batch size and epochs; with ``schedule``, also decay,
    early stopping and augmentation."""
    group = parser.add_argument_group("optimization")
    if choose_optimizer:
        group.add_argument(
            "--optimizer",
            choices=OPTIMIZERS,
            default=SUPPRESS,
            help=f"({default_text('optimizer')})",
        )
    group.add_argument(
        "--lr",
        "--learning-rate",
        dest="learning_rate",
        type=non_negative_float,
        default=SUPPRESS,
        help=f"initial learning rate, >= 0 ({default_text('learning_rate', overrides)})",
    )
    for name, text in (
        ("momentum", "SGD momentum"),
        ("beta1", "Adam beta1"),
        ("beta2", "Adam beta2"),
        ("epsilon", "Adam epsilon"),
    ):
        group.add_argument(
            f"--{name}",
            type=non_negative_float,
            default=SUPPRESS,
            help=f"{text} ({default_text(name)})",
        )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=SUPPRESS,
        help=f"({default_text('batch_size', overrides)})",
    )
    group.add_argument(
        "--epochs",
        type=positive_int,
        default=SUPPRESS,
        help=f"total epochs of the run ({default_text('epochs', overrides)})",
    )
    if schedule:
        add_schedule_options(group)


def add_schedule_options(group: argparse._ArgumentGroup) -> None:
    """``--lr-decay``, ``--patience``/``--no-patience``, ``--flip``, ``--crop``."""
    group.add_argument(
        "--lr-decay",
        type=positive_float,
        default=SUPPRESS,
        help=f"learning rate factor per epoch ({default_text('lr_decay')})",
    )
    group.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        default=SUPPRESS,
        help="a learning rate per update: after --warmup-epochs of linear warm-up, a "
        "linear or cosine decay to --lr-final times --lr over the run (none: constant), "
        f"on top of --lr-decay ({default_text('lr_schedule')})",
    )
    group.add_argument(
        "--warmup-epochs",
        type=non_negative_float,
        default=SUPPRESS,
        help="epochs of linear learning-rate warm-up, at most the run's length "
        f"({default_text('warmup_epochs')})",
    )
    group.add_argument(
        "--lr-final",
        type=non_negative_float,
        metavar="FACTOR",
        default=SUPPRESS,
        help=f"the schedule's last learning rate, as a factor of --lr ({default_text('lr_final')})",
    )
    group.add_argument(
        "--label-smoothing",
        type=non_negative_float,
        default=SUPPRESS,
        help=f"cross-entropy against (1 - s) * one-hot + s / classes ({default_text('label_smoothing')})",
    )
    group.add_argument(
        "--weight-average",
        type=non_negative_float,
        metavar="DECAY",
        default=SUPPRESS,
        help="validate and keep an exponential moving average of the weights with this "
        f"decay per update ({default_text('weight_average')})",
    )
    group.add_argument(
        "--patience",
        type=positive_int,
        default=SUPPRESS,
        help=f"stop after this many epochs without a better val loss ({default_text('patience')})",
    )
    group.add_argument(
        "--no-patience",
        dest="patience",
        action="store_const",
        const=None,
        default=SUPPRESS,
        help="never stop early",
    )
    group.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=SUPPRESS,
        help=f"random horizontal flips of training images ({default_text('flip')})",
    )
    group.add_argument(
        "--crop",
        type=non_negative_int,
        default=SUPPRESS,
        help=f"random shifts of training images by up to this many pixels ({default_text('crop')})",
    )
