"""Inverted dropout as a layer object."""

from __future__ import annotations

import numpy as np


class Dropout:
    """Inverted dropout: in training, zero each input with probability ``p`` and scale
    the survivors by ``1 / (1 - p)``, so that evaluation needs no rescaling.

    Parameters
    ----------
    p : float
        Probability of dropping a unit, in ``[0, 1)``.
    seed : int or numpy.random.Generator, optional
        Source of the masks; the same seed gives the same masks.

    Attributes
    ----------
    training : bool
        Masks are drawn only while True; in evaluation mode the layer is the identity.
    """

    def __init__(self, p: float = 0.5, seed: int | np.random.Generator | None = None):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = np.random.default_rng(seed)
        self.training = True

    def train(self, mode: bool = True) -> Dropout:
        """Switch to training mode (``mode=True``) or evaluation mode."""
        self.training = bool(mode)
        return self

    def eval(self) -> Dropout:
        """Switch to evaluation mode: the identity."""
        return self.train(False)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Drop and rescale in training, pass through in evaluation.

        Parameters
        ----------
        x : ndarray, any shape

        Returns
        -------
        out : ndarray, shape and dtype of ``x``
        cache : ndarray of bool or None
            Which units were kept (a quarter of the memory of a float mask), or
            None when nothing was dropped.
        """
        if not self.training or self.p == 0.0:
            return x, None
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        out = x * keep
        out *= x.dtype.type(1.0 / (1.0 - self.p))
        return out, keep

    def backward(self, dout: np.ndarray, cache: np.ndarray | None) -> np.ndarray:
        """Gradient wrt the input: ``dout / (1 - p)`` where kept, 0 where dropped.

        Parameters
        ----------
        dout : ndarray, shape of the forward output
        cache : ndarray of bool or None, the kept units from the forward pass

        Returns
        -------
        dx : ndarray, shape of ``dout``
        """
        if cache is None:
            return dout
        dx = dout * cache
        dx *= dout.dtype.type(1.0 / (1.0 - self.p))
        return dx

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
