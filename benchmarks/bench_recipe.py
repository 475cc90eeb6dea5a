"""Accuracy and wall time of the default recipes, on real data.

* CIFAR-10 (the image-folder zip: 50,000 training images, of which 10% are held out
  for validation, and the 10,000 test images): target >= 60% test accuracy from the
  images alone (single view) in <= 3 min. The recipe trains with flips, so its test
  accuracy averages the softmax of each test image and its mirror image; the
  single-view accuracy is printed beside it.
* The offline digits default: target >= 95% test accuracy in <= 10 s.

The wall time counts training, validation and the final test pass; the one-time
decoding of the JPEGs into the cache is timed separately. Usage::

    python benchmarks/bench_recipe.py [--zip ../shared/data/cifar10-jpg.zip] [--out benchmarks/out]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from gemm_speed import machine_line

from barenet.app.cli import main as barenet_main


def run(args: list[str], out: Path) -> dict:
    import json

    shutil.rmtree(out, ignore_errors=True)  # scratch space: each benchmark starts fresh
    start = time.perf_counter()
    status = barenet_main(["train", *args, "--out", str(out)])
    if status != 0:
        raise SystemExit(f"barenet train {' '.join(args)} failed with status {status}")
    history = json.loads((out / "history.json").read_text())
    history["command_time_s"] = time.perf_counter() - start
    return history


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument(
        "--zip", type=Path, default=root.parent / "shared" / "data" / "cifar10-jpg.zip"
    )
    parser.add_argument("--out", type=Path, default=root / "benchmarks" / "out")
    args = parser.parse_args(argv)
    print(machine_line())  # the times below scale with it
    args.out.mkdir(parents=True, exist_ok=True)

    digits = run([], args.out / "digits")
    from barenet.data import ImageFolderDataset  # decode the zip once, timed on its own

    start = time.perf_counter()
    ImageFolderDataset(f"{args.zip}/cifar10/train", split=None, mode="all", progress=False)
    ImageFolderDataset(f"{args.zip}/cifar10/test", split=None, mode="all", progress=False)
    decode = time.perf_counter() - start
    cifar = run(["--data", str(args.zip)], args.out / "cifar10")
    shutil.copy(args.out / "cifar10" / "curves.png", root / "docs" / "cifar10_curves.png")

    print()
    print(
        f"{'recipe':<10}{'test acc':>10}{'single view':>13}{'train+eval s':>14}{'epochs':>8}{'best':>6}"
    )
    for name, h in (("digits", digits), ("cifar10", cifar)):
        print(
            f"{name:<10}{h['test_accuracy']:>10.2%}{h['test_accuracy_single_view']:>13.2%}"
            f"{h['wall_time_s']:>14.1f}{h['epochs_done']:>8}{h['best_epoch']:>6}"
        )
    print(
        f"CIFAR-10 decode into the cache (first load, or cached reload if present): {decode:.1f} s"
    )


if __name__ == "__main__":
    main()
