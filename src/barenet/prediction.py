"""Predictions of a model over a whole dataset, optionally averaged over several views.

One path serves every caller: the Solver's validation pass, ``evaluate`` and the
test accuracy of a run. A *view* is a loader of the same images in the same order,
transformed its own way (as they are, mirrored, ...); with several views the
softmax probabilities of each image are averaged before taking the argmax.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from barenet.losses import log_softmax


@dataclass
class Predictions:
    """Labels and predicted classes of every sample.

    Attributes
    ----------
    labels : ndarray of int, shape (N,)
    predictions : ndarray of int, shape (N,)
        From the softmax averaged over all views.
    first_view_predictions : ndarray of int, shape (N,)
        From the first view alone (equal to ``predictions`` with one view).
    """

    labels: np.ndarray
    predictions: np.ndarray
    first_view_predictions: np.ndarray

    @property
    def accuracy(self) -> float:
        """Share of correct predictions (``nan`` when there are no samples)."""
        return _share_equal(self.labels, self.predictions)

    @property
    def first_view_accuracy(self) -> float:
        return _share_equal(self.labels, self.first_view_predictions)


def _share_equal(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b)) if len(a) else float("nan")


def batch_outputs(
    model, views: Sequence[Iterable[dict]]
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Run ``model`` in evaluation mode over each batch of every view.

    Parameters
    ----------
    model : Network
        Has ``forward``; ``train``/``eval`` are used when present, and the mode
        the model was in is restored afterwards.
    views : sequence of iterables of dict
        One or more loaders of batches ``{'image': (B, ...), 'label': (B,)}``,
        yielding the same samples in the same order.

    Yields
    ------
    labels : ndarray, shape (B,)
    scores : ndarray, shape (B, C)
        With one view, the model's logits as they are; with several, the log of
        the softmax averaged over the views (so the argmax, and a cross-entropy
        taken from them, refer to the averaged probabilities).
    first_view_logits : ndarray, shape (B, C)
    """
    if not views:
        raise ValueError("views must hold at least one loader")
    was_training = getattr(model, "training", True)
    if hasattr(model, "eval"):
        model.eval()
    try:
        for batches in zip(*views, strict=True):
            logits = [model.forward(batch["image"]) for batch in batches]
            labels = np.asarray(batches[0]["label"])
            if len(logits) == 1:
                yield labels, logits[0], logits[0]
                continue
            yield labels, log_mean_softmax(logits), logits[0]
    finally:
        if hasattr(model, "train"):
            model.train(was_training)


def log_mean_softmax(logits: Sequence[np.ndarray]) -> np.ndarray:
    """``log(mean over views of softmax(logits))``, (B, C), without underflow.

    Computed as a log-sum-exp over the views' log-softmaxes, so a probability too
    small for floating point gives a very negative score, never ``log(0) = -inf``.
    """
    stacked = np.stack([log_softmax(v) for v in logits])  # (V, B, C)
    top = stacked.max(axis=0)
    return top + np.log(np.exp(stacked - top).mean(axis=0))


def predict_dataset(model, views: Sequence[Iterable[dict]]) -> Predictions:
    """Predicted class of every sample, averaged over the views when there are several.

    Parameters
    ----------
    model : Network
    views : sequence of DataLoader
        See :func:`batch_outputs`; ``[loader]`` gives the plain predictions.

    Returns
    -------
    Predictions
    """
    labels, averaged, first = [], [], []
    for batch_labels, scores, first_logits in batch_outputs(model, views):
        labels.append(batch_labels)
        averaged.append(scores.argmax(axis=1))
        first.append(first_logits.argmax(axis=1))
    if not labels:
        empty = np.zeros(0, np.int64)
        return Predictions(empty, empty, empty)
    return Predictions(np.concatenate(labels), np.concatenate(averaged), np.concatenate(first))
