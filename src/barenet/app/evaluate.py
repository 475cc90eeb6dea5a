"""``barenet evaluate``: test accuracy and confusion table of a saved run."""

from __future__ import annotations

import argparse
from pathlib import Path

from barenet.app.config import DATASETS
from barenet.app.confusion import confusion_matrix, format_confusion
from barenet.app.run import data_now, load_run, load_whitening
from barenet.app.run_data import build_data
from barenet.prediction import predict_dataset


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``evaluate`` to the ``barenet`` command."""
    parser = subparsers.add_parser(
        "evaluate",
        help="accuracy and confusion table of a saved run",
        description="Reload RUN_DIR's model; print test accuracy and per-class table.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument(
        "--data", metavar="PATH", help="evaluate on this image folder / zip instead"
    )
    parser.add_argument("--dataset", choices=DATASETS)
    parser.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    """Print the test accuracy (mirror-averaged when the run trained with flips) and table."""
    config, model = load_run(Path(args.run_dir))
    if args.dataset and not args.data:
        config = config.replace(data=None, dataset=args.dataset)
    else:
        config = data_now(config, Path(args.run_dir), args.data)
    whitening = load_whitening(Path(args.run_dir), config)
    data = build_data(config, stats=(config.norm_mean, config.norm_std), whitening=whitening)
    if data.input_size != model.input_size:
        raise ValueError(
            f"--data: images have {data.input_size} values, the model expects {model.input_size}"
        )
    result = predict_dataset(model, data.test_views)
    views = (
        " (softmax averaged over each image and its mirror image)"
        if len(data.test_views) > 1
        else ""
    )
    accuracy = result.accuracy
    print(f"test accuracy: {accuracy:.4f} ({accuracy:.2%}) on {len(result.labels)} images{views}")
    matrix = confusion_matrix(result.labels, result.predictions, len(data.classes))
    print(format_confusion(matrix, data.classes))
    return 0
