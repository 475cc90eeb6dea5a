"""The ``barenet`` command (also ``python -m barenet``)."""

from __future__ import annotations

import argparse
import sys

from barenet.app.commands import cmd_compare, cmd_download, cmd_evaluate, cmd_size, cmd_train
from barenet.data import DownloadError
from barenet.solver import TrainingDivergedError

ACTIVATION_CHOICES = ["relu", "leaky_relu", "sigmoid", "tanh"]
OPTIMIZER_CHOICES = ["adam", "sgd_momentum", "sgd"]


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad argument gives one line (and status 2), not the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(kind, low=None, low_inclusive=True, name="value"):
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


positive_int = _number(int, 1, name="positive int")


def init_std(text: str) -> str | float:
    """``'he'``, ``'xavier'`` or a positive float."""
    if text in ("he", "xavier"):
        return text
    return _number(float, 0.0, low_inclusive=False, name="std")(text)


def val_fraction(text: str) -> float:
    """A share in (0, 0.5): some images must be left for training."""
    value = _number(float, 0.0, low_inclusive=False, name="fraction")(text)
    if value >= 0.5:
        raise argparse.ArgumentTypeError(f"must be below 0.5, got {text}")
    return value


non_negative_float = _number(float, 0.0, name="non-negative float")
positive_float = _number(float, 0.0, low_inclusive=False, name="positive float")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--dataset",
        choices=["digits", "cifar10"],
        default=None,
        help="digits: scikit-learn's bundled 8x8 digits, offline (default); "
        "cifar10: the official archive, downloaded once into the cache",
    )
    group.add_argument(
        "--data",
        metavar="PATH",
        help="an image folder root/<class>/<image> or a .zip of one; its train/ and "
        "test/ folders are used when present, else a seeded split",
    )
    group.add_argument(
        "--val-fraction",
        type=val_fraction,
        default=0.1,
        help="share of the training images held out for validation (default 0.1)",
    )
    group.add_argument("--limit", type=positive_int, help="use only this many training images")
    group.add_argument(
        "--seed", type=int, default=0, help="seeds the split, init, shuffling, flips"
    )


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("network")
    group.add_argument(
        "--hidden-size",
        type=positive_int,
        nargs="+",
        metavar="H",
        help="width of each hidden layer, e.g. 1024 512 (recipe default)",
    )
    group.add_argument(
        "--num-layer",
        type=positive_int,
        help="number of affine layers; with one --hidden-size, repeats it",
    )
    group.add_argument("--activation", choices=ACTIVATION_CHOICES, default="relu")
    group.add_argument(
        "--std",
        type=init_std,
        default="he",
        help="weight init std: a float, 'he' or 'xavier' (default he)",
    )
    group.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    group.add_argument(
        "--dropout",
        type=_number(float, 0.0, name="probability"),
        help="dropout after each hidden layer (recipe default)",
    )
    group.add_argument("--reg", type=non_negative_float, default=0.0, help="L2 strength")


