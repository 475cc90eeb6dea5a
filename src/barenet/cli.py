"""The ``barenet`` command (also ``python -m barenet``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from barenet.data import DownloadError
from barenet.recipes import RECIPES, cifar10_is_available
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


def run_config(args: argparse.Namespace) -> dict:
    """Settings of a run: the recipe of the dataset, overridden by the options given."""
    if args.data and args.dataset:
        raise ValueError("give --dataset or --data, not both")
    dataset = args.dataset or ("cifar10" if args.data else "digits")
    config = {**RECIPES[dataset], "dataset": dataset, "data": str(args.data) if args.data else None}
    for key in (
        "val_fraction",
        "limit",
        "seed",
        "activation",
        "dtype",
        "reg",
        "optimizer",
        "learning_rate",
        "lr_decay",
        "momentum",
        "beta1",
        "beta2",
        "epsilon",
        "batch_size",
        "epochs",
        "patience",
        "flip",
        "crop",
        "dropout",
    ):
        if getattr(args, key, None) is not None:
            config[key] = getattr(args, key)
    if getattr(args, "no_patience", False):
        config["patience"] = None
    hidden = args.hidden_size or config["hidden_size"]
    if args.num_layer is not None:
        if args.num_layer == 1:
            hidden = []
        elif len(hidden) == 1:
            hidden = hidden * (args.num_layer - 1)
        elif len(hidden) != args.num_layer - 1:
            raise ValueError(
                f"--num-layer {args.num_layer} needs {args.num_layer - 1} hidden sizes, got {hidden}"
            )
    config["hidden_size"] = list(hidden)
    config["std"] = args.std
    if not 0 <= config["dropout"] < 1:
        raise ValueError(f"--dropout must be in [0, 1), got {config['dropout']}")
    for key in ("momentum", "beta1", "beta2"):
        if config.get(key) is not None and not config[key] < 1:
            raise ValueError(f"--{key} must be in [0, 1), got {config[key]}")
    return config


def fresh_run_dir(config: dict) -> Path:
    """``runs/<date>-<time>-<data>``, with a counter if that folder exists already."""
    stem = Path(config["data"]).stem if config["data"] else config["dataset"]
    base = Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{stem}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def cmd_train(args) -> int:
    from barenet.runs import train_run

    if args.resume:
        import json

        out = Path(args.resume)
        if not (out / "checkpoint.npz").is_file():
            raise ValueError(f"--resume: {out} has no checkpoint.npz to continue from")
        config = json.loads((out / "config.json").read_text())
        if args.epochs is not None:
            config["epochs"] = args.epochs
    else:
        config = run_config(args)
        out = Path(args.out) if args.out else fresh_run_dir(config)
        if (out / "model.npz").exists() or (out / "checkpoint.npz").exists():
            raise ValueError(
                f"--out: {out} already holds a run; continue it with --resume {out} "
                "or choose another folder (nothing was overwritten)"
            )
    history = train_run(config, out, resume=bool(args.resume))
    print(
        f"test accuracy: {history['test_accuracy']:.4f} ({history['test_accuracy']:.2%}) "
        f"after {history['epochs_done']} epochs, best epoch {history['best_epoch']}, "
        f"{history['wall_time_s']:.1f} s"
    )
    print(f"saved to {out}/: model.npz, history.json, config.json, curves.png")
    return 0


def cmd_evaluate(args) -> int:
    from barenet.recipes import build_data
    from barenet.runs import confusion_matrix, format_confusion, load_run

    config, model = load_run(Path(args.run_dir))
    if args.data or args.dataset:
        config = {
            **config,
            "data": str(args.data) if args.data else None,
            "dataset": args.dataset or config["dataset"],
        }
    data = build_data(config, stats=(config["norm_mean"], config["norm_std"]))
    if data.input_size != model.input_size:
        raise ValueError(
            f"--data: images have {data.input_size} values, the model expects {model.input_size}"
        )
    labels, preds, acc = model.get_dataset_prediction(data.test)
    print(f"test accuracy: {acc:.4f} ({acc:.2%}) on {len(labels)} images")
    print(format_confusion(confusion_matrix(labels, preds, len(data.classes)), data.classes))
    return 0


def cmd_compare(args) -> int:
    from barenet.compare import compare_optimizers, format_comparison

    if not args.data and not args.dataset:
        args.dataset = "cifar10" if cifar10_is_available() else "digits"
        if args.dataset == "digits":
            print(
                "CIFAR-10 is not downloaded (barenet download cifar10): comparing on the offline digits."
            )
    config = run_config(args)
    config.update(flip=False, crop=0, dropout=0.0, lr_decay=1.0, patience=None, limit=args.limit)
    out = Path(args.out)
    results = compare_optimizers(config, out, verbose=not args.quiet)
    print(format_comparison(results))
    print(f"plot saved to {out}")
    return 0


def cmd_size(args) -> int:
    from barenet.losses import CrossEntropyFromLogits
    from barenet.memory import human_readable_size, network_size_breakdown
    from barenet.networks import ClassificationNet

    hidden = (
        args.hidden_size
        if len(args.hidden_size) > 1 or args.num_layer is None
        else args.hidden_size * (args.num_layer - 1)
    )
    if args.num_layer == 1:
        hidden = []

    def measure(batch: int) -> dict[str, int]:
        net = ClassificationNet(
            num_layer=len(hidden) + 1,
            input_size=args.input_size,
            hidden_size=hidden,
            num_classes=args.num_classes,
            dtype=np.dtype(args.dtype),
            seed=0,
        )
        X = np.zeros((batch, args.input_size), dtype=args.dtype)
        _, dlogits = CrossEntropyFromLogits()(net.forward(X), np.zeros(batch, np.int64))
        net.backward(dlogits)
        return network_size_breakdown(net)

    breakdown = measure(args.batch_size)
    total = sum(breakdown.values())
    # Caches grow linearly with the batch, gradients do not: two sizes fix the line.
    per_sample = (total - sum(measure(1).values())) / max(args.batch_size - 1, 1)
    whole = sum(measure(1).values()) + per_sample * (args.dataset_size - 1)
    print(
        f"network {'-'.join(map(str, [args.input_size, *hidden, args.num_classes]))}, "
        f"{args.dtype}, batch {args.batch_size}"
    )
    for name, size in breakdown.items():
        print(f"  {name:<22}{size:>14,d} B  {human_readable_size(size):>10}")
    print(f"total for one batch of {args.batch_size}: {total:,d} B = {human_readable_size(total)}")
    print(
        f"whole dataset of {args.dataset_size:,d} images in one pass: {int(whole):,d} B = "
        f"{human_readable_size(whole)}"
    )
    return 0


def cmd_download(args) -> int:
    from barenet.data import CIFAR10

    dataset = CIFAR10(root=args.dir, train=True, download=True)
    print(
        f"CIFAR-10 ready: {dataset.archive} ({len(dataset)} training images, classes {', '.join(dataset.classes)})"
    )
    return 0


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
