"""Losses with the call form ``loss, grad = loss_func(y_out, y_truth)``.

The loss owns the batch average: with ``reduction='mean'`` the returned gradient
already carries the ``1 / N`` factor, so no layer below may average again.
"""

from __future__ import annotations

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


class Loss:
    """Base class: ``forward`` gives the loss, ``backward`` its gradient wrt ``y_out``.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}
        How per-element losses are combined. ``'none'`` returns them unreduced and the
        gradient of their sum.
    """

    def __init__(self, reduction: str = "mean"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def forward(self, y_out: np.ndarray, y_truth: np.ndarray) -> np.ndarray | float:
        raise NotImplementedError

    def backward(self, y_out: np.ndarray, y_truth: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(
        self, y_out: np.ndarray, y_truth: np.ndarray
    ) -> tuple[np.ndarray | float, np.ndarray]:
        """Return ``(loss, gradient wrt y_out)``."""
        return self.forward(y_out, y_truth), self.backward(y_out, y_truth)

    def _reduce(self, values: np.ndarray) -> np.ndarray | float:
        if self.reduction == "mean":
            return float(values.mean())
        if self.reduction == "sum":
            return float(values.sum())
        return values

    def _scale(self, grad: np.ndarray) -> np.ndarray:
        """Apply the reduction to an elementwise gradient (mean divides by its size)."""
        return grad / grad.size if self.reduction == "mean" else grad

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"


def _check_same_shape(y_out: np.ndarray, y_truth: np.ndarray, name: str) -> None:
    if np.shape(y_out) != np.shape(y_truth):
        raise ValueError(
            f"{name}: y_out and y_truth must have the same shape; "
            f"got {np.shape(y_out)} and {np.shape(y_truth)}"
        )


class L1(Loss):
    """Mean absolute error ``|y_out - y_truth|``; the mean runs over all elements."""

    def forward(self, y_out: np.ndarray, y_truth: np.ndarray) -> np.ndarray | float:
        """Loss of ``y_out`` and ``y_truth``, both of any one shape."""
        _check_same_shape(y_out, y_truth, "L1")
        return self._reduce(np.abs(y_out - y_truth))

    def backward(self, y_out: np.ndarray, y_truth: np.ndarray) -> np.ndarray:
        """``sign(y_out - y_truth)``, scaled by the reduction; shape of ``y_out``."""
        _check_same_shape(y_out, y_truth, "L1")
        return self._scale(np.sign(y_out - y_truth))


class MSE(Loss):
    """Mean squared error ``(y_out - y_truth)**2``; the mean runs over all elements."""

    def forward(self, y_out: np.ndarray, y_truth: np.ndarray) -> np.ndarray | float:
        """Loss of ``y_out`` and ``y_truth``, both of any one shape."""
        _check_same_shape(y_out, y_truth, "MSE")
        return self._reduce((y_out - y_truth) ** 2)

    def backward(self, y_out: np.ndarray, y_truth: np.ndarray) -> np.ndarray:
        """``2 * (y_out - y_truth)``, scaled by the reduction; shape of ``y_out``."""
        _check_same_shape(y_out, y_truth, "MSE")
        return self._scale(2 * (y_out - y_truth))


class BCE(Loss):
    """Binary cross-entropy of probabilities ``y_out`` in [0, 1] and targets ``y_truth``.

    ``-(t * log(y) + (1 - t) * log(1 - y))``. Each log is clamped at -100 (as PyTorch
    does) so that a probability of exactly 0 or 1 gives a large finite loss, and the
    gradient's denominator is kept away from 0 by ``eps``.
    """

    eps = 1e-12

    def forward(self, y_out: np.ndarray, y_truth: np.ndarray) -> np.ndarray | float:
        """Loss of probabilities ``y_out`` and targets ``y_truth``, both of one shape."""
        _check_same_shape(y_out, y_truth, "BCE")
        with np.errstate(divide="ignore"):
            log_y = np.maximum(np.log(y_out), -100)
            log_1my = np.maximum(np.log1p(-y_out), -100)
        return self._reduce(-(y_truth * log_y + (1 - y_truth) * log_1my))

    def backward(self, y_out: np.ndarray, y_truth: np.ndarray) -> np.ndarray:
        """``(y - t) / (y * (1 - y))``, scaled by the reduction; shape of ``y_out``."""
        _check_same_shape(y_out, y_truth, "BCE")
        denom = np.maximum(y_out * (1 - y_out), self.eps)
        return self._scale((y_out - y_truth) / denom)


def _check_logits_and_labels(logits: np.ndarray, labels: np.ndarray) -> None:
    """Raise ``ValueError`` saying what was expected of ``logits`` and ``labels``."""
    if np.ndim(logits) != 2:
        raise ValueError(
            f"CrossEntropyFromLogits: logits must have shape (N, C); got shape {np.shape(logits)}"
        )
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != logits.shape[0]:
        raise ValueError(
            f"CrossEntropyFromLogits: labels must have shape (N,) = ({logits.shape[0]},) to "
            f"match logits of shape {logits.shape}; got labels of shape {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"CrossEntropyFromLogits: labels must be integer class indices; got dtype {labels.dtype}"
        )
    num_classes = logits.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise ValueError(
            f"CrossEntropyFromLogits: labels must be in [0, {num_classes}) for "
            f"{num_classes} classes; got label {bad}"
        )


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise ``log(softmax(logits))`` with the row maximum subtracted first.

    After the shift the largest logit of each row is 0, so ``exp`` never overflows
    and the sum inside the log is at least 1: huge logits stay finite.

    Parameters
    ----------
    logits : ndarray, shape (N, C)

    Returns
    -------
    ndarray, shape (N, C), dtype of ``logits``
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class CrossEntropyFromLogits(Loss):
    """Softmax cross-entropy of raw scores and integer labels.

    ``loss_i = -log(softmax(logits_i)[y_i])``; with ``reduction='mean'`` the loss is
    the mean over the batch and the gradient is ``(softmax(logits) - onehot) / N``.

    With label smoothing ``s``, the target is ``q = (1 - s) * onehot + s / C`` instead
    of the one-hot row: ``loss_i = -sum_c q_c * log(softmax(logits_i)_c)``, that is
    ``(1 - s) * (-log p_{y_i}) + s * mean_c(-log p_c)``, and the gradient is
    ``(softmax(logits) - q) / N``. The same as PyTorch's
    ``cross_entropy(logits, labels, label_smoothing=s)``.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}
    smoothing : float
        ``s`` in ``[0, 1]``; 0 (the default) is the plain cross-entropy.
    """

    def __init__(self, reduction: str = "mean", smoothing: float = 0.0):
        super().__init__(reduction)
        smoothing = float(smoothing)
        if not 0.0 <= smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyFromLogits: smoothing must be in [0, 1], got {smoothing!r}"
            )
        self.smoothing = smoothing

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray | float:
        """Cross-entropy of ``logits`` (N, C) and integer ``labels`` (N,)."""
        _check_logits_and_labels(logits, labels)
        return self._loss(logits, labels, log_softmax(logits))

    def backward(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Gradient wrt ``logits``, shape (N, C), dtype of ``logits``."""
        _check_logits_and_labels(logits, labels)
        return self._grad(logits, labels, log_softmax(logits))

    def __call__(
        self, logits: np.ndarray, labels: np.ndarray
    ) -> tuple[np.ndarray | float, np.ndarray]:
        """``(loss, gradient)`` from one log-softmax instead of two."""
        _check_logits_and_labels(logits, labels)
        log_probs = log_softmax(logits)
        return self._loss(logits, labels, log_probs), self._grad(logits, labels, log_probs)

    def _loss(self, logits, labels, log_probs):
        losses = -log_probs[np.arange(len(labels)), labels]
        if self.smoothing:
            s = self.smoothing
            losses = (1 - s) * losses - s * log_probs.mean(axis=1)
        return self._reduce(losses)

    def _grad(self, logits, labels, log_probs):
        grad = np.exp(log_probs)
        s = self.smoothing
        if s:
            grad -= s / logits.shape[1]
        grad[np.arange(len(labels)), labels] -= 1 - s
        if self.reduction == "mean":
            grad /= max(len(labels), 1)
        return grad

    def __repr__(self) -> str:
        smoothing = f", smoothing={self.smoothing}" if self.smoothing else ""
        return f"{type(self).__name__}(reduction={self.reduction!r}{smoothing})"
