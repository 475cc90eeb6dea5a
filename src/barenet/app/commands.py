"""What each ``barenet`` subcommand does, given its parsed arguments.

Each ``cmd_*`` returns the exit status; a ``ValueError`` means a bad argument (the
command line turns it into one line and status 2).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from barenet.app.recipes import RECIPES, cifar10_is_available


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
    from barenet.app.runs import train_run

    if args.resume:
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
    views = (
        f" with each image and its mirror image averaged "
        f"({history['test_accuracy_single_view']:.2%} from the images alone)"
        if history["test_views"] > 1
        else ""
    )
    print(
        f"test accuracy: {history['test_accuracy']:.4f} ({history['test_accuracy']:.2%}){views} "
        f"after {history['epochs_done']} epochs, best epoch {history['best_epoch']}, "
        f"{history['wall_time_s']:.1f} s"
    )
    print(f"saved to {out}/: model.npz, history.json, config.json, curves.png")
    return 0


def cmd_evaluate(args) -> int:
    from barenet.app.recipes import build_data
    from barenet.app.runs import confusion_matrix, format_confusion, load_run, predict_views

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
    labels, preds, acc = predict_views(model, data.test_views)
    views = (
        " (softmax averaged over each image and its mirror image)"
        if len(data.test_views) > 1
        else ""
    )
    print(f"test accuracy: {acc:.4f} ({acc:.2%}) on {len(labels)} images{views}")
    print(format_confusion(confusion_matrix(labels, preds, len(data.classes)), data.classes))
    return 0


def cmd_compare(args) -> int:
    from barenet.app.compare import compare_optimizers, format_comparison

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
