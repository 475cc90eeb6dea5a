"""Random search against TPE with median pruning, on the same trial budget, on CIFAR-10.

Both studies tune the same space (learning rate, hidden width, L2, dropout, lr decay)
of a one-hidden-layer net, each trial training on a few thousand CIFAR-10 images (a
seeded random subset of the training split) and validating on 5,000 held-out ones. The
table gives, side by side, the best validation accuracy and loss each search found, the
trials the pruner stopped, and the wall time. Usage::

    python benchmarks/bench_tune.py [--zip ../shared/data/cifar10-jpg.zip] [--trials 40]
        [--epochs 10] [--images 4000] [--workers 1] [--out benchmarks/out/tune]

The studies are kept in ``--out`` (``random/`` and ``tpe/``, each with ``trials.csv``,
``study.png`` and the leaderboard); a rerun starts them afresh.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from optuna.trial import TrialState

from barenet.app.config import RunConfig
from barenet.app.run_data import build_data
from barenet.app.tune_space import space_from_flags
from barenet.app.tune_study import run_study

SPACE = [
    "learning_rate=log:1e-4:1e-2",
    "hidden_size=logint:64:1024",
    "reg=log:1e-6:1e-2",
    "dropout=float:0:0.5",
    "lr_decay=float:0.8:1.0",
]
#: The two searches compared: (name, sampler, pruner).
SEARCHES = [("random", "random", "none"), ("tpe", "tpe", "median")]


def load_loaders(zip_path: Path, images: int, batch_size: int):
    """(train, val, input size) for a seeded subset of ``images`` training images."""
    config = RunConfig.recipe(
        "cifar10",
        data=str(zip_path),
        val_fraction=0.1,
        seed=0,
        limit=images,
        batch_size=batch_size,
        flip=False,
        crop=0,
        zca=0.0,  # as measured for the README: per-channel standardisation
    )
    data = build_data(config)
    return data.train, data.val, data.input_size


def search(name, sampler, pruner, loaders, base, args) -> dict:
    out = args.out / name
    shutil.rmtree(out, ignore_errors=True)  # each benchmark run starts a fresh study
    start = time.perf_counter()
    study = run_study(
        out, space_from_flags(SPACE), base, loaders, trials=args.trials, epochs=args.epochs,
        sampler=sampler, pruner=pruner, seed=args.seed, workers=args.workers, progress=False,
    )  # fmt: skip
    wall = time.perf_counter() - start
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    return {
        "search": f"{sampler}+{pruner}" if pruner != "none" else sampler,
        "best_acc": max((t.user_attrs.get("val_acc", 0.0) for t in complete), default=float("nan")),
        "best_loss": min((t.value for t in complete), default=float("nan")),
        "pruned": sum(t.state == TrialState.PRUNED for t in study.trials),
        "epochs": sum(len(t.intermediate_values) for t in study.trials),
        "wall": wall,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument(
        "--zip", type=Path, default=root.parent / "shared" / "data" / "cifar10-jpg.zip"
    )
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--images", type=int, default=4000, help="training images per trial")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=root / "benchmarks" / "out" / "tune")
    args = parser.parse_args(argv)

    train, val, input_size = load_loaders(args.zip, args.images, args.batch_size)
    base = {"input_size": input_size, "num_classes": 10, "std": "he", "seed": args.seed}
    rows = [search(*s, (train, val), base, args) for s in SEARCHES]

    print(
        f"\n{args.trials} trials of up to {args.epochs} epochs on {len(train.dataset)} CIFAR-10 "
        f"images, validated on {len(val.dataset)}; {args.workers} worker(s)"
    )
    print(
        f"{'search':<14}{'best val acc':>13}{'best val loss':>15}{'pruned':>8}{'epochs':>8}{'wall s':>9}"
    )
    for r in rows:
        print(
            f"{r['search']:<14}{r['best_acc']:>13.4f}{r['best_loss']:>15.4f}"
            f"{r['pruned']:>8d}{r['epochs']:>8d}{r['wall']:>9.1f}"
        )


if __name__ == "__main__":
    main()
