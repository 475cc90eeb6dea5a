"""``barenet download``: fetch and verify a dataset archive."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``download`` to the ``barenet`` command."""
    parser = subparsers.add_parser(
        "download",
        help="fetch and verify a dataset archive",
        description="Download the CIFAR-10 archive (SHA-256 checked) into the cache.",
    )
    parser.add_argument("name", choices=["cifar10"])
    parser.add_argument("--dir", help="folder for the archive (default: the user cache)")
    parser.set_defaults(func=run_download)


def run_download(args: argparse.Namespace) -> int:
    """Download (or find) the archive and say where it is."""
    from barenet.data import CIFAR10

    dataset = CIFAR10(root=args.dir, train=True, download=True)
    print(
        f"CIFAR-10 ready: {dataset.archive} ({len(dataset)} training images, "
        f"classes {', '.join(dataset.classes)})"
    )
    return 0
