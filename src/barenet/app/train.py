"""``barenet train``: train a ClassificationNet into a run folder, or resume one."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from barenet.app.arguments import add_data_options, add_model_options, add_optim_options
from barenet.app.checkpoint import checkpoint_epoch
from barenet.app.config import RunConfig, flag, given_settings
from barenet.app.exit_codes import EXIT_INTERRUPTED
from barenet.app.run import CHECKPOINT, CONFIG, MODEL, data_now, fresh_run_dir, train_run

#: The settings ``--resume`` may change; every other one is the saved run's.
RESUMABLE = ("epochs", "patience")

#: Exit status after Ctrl-C, as a shell reports a process ended by SIGINT.


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train`` to the ``barenet`` command."""
    parser = subparsers.add_parser(
        "train",
        help="train a ClassificationNet (or a ConvNet) and report test accuracy",
        description="Train a ClassificationNet, or with --model convnet a WhitenedConvNet. "
        "With no option: the offline digits. "
        "Writes model.npz, history.json, config.json, curves.png to --out.",
    )
    add_data_options(parser)
    add_model_options(parser)
    add_optim_options(parser)
    parser.add_argument("--out", metavar="DIR", help="output folder (default runs/<time>-<data>)")
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a saved run with its settings; only --epochs (the new total) and "
        "--patience/--no-patience may change, and --data where its images moved",
    )
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Train or resume; print the test accuracy and where the run is saved."""
    if args.resume:
        out = Path(args.resume)
        config = resumed_config(args, out)
    else:
        config = RunConfig.from_args(args)
        out = Path(args.out) if args.out else fresh_run_dir(config)
        if (out / MODEL).exists() or (out / CHECKPOINT).exists():
            raise ValueError(
                f"--out: {out} already holds a run; continue it with --resume {out} "
                "or choose another folder (nothing was overwritten)"
            )
    history = train_run(config, out, resume=bool(args.resume))
    print_summary(history, out)
    if history["interrupted"]:
        print(
            f"Interrupted: {out} keeps its {history['epochs_done']} finished epochs. "
            f"Continue with:\n  barenet train --resume {shlex.quote(str(out))}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return 0


def resumed_config(args: argparse.Namespace, out: Path) -> RunConfig:
    """The saved settings of the run in ``out``, with the changes ``--resume`` allows.

    Raises
    ------
    ValueError
        When the run cannot be continued, when other settings are given, or when
        ``--epochs`` is not above the epochs already done.
    """
    if not (out / CHECKPOINT).is_file() or not (out / CONFIG).is_file():
        raise ValueError(f"--resume: {out} has no {CHECKPOINT} to continue from")
    given = given_settings(args)
    refused = [flag(name) for name in given if name not in (*RESUMABLE, "data")]
    refused += ["--num-layer"] * (args.num_layer is not None) + ["--out"] * bool(args.out)
    if refused:
        raise ValueError(
            f"--resume continues {out} with its saved settings; it may change only "
            f"--epochs and --patience/--no-patience (and --data: the same images in a new "
            f"place), not {', '.join(refused)}"
        )
    config = data_now(RunConfig.from_json((out / CONFIG).read_text()), out, given.get("data"))
    config = config.replace(**{name: given[name] for name in RESUMABLE if name in given})
    done = checkpoint_epoch(out / CHECKPOINT)
    if config.epochs <= done:
        raise ValueError(
            f"--epochs: {out} has done {done} epochs of {config.epochs} already; "
            f"to continue it give a larger total, e.g. --epochs {done + 5}"
        )
    return config


def print_summary(history: dict, out: Path) -> None:
    """The test accuracy line and the saved files (or, with no finished epoch, that there
    is nothing to report yet)."""
    accuracy = history["test_accuracy"]
    if accuracy is None:
        print(
            f"no epoch finished: no model to test yet; {out}/ keeps the settings and "
            f"checkpoint.npz ({history['wall_time_s']:.1f} s)"
        )
        return
    views = (
        f" with each image and its mirror image averaged "
        f"({history['test_accuracy_single_view']:.2%} from the images alone)"
        if history["test_views"] > 1
        else ""
    )
    print(
        f"test accuracy: {accuracy:.4f} ({accuracy:.2%}){views} "
        f"after {history['epochs_done']} epochs, best epoch {history['best_epoch']}, "
        f"{history['wall_time_s']:.1f} s"
    )
    print(f"saved to {out}/: model.npz, history.json, config.json, curves.png")
