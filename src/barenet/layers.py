"""Layers as forward/backward pairs.

Every layer follows one contract:

* ``forward(x) -> (out, cache)``: ``out`` has the dtype of ``x``; ``cache`` holds what
  the backward pass needs and nothing else.
* ``backward(dout, cache) -> dx``: the exact derivative of *this* forward for the
  upstream gradient ``dout``. It never averages over the batch (the loss owns the
  batch average), never writes into ``dout``, ``x`` or the cache, and returns the
  same result when called twice.

``affine_backward`` returns ``(dx, dw, db)`` instead of ``dx`` alone.
"""

from __future__ import annotations

import numpy as np

Cache = tuple


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


def _check_affine_shapes(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> None:
    """Raise ``ValueError`` naming the argument whose shape does not fit."""
    if np.ndim(x) < 1:
        raise ValueError(
            f"affine_forward: x must have a batch axis, shape (N, d1, ...); got {np.shape(x)}"
        )
    if np.ndim(w) != 2:
        raise ValueError(f"affine_forward: w must be 2-D, shape (D, M); got shape {np.shape(w)}")
    d = int(np.prod(np.shape(x)[1:], dtype=np.int64))
    if w.shape[0] != d:
        raise ValueError(
            f"affine_forward: w must have shape (D, M) with D = {d} (the product of x's "
            f"non-batch dimensions {np.shape(x)[1:]}); got w of shape {w.shape}"
        )
    if np.shape(b) != (w.shape[1],):
        raise ValueError(
            f"affine_forward: b must have shape (M,) = ({w.shape[1]},) to match w; "
            f"got b of shape {np.shape(b)}"
        )


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Fully connected layer ``out = x.reshape(N, D) @ w + b``.

    Parameters
    ----------
    x : ndarray, shape (N, d1, ..., dk)
        A batch of N inputs; each is flattened to ``D = d1 * ... * dk`` values.
    w : ndarray, shape (D, M)
    b : ndarray, shape (M,)

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple
        ``(x, w, b)``, the arrays themselves (no copies).

    Raises
    ------
    ValueError
        If the shapes of ``x``, ``w`` and ``b`` do not fit together.
    """
    _check_affine_shapes(x, w, b)
    # >>> exercise: affine_forward
    out = x.reshape(x.shape[0], -1) @ w
    out += b  # in place: `out` is a fresh array, so this saves one (N, M) temporary
    return out, (x, w, b)
    # <<< exercise


def affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the affine layer; no averaging over the batch.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
        Upstream gradient.
    cache : tuple
        ``(x, w, b)`` from :func:`affine_forward`.

    Returns
    -------
    dx : ndarray, shape (N, d1, ..., dk)
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    # >>> exercise: affine_backward
    x, w, _ = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw, db = affine_param_grads(dout, x)
    return dx, dw, db
    # <<< exercise


def affine_param_grads(dout: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the affine layer wrt its parameters only.

    The first layer of a network never needs ``dx`` (nothing is below it); skipping
    that product saves a third of the layer's backward work.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
    x : ndarray, shape (N, d1, ..., dk)

    Returns
    -------
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dw, db


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
