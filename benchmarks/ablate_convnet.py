"""What each part of the ConvNet recipe gives: the recipe, and the recipe with one
choice changed, each over several seeds, on the same data.

Each run is ``barenet train --model convnet`` with the recipe's settings (through the
same factories) and the changes of its row; the table gives the test accuracy (mirror
averaged) per seed, the mean, and the mean difference to the recipe. ``--limit``,
``--epochs`` and ``--widths`` shrink every run alike, for a busy machine. Usage::

    python benchmarks/ablate_convnet.py [--zip ../shared/data/cifar10-jpg.zip]
        [--seeds 0 1] [--limit 5000] [--epochs 5] [--widths 16 32 64] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from barenet.app.config import RunConfig
from barenet.app.factories import make_model, make_solver
from barenet.app.run_data import build_data
from barenet.prediction import predict_dataset

#: Row name -> the settings it changes in the recipe.
ABLATIONS: dict[str, dict] = {
    "recipe": {},
    "no label smoothing": {"label_smoothing": 0.0},
    "no 2-px shifts": {"crop": 0},
    "constant lr (no warm-up, no decay)": {"lr_schedule": "none", "warmup_epochs": 0.0},
    "momentum, not Nesterov": {"optimizer": "sgd_momentum"},
    "+ weight average 0.99": {"weight_average": 0.99},
    "lr 0.05": {"learning_rate": 0.05},
    "lr 0.2": {"learning_rate": 0.2},
}


def test_accuracy(config: RunConfig) -> tuple[float, float]:
    """(test accuracy, training seconds) of one run of ``config``."""
    data = build_data(config)
    start = time.perf_counter()
    model = make_model(config, data.input_size, len(data.classes), data)
    solver = make_solver(config, model, data, verbose=False)
    solver.train(epochs=config.epochs, patience=config.patience)
    return predict_dataset(model, data.test_views).accuracy, time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument(
        "--zip", type=Path, default=root.parent / "shared" / "data" / "cifar10-jpg.zip"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--widths", type=int, nargs="+")
    parser.add_argument("--val-fraction", type=float, default=0.02)
    parser.add_argument("--only", nargs="+", choices=list(ABLATIONS), default=list(ABLATIONS))
    args = parser.parse_args(argv)
    shrink = {k: getattr(args, k) for k in ("limit", "epochs", "widths") if getattr(args, k)}
    base = {"data": str(args.zip), "val_fraction": args.val_fraction, **shrink}
    rows = {}
    for name in args.only:
        results = []
        for seed in args.seeds:
            config = RunConfig.recipe(
                "cifar10", model="convnet", seed=seed, **base, **ABLATIONS[name]
            )
            results.append(test_accuracy(config))
            print(f"{name} seed {seed}: {results[-1][0]:.2%} in {results[-1][1]:.0f} s", flush=True)
        rows[name] = [accuracy for accuracy, _ in results]
    print(f"\n{shrink}, seeds {args.seeds}, validation share {args.val_fraction}")
    reference = statistics.mean(rows["recipe"]) if "recipe" in rows else None
    print(f"| change | {' | '.join(f'seed {s}' for s in args.seeds)} | mean | vs recipe |")
    print("| --- " * (len(args.seeds) + 3) + "|")
    for name, accuracies in rows.items():
        mean = statistics.mean(accuracies)
        delta = f"{(mean - reference) * 100:+.2f}" if reference is not None else ""
        cells = " | ".join(f"{a:.2%}" for a in accuracies)
        print(f"| {name} | {cells} | {mean:.2%} | {delta} |")


if __name__ == "__main__":
    main()
