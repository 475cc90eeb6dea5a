"""``barenet size``: memory of the caches and gradients of one training pass."""

from __future__ import annotations

import argparse

import numpy as np

from barenet.app.arguments import positive_int
from barenet.app.config import DTYPES, hidden_sizes


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``size`` to the ``barenet`` command."""
    parser = subparsers.add_parser(
        "size",
        help="memory of the caches and gradients of one training pass",
        description="Memory account (compute_network_size) of one forward/backward pass.",
    )
    parser.add_argument(
        "--input-size",
        type=positive_int,
        default=3 * 32 * 32,
        help="values per image (default 3072, a 32x32x3 image)",
    )
    parser.add_argument(
        "--hidden-size",
        type=positive_int,
        nargs="+",
        default=[100],
        metavar="H",
        help="width of each hidden layer (default 100)",
    )
    parser.add_argument(
        "--num-layer",
        type=positive_int,
        help="number of affine layers; with one --hidden-size, repeats it "
        "(default: one more than the hidden sizes)",
    )
    parser.add_argument(
        "--num-classes", type=positive_int, default=10, help="outputs of the net (default 10)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=256, help="images per batch (default 256)"
    )
    parser.add_argument(
        "--dataset-size",
        type=positive_int,
        default=50_000,
        help="extrapolate to one batch holding this many images (default 50,000)",
    )
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="(default float32)")
    parser.set_defaults(func=run_size)


def measure(hidden: list[int], args: argparse.Namespace, batch: int) -> dict[str, int]:
    """Bytes per kind of buffer after one forward/backward pass on ``batch`` zero images."""
    from barenet.losses import CrossEntropyFromLogits
    from barenet.memory import network_size_breakdown
    from barenet.networks import ClassificationNet

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


def run_size(args: argparse.Namespace) -> int:
    """Print the memory of one batch, by buffer, and its extrapolation to the dataset."""
    from barenet.memory import human_readable_size

    hidden = args.hidden_size
    if args.num_layer is not None:
        hidden = hidden_sizes(args.num_layer, hidden)
    breakdown = measure(hidden, args, args.batch_size)
    total = sum(breakdown.values())
    one = sum(measure(hidden, args, 1).values())
    # Caches grow linearly with the batch, gradients do not: two sizes fix the line.
    per_sample = (total - one) / max(args.batch_size - 1, 1)
    whole = one + per_sample * (args.dataset_size - 1)
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
