"""Data pipeline speed on the real CIFAR-10 JPEG zip (all 60,000 images).

Prints medians of several runs:

- first decode of train + test into the cache (target <= 10 s on 2 cores),
- cached reload of both (target <= 1 s),
- one epoch of DataLoader over the 50,000 training images with
  Rescale + Normalize + Flatten, batch 256, float32 (target <= 0.5 s),
- the naive per-sample path (Pillow opens each JPEG, per-sample transforms,
  list collate), timed on a subset and extrapolated to 50,000 images,
- peak resident memory.

Usage: ``python benchmarks/bench_data.py [--zip PATH] [--runs 3]``. Caches go
to a temporary folder that is deleted at the end.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from gemm_speed import machine_line
from PIL import Image

from barenet.data import (
    ComposeTransform,
    DataLoader,
    FlattenTransform,
    ImageFolderDataset,
    NormalizeTransform,
    RescaleTransform,
    compute_image_mean_and_std,
)

DEFAULT_ZIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-jpg.zip"
BATCH_SIZE = 256


def median_time(action: Callable[[], object], runs: int) -> tuple[float, list[float], float]:
    """Median wall time, all wall times, and the median CPU time (this process + workers).

    The CPU time shows what the step costs when other programs compete for the cores.
    """
    times, cpu_times = [], []
    for _ in range(runs):
        cpu_start, start = _cpu_seconds(), time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
        cpu_times.append(_cpu_seconds() - cpu_start)
    return statistics.median(times), times, statistics.median(cpu_times)


def _cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system + usage.children_user + usage.children_system


def load_both(zip_path: Path, cache_dir: Path, workers: int | None) -> list[ImageFolderDataset]:
    return [
        ImageFolderDataset(
            zip_path / "cifar10" / part,
            split=None,
            cache_dir=cache_dir,
            num_workers=workers,
            progress=False,
        )
        for part in ("train", "test")
    ]


def one_epoch(loader: DataLoader) -> int:
    count = 0
    for batch in loader:
        count += len(batch["label"])
    return count


def naive_epoch(zip_path: Path, files: list[str], labels: np.ndarray, steps: list) -> int:
    """Decode every JPEG per sample, transform it alone, collate lists into a batch."""
    count = 0
    with zipfile.ZipFile(zip_path) as archive:
        for start in range(0, len(files), BATCH_SIZE):
            images, batch_labels = [], []
            for file, label in zip(
                files[start : start + BATCH_SIZE], labels[start : start + BATCH_SIZE], strict=True
            ):
                image = np.asarray(Image.open(io.BytesIO(archive.read(file))).convert("RGB"))
                for step in steps:
                    image = step(image)
                images.append(image)
                batch_labels.append(int(label))
            batch = {"image": np.stack(images), "label": np.array(batch_labels)}
            count += len(batch["label"])
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--naive-images", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    print(machine_line())  # the times below scale with it
    if not args.zip.is_file():
        sys.exit(f"CIFAR-10 zip not found at {args.zip}")

    with tempfile.TemporaryDirectory(prefix="barenet-bench-") as scratch:
        scratch = Path(scratch)
        decode_dirs = iter(scratch / f"decode{run}" for run in range(args.runs))
        decode, decode_runs, decode_cpu = median_time(
            lambda: load_both(args.zip, next(decode_dirs), args.workers), args.runs
        )
        cache = scratch / "decode0"
        reload, reload_runs, _ = median_time(lambda: load_both(args.zip, cache, None), args.runs)
        train, _ = load_both(args.zip, cache, None)
        print(f"cores: {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}")
        print(f"images: {len(train)} train, shape {train.images.shape[1:]}, {train.images.dtype}")
        print(
            f"first decode, train+test 60,000 JPEGs: {decode:6.2f} s wall, "
            f"{decode_cpu:.1f} s CPU (runs {_fmt(decode_runs)})"
        )
        print(f"cached reload, train+test:             {reload:6.3f} s  (runs {_fmt(reload_runs)})")

        mean, std = compute_image_mean_and_std(train.images)
        steps = [RescaleTransform(), NormalizeTransform(mean / 255, std / 255), FlattenTransform()]
        train.transform = ComposeTransform(steps)
        loader = DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, seed=0)
        batch = next(iter(loader))
        assert batch["image"].shape == (BATCH_SIZE, 3072) and batch["image"].dtype == np.float32
        epoch, epoch_runs, epoch_cpu = median_time(lambda: one_epoch(loader), args.epochs)
        print(
            f"DataLoader epoch, 50,000 images, b=256: {epoch:6.3f} s wall, {epoch_cpu:.3f} s CPU "
            f"(runs {_fmt(epoch_runs)})"
        )

        train.transform = lambda x: steps[2](steps[1](steps[0](x)))  # the same steps, unfused
        unfused, _, unfused_cpu = median_time(lambda: one_epoch(loader), args.epochs)
        print(
            f"  same, Rescale and Normalize unfused:   {unfused:6.3f} s wall, {unfused_cpu:.3f} s CPU"
        )

        subset = np.random.default_rng(0).permutation(len(train))[: args.naive_images]
        files = train.files[subset].tolist()
        naive, _, _ = median_time(
            lambda: naive_epoch(args.zip, files, train.labels[subset], steps), 1
        )
        naive_full = naive * len(train) / len(files)
        print(
            f"naive per-sample path: {naive:.2f} s for {len(files)} images, "
            f"extrapolated to {len(train)}: {naive_full:.1f} s per epoch "
            f"({naive_full / epoch:.0f}x the DataLoader epoch)"
        )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak resident memory: {own:.0f} MiB (largest decode worker: {children:.0f} MiB)")


def _fmt(times: list[float]) -> str:
    return ", ".join(f"{value:.3f}" for value in times)


if __name__ == "__main__":
    main()
