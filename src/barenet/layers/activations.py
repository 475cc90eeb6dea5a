"""Elementwise activations: Sigmoid, Tanh, ReLU and leaky ReLU, as forward/backward pairs."""

from __future__ import annotations

import numpy as np


class Sigmoid:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    The naive formula overflows in ``exp(-x)`` for ``x << 0`` (``exp(1000)`` is inf
    and NumPy warns). Using ``e = exp(-|x|)``, which is always in ``(0, 1]``, the
    sigmoid is ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for ``x < 0``.
    """

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply the sigmoid elementwise.

        Parameters
        ----------
        x : ndarray, any shape

        Returns
        -------
        out : ndarray, shape and dtype of ``x``
        cache : ndarray
            ``out`` itself: the derivative is ``out * (1 - out)``.
        """
        # >>> exercise: sigmoid_forward
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1, e) / (1 + e)
        if np.issubdtype(np.asarray(x).dtype, np.floating):
            out = out.astype(x.dtype, copy=False)  # e.g. float16 stays float16
        return out, out
        # <<< exercise

    def backward(self, dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
        """Gradient wrt the input: ``dout * out * (1 - out)``.

        Parameters
        ----------
        dout : ndarray, shape of the forward output
        cache : ndarray, the forward output

        Returns
        -------
        dx : ndarray, shape of ``dout``
        """
        # >>> exercise: sigmoid_backward
        out = cache
        return dout * out * (1 - out)
        # <<< exercise

    def __repr__(self) -> str:
        return "Sigmoid()"


class Tanh:
    """Hyperbolic tangent; ``np.tanh`` saturates at +-1 without overflow."""

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply tanh elementwise.

        Parameters
        ----------
        x : ndarray, any shape

        Returns
        -------
        out : ndarray, shape and dtype of ``x``
        cache : ndarray
            ``out``: the derivative is ``1 - out**2``.
        """
        out = np.tanh(x)
        return out, out

    def backward(self, dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
        """Gradient wrt the input: ``dout * (1 - out**2)``.

        Parameters
        ----------
        dout : ndarray, shape of the forward output
        cache : ndarray, the forward output

        Returns
        -------
        dx : ndarray, shape of ``dout``
        """
        out = cache
        return dout * (1 - out * out)

    def __repr__(self) -> str:
        return "Tanh()"


class Relu:
    """Rectified linear unit ``max(0, x)``; its gradient at exactly 0 is taken as 0."""

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply ``max(0, x)`` elementwise.

        Parameters
        ----------
        x : ndarray, any shape

        Returns
        -------
        out : ndarray, shape and dtype of ``x``
        cache : ndarray
            ``out``: ``out > 0`` exactly where ``x > 0``, so the output is enough for
            the backward pass and no second array is kept.
        """
        # >>> exercise: relu_forward
        out = np.maximum(x, 0)
        return out, out
        # <<< exercise

    def backward(self, dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
        """Pass ``dout`` where the input was positive, 0 elsewhere (also at 0).

        Parameters
        ----------
        dout : ndarray, shape of the forward output
        cache : ndarray, the forward output

        Returns
        -------
        dx : ndarray, shape of ``dout``
        """
        # >>> exercise: relu_backward
        out = cache
        # Multiplying by the boolean mask is ~10x faster than np.where with a scalar.
        return dout * (out > 0)
        # <<< exercise

    def __repr__(self) -> str:
        return "Relu()"


class LeakyRelu:
    """Leaky ReLU: ``x`` for ``x > 0``, ``slope * x`` otherwise.

    Parameters
    ----------
    slope : float
        Slope for non-positive inputs, usually small (default 0.01).
    """

    def __init__(self, slope: float = 0.01):
        self.slope = float(slope)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply the leaky ReLU elementwise.

        Parameters
        ----------
        x : ndarray, any shape

        Returns
        -------
        out : ndarray, shape and dtype of ``x``
        cache : ndarray
            ``x``: with a negative slope the output's sign no longer tells the
            input's, so the input is kept.
        """
        out = np.where(x > 0, x, self.slope * x).astype(x.dtype, copy=False)
        return out, x

    def backward(self, dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
        """Gradient wrt the input: ``dout`` where ``x > 0``, ``slope * dout`` elsewhere.

        Parameters
        ----------
        dout : ndarray, shape of the forward output
        cache : ndarray, the forward input

        Returns
        -------
        dx : ndarray, shape of ``dout``
        """
        x = cache
        return np.where(x > 0, dout, self.slope * dout).astype(dout.dtype, copy=False)

    def __repr__(self) -> str:
        return f"LeakyRelu(slope={self.slope})"


#: Every activation layer by the name a network, a run's ``config.json`` and
#: ``barenet train --activation`` call it (``'leaky_relu:0.2'`` sets another slope).
ACTIVATIONS = {"relu": Relu, "leaky_relu": LeakyRelu, "sigmoid": Sigmoid, "tanh": Tanh}
