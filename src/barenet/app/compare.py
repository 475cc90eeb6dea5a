"""``barenet compare``: one network, the same initial weights, SGD vs SGD+momentum vs Adam."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from barenet.app.arguments import add_data_options, add_model_options, add_optim_options
from barenet.app.config import RunConfig
from barenet.app.factories import make_model, make_solver
from barenet.app.run_data import build_data, cifar10_is_available
from barenet.plots import plot_loss_curves

LABELS = {"sgd": "SGD", "sgd_momentum": "SGD + momentum", "adam": "Adam"}

#: The exercise's comparison: a 3072-128-10 net with small init, batch 8 on 500
#: images, learning rate 1e-3, 20 epochs, no decay or early stop (and no
#: augmentation: see compare_optimizers).
COMPARE_SETTINGS = {
    "limit": 500,
    "zca": 0.0,
    "hidden_size": [128],
    "std": 1e-3,
    "learning_rate": 1e-3,
    "batch_size": 8,
    "epochs": 20,
    "dropout": 0.0,
    "lr_decay": 1.0,
    "patience": None,
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``compare`` to the ``barenet`` command."""
    parser = subparsers.add_parser(
        "compare",
        help="SGD vs SGD+momentum vs Adam, one plot",
        description="Train one net from the same initial weights with each optimizer "
        "and plot their training losses. The defaults are the exercise's: batch 8 on "
        "500 images, lr 1e-3, 20 epochs (CIFAR-10 when downloaded, else the digits).",
    )
    add_data_options(parser, COMPARE_SETTINGS)
    add_model_options(parser, COMPARE_SETTINGS)
    add_optim_options(parser, COMPARE_SETTINGS, choose_optimizer=False, schedule=False)
    parser.add_argument(
        "--out", default="optimizers.png", metavar="PNG", help="plot file (default optimizers.png)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the final table")
    parser.set_defaults(func=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """Check the plot path, train the three, print the table, write the plot."""
    out = Path(args.out)
    check_plot_path(out)  # before minutes of training, not after
    settings = dict(COMPARE_SETTINGS)
    if not getattr(args, "data", None) and not getattr(args, "dataset", None):
        settings["dataset"] = "cifar10" if cifar10_is_available() else "digits"
        if settings["dataset"] == "digits":
            print(
                "CIFAR-10 is not downloaded (barenet download cifar10): "
                "comparing on the offline digits."
            )
    config = RunConfig.from_args(args, **settings)
    results = compare_optimizers(config, out, verbose=not args.quiet)
    print(format_comparison(results))
    print(f"plot saved to {out}")
    return 0


def check_plot_path(path: Path) -> None:
    """Raise ValueError (naming ``--out``) unless a plot can be written to ``path``."""
    from matplotlib.figure import Figure  # slow to import: only when comparing

    kinds = Figure().canvas.get_supported_filetypes()
    if path.suffix.lstrip(".").lower() not in kinds:
        raise ValueError(
            f"--out: {path} must end in an image type matplotlib writes "
            f"({', '.join('.' + k for k in sorted(kinds))})"
        )
    if path.is_dir():
        raise ValueError(f"--out: {path} is a folder; give a file name such as {path}/plot.png")
    folder = path.parent
    while not folder.exists():  # the plot creates missing folders
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ValueError(f"--out: cannot write in {folder}")


def compare_optimizers(config: RunConfig, out_png: Path, verbose: bool = True) -> dict[str, dict]:
    """Train a copy of one initial network per optimizer on the same data.

    Parameters
    ----------
    config : RunConfig
        Run settings; ``optimizer`` is ignored (each is used in turn), and so are
        ``flip`` and ``crop`` (the data are the same for all three).
    out_png : Path
        Where to draw the training-loss curves (x: Epochs, y: Loss).
    verbose : bool
        Print each optimizer's epoch lines.

    Returns
    -------
    dict
        Optimizer name -> ``{'train_loss': [...], 'val_loss': [...], 'val_acc': [...]}``.
    """
    # One set of training batches for all three: no random augmentation.
    config = config.replace(flip=False, crop=0)
    data = build_data(config)
    initial = make_model(config, data.input_size, len(data.classes), data)
    results = {}
    for name, label in LABELS.items():
        model = make_model(config, data.input_size, len(data.classes), data)
        model.params = {k: v.copy() for k, v in initial.params.items()}
        if verbose:
            print(f"--- {label} ---")
        solver = make_solver(
            config.replace(optimizer=name),
            model,
            data,
            verbose=verbose,
            print_every=max(1, config.epochs // 5),
        )
        solver.train(epochs=config.epochs, patience=config.patience)
        results[name] = {
            "train_loss": solver.train_loss_history,
            "val_loss": solver.val_loss_history,
            "val_acc": solver.val_acc_history,
        }
    curves = {LABELS[name]: r["train_loss"] for name, r in results.items()}
    source = Path(config.data).name if config.data else config.dataset
    plot_loss_curves(
        curves, out_png, title=f"Training loss on {len(data.train.dataset)} images of {source}"
    )
    return results


def format_comparison(results: dict[str, dict]) -> str:
    """Final training loss, validation loss and accuracy per optimizer, as a table."""
    lines = [f"{'optimizer':<16}{'train loss':>12}{'val loss':>10}{'val acc':>9}"]
    for name, r in results.items():
        lines.append(
            f"{LABELS[name]:<16}{r['train_loss'][-1]:>12.4f}"
            f"{r['val_loss'][-1]:>10.4f}{r['val_acc'][-1]:>9.2%}"
        )
    return "\n".join(lines)