def add_optim_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("optimization")
    group.add_argument("--optimizer", choices=OPTIMIZER_CHOICES, default="adam")
    group.add_argument("--lr", "--learning-rate", dest="learning_rate", type=positive_float)
    group.add_argument("--lr-decay", type=positive_float, help="learning rate factor per epoch")
    group.add_argument("--momentum", type=non_negative_float, help="SGD momentum (default 0.9)")
    group.add_argument("--beta1", type=non_negative_float, help="Adam beta1 (default 0.9)")
    group.add_argument("--beta2", type=non_negative_float, help="Adam beta2 (default 0.999)")
    group.add_argument("--epsilon", type=non_negative_float, help="Adam epsilon (default 1e-8)")
    group.add_argument("--batch-size", type=positive_int)
    group.add_argument("--epochs", type=_number(int, 0, name="int"))
    group.add_argument(
        "--patience",
        type=positive_int,
        help="stop after this many epochs without a better val loss",
    )
    group.add_argument("--no-patience", action="store_true", help="never stop early")
    group.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random horizontal flips of training images (recipe default)",
    )
    group.add_argument(
        "--crop",
        type=_number(int, 0, name="int"),
        help="random shifts of training images by up to this many pixels (recipe default)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="barenet",
        description="barenet: neural networks in plain NumPy. Train, evaluate, compare "
        "optimizers, account for memory, check and grade exercise code.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineErrorParser)

    train = sub.add_parser(
        "train",
        help="train a ClassificationNet and report test accuracy",
        description="Train a ClassificationNet. With no option: the offline digits. "
        "Writes model.npz, history.json, config.json, curves.png to --out.",
    )
    add_data_options(train)
    add_model_options(train)
    add_optim_options(train)
    train.add_argument("--out", metavar="DIR", help="output folder (default runs/<time>-<data>)")
    train.add_argument(
        "--resume", metavar="RUN_DIR", help="continue a saved run (optionally with more --epochs)"
    )
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser(
        "evaluate",
        help="accuracy and confusion table of a saved run",
        description="Reload RUN_DIR's model; print test accuracy and per-class table.",
    )
    evaluate.add_argument("run_dir", metavar="RUN_DIR")
    evaluate.add_argument(
        "--data", metavar="PATH", help="evaluate on this image folder / zip instead"
    )
    evaluate.add_argument("--dataset", choices=["digits", "cifar10"])
    evaluate.set_defaults(func=cmd_evaluate)

    compare = sub.add_parser(
        "compare",
        help="SGD vs SGD+momentum vs Adam, one plot",
        description="Train one net from the same initial weights with each optimizer "
        "and plot their training losses.",
    )
    add_data_options(compare)
    add_model_options(compare)
    add_optim_options(compare)
    compare.set_defaults(
        limit=500, hidden_size=[128], learning_rate=1e-3, epochs=20, batch_size=50, std=1e-3
    )
    compare.add_argument(
        "--out", default="optimizers.png", metavar="PNG", help="plot file (default optimizers.png)"
    )
    compare.add_argument("--quiet", action="store_true", help="print only the final table")
    compare.set_defaults(func=cmd_compare)

    size = sub.add_parser(
        "size",
        help="memory of the caches and gradients of one training pass",
        description="Memory account (compute_network_size) of one forward/backward pass.",
    )
    size.add_argument("--input-size", type=positive_int, default=3 * 32 * 32)
    size.add_argument("--hidden-size", type=positive_int, nargs="+", default=[100])
    size.add_argument("--num-layer", type=positive_int)
    size.add_argument("--num-classes", type=positive_int, default=10)
    size.add_argument("--batch-size", type=positive_int, default=256)
    size.add_argument(
        "--dataset-size",
        type=positive_int,
        default=50_000,
        help="extrapolate to one batch holding this many images (default 50,000)",
    )
    size.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    size.set_defaults(func=cmd_size)

    download = sub.add_parser(
        "download",
        help="fetch and verify a dataset archive",
        description="Download the CIFAR-10 archive (SHA-256 checked) into the cache.",
    )
    download.add_argument("name", choices=["cifar10"])
    download.add_argument("--dir", help="folder for the archive (default: the user cache)")
    download.set_defaults(func=cmd_download)

    for name, helptext in (
        ("check", "run the exercise tests on your own FILE.py"),
        ("grade", "grade submission zips in a sandbox"),
    ):
        cmd = sub.add_parser(name, help=helptext, add_help=False)
        cmd.add_argument("rest", nargs=argparse.REMAINDER)
        cmd.set_defaults(func=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("check", "grade"):
        from barenet.grading.cli_commands import check_main, grade_main

        return (check_main if argv[0] == "check" else grade_main)(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as error:
        print(f"barenet {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (DownloadError, FileNotFoundError, TrainingDivergedError) as error:
        print(f"barenet {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
