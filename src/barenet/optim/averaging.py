"""An exponential moving average of the weights, to evaluate with.

The weights at the end of each update jitter around a good point; their running
average sits closer to it. :class:`Solver` keeps one when given
``weight_average=decay`` and validates (and keeps as best) the averaged weights.
"""

from __future__ import annotations

import numpy as np


class WeightAverage:
    """``average = decay * average + (1 - decay) * params`` after every update.

    The first :meth:`update` copies the parameters (no bias towards the initial
    weights), as PyTorch's ``AveragedModel`` with ``get_ema_multi_avg_fn(decay)`` does.

    Parameters
    ----------
    decay : float
        In ``[0, 1)``; about ``1 / (1 - decay)`` updates are averaged.

    Attributes
    ----------
    average : dict of str to ndarray
        The averaged parameters, the keys and shapes of the model's ``params`` (empty
        before the first update).
    """

    def __init__(self, decay: float = 0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"WeightAverage: decay must be in [0, 1), got {decay!r}")
        self.decay = float(decay)
        self.average: dict[str, np.ndarray] = {}

    def update(self, params: dict[str, np.ndarray]) -> None:
        """Move the average towards ``params`` (arrays of the model's dtype), in place."""
        if not self.average:
            self.average = {name: w.copy() for name, w in params.items()}
            return
        for name, w in params.items():
            average = self.average[name]
            # average -= (1 - decay) * (average - w): one temporary, in the weights' dtype.
            delta = np.subtract(average, w)
            delta *= 1.0 - self.decay
            average -= delta

    def __repr__(self) -> str:
        return f"WeightAverage(decay={self.decay})"
