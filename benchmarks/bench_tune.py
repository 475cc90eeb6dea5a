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

from gemm_speed import machine_line
from optuna.trial import TrialState

from barenet.app.config import RunConfig
from barenet.app.run_data import build_data
from barenet.app.tune.config import TrialSettings
from barenet.app.tune.study import StudySettings, run_study
from barenet.search_space import space_from_flags

SPACE = [
    "learning_rate=log:1e-4:1e-2",
    "hidden_size=logint:64:1024",
    "reg=log:1e-6:1e-2",
    "dropout=float:0:0.5",
    "lr_decay=float:0.8:1.0",
]
#: The two searches compared: (name, sampler, pruner).
SEARCHES = [("random", "random", "none"), ("tpe", "tpe", "median")]


def load_trials(args) -> TrialSettings:
    """The fixed settings and data of every trial: a seeded subset of ``args.images``
    training images, a one-hidden-layer net (its width tuned), no early stopping."""
    config = RunConfig.recipe(
        "cifar10",
        data=str(args.zip),
        val_fraction=0.1,
        seed=args.seed,
        limit=args.images,
        batch_size=args.batch_size,
        epochs=args.epochs,
        patience=None,
        hidden_size=[100],
        flip=False,
        crop=0,
        zca=0.0,  # as measured for the README: per-channel standardisation
    )
    return TrialSettings(config, build_data(config))


def search(name, sampler, pruner, trials: TrialSettings, args) -> dict:
    out = args.out / name
    shutil.rmtree(out, ignore_errors=True)  # each benchmark run starts a fresh study
    start = time.perf_counter()
    settings = StudySettings(
        sampler=sampler, pruner=pruner, trials=args.trials, workers=args.workers
    )
    study = run_study(out, space_from_flags(SPACE), trials, settings, progress=False)
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
    print(machine_line())  # the times below scale with it

    trials = load_trials(args)
    train, val = trials.data.train, trials.data.val
    rows = [search(*s, trials, args) for s in SEARCHES]

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
