"""Inverted dropout: the layer object (``p`` drops, as in PyTorch) and CS231n's
function pair (``p`` keeps, as in CS231n).

The two meanings of ``p`` are each kept where learners meet them: ``Dropout(p=0.2)``
drops 20% of the units, like ``torch.nn.Dropout(p=0.2)``; ``dropout_forward(x, {'p':
0.8, ...})`` keeps 80%, like CS231n's assignment. The function form also takes the
unambiguous keys ``'keep_prob'`` and ``'drop_prob'``.
"""

from __future__ import annotations

import warnings

import numpy as np

from barenet.layers.base import Cache


class Dropout:
    """Inverted dropout: in training, zero each input with probability ``p`` and scale
    the survivors by ``1 / (1 - p)``, so that evaluation needs no rescaling.

    Parameters
    ----------
    p : float
        Probability of DROPPING a unit, in ``[0, 1)``, as in ``torch.nn.Dropout``.
        (CS231n's ``dropout_param['p']``, taken by :func:`dropout_forward`, is the
        probability of keeping one: ``Dropout(p=0.2)`` is ``{'p': 0.8}`` there. The
        object follows PyTorch because objects are what PyTorch users write; ``repr``
        spells the meaning out.)
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


class DropoutProbabilityWarning(UserWarning):
    """A CS231n-style ``dropout_param['p']`` below 0.5: most units would be dropped."""


def _keep_probability(dropout_param: dict) -> float:
    """The probability of keeping a unit, from exactly one of ``p``, ``keep_prob``, ``drop_prob``."""
    given = [k for k in ("p", "keep_prob", "drop_prob") if k in dropout_param]
    if len(given) != 1:
        raise ValueError(
            "dropout_param must hold exactly one of 'p' (CS231n: the probability of KEEPING "
            f"a unit), 'keep_prob' (the same) or 'drop_prob' (PyTorch's p); got {sorted(dropout_param)}"
        )
    value = float(dropout_param[given[0]])
    keep = 1.0 - value if given[0] == "drop_prob" else value
    if not 0.0 < keep <= 1.0:
        raise ValueError(
            f"dropout_param: {given[0]}={value!r} keeps a fraction {keep:g} of the units; "
            "the keep probability must be in (0, 1]"
        )
    if given[0] == "p" and keep < 0.5:
        warnings.warn(
            f"dropout_param['p']={value:g} is the probability of KEEPING a unit (CS231n), so "
            f"{1 - value:.0%} of the units are dropped. For PyTorch's meaning write "
            f"{{'drop_prob': {value:g}}}; write {{'keep_prob': {value:g}}} to keep this one "
            "without the warning.",
            DropoutProbabilityWarning,
            stacklevel=3,
        )
    return keep


def dropout_forward(x: np.ndarray, dropout_param: dict) -> tuple[np.ndarray, Cache]:
    """Inverted dropout in CS231n's call form: ``p`` is the probability of KEEPING a unit.

    This is CS231n's meaning, so that its notebooks run unchanged; PyTorch's ``p``, and
    that of the :class:`Dropout` layer object, is the probability of *dropping* one.
    The dict says which it means: ``'p'`` or ``'keep_prob'`` (keep) or ``'drop_prob'``
    (drop), exactly one of them. Since a PyTorch habit turns ``{'p': 0.2}`` into
    dropping 80% of the units, a ``'p'`` below 0.5 warns (once) and says how to write
    either meaning; a keep probability of 0 (nothing kept) is a ``ValueError``.

    Parameters
    ----------
    x : ndarray, any shape
    dropout_param : dict
        ``{'mode': 'train' | 'test', 'p': keep probability, 'seed': int or Generator}``.
        In training each unit is kept with probability ``keep`` and scaled by
        ``1 / keep``, so the test mode is the identity. The same seed gives the same mask;
        without one, a fresh random mask (never NumPy's global state).

    Returns
    -------
    out : ndarray, shape and dtype of ``x``
    cache : tuple
        ``(mask, scale)``: the kept units (bool, x's shape) and ``1 / keep``, or
        ``(None, 1.0)`` in test mode.
    """
    if not isinstance(dropout_param, dict):
        raise ValueError(
            f"dropout_param must be a dict {{'mode', 'p', 'seed'}}; got {dropout_param!r}"
        )
    keep = _keep_probability(dropout_param)
    mode = dropout_param.get("mode", "train")
    if mode not in ("train", "test"):
        raise ValueError(f"dropout_param: mode must be 'train' or 'test', got {mode!r}")
    # >>> exercise: dropout_forward
    if mode == "test" or keep == 1.0:
        return x, (None, 1.0)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = rng.random(np.shape(x), dtype=np.float32) < keep
    out = x * mask
    out *= out.dtype.type(1.0 / keep)
    return out, (mask, 1.0 / keep)
    # <<< exercise


def dropout_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Gradient of :func:`dropout_forward`: ``dout / keep`` where kept, 0 where dropped.

    Parameters
    ----------
    dout : ndarray, shape of the forward output
    cache : tuple from :func:`dropout_forward`

    Returns
    -------
    dx : ndarray, shape of ``dout``
    """
    # >>> exercise: dropout_backward
    mask, scale = cache
    if mask is None:
        return dout.copy()
    dx = dout * mask
    dx *= dx.dtype.type(scale)
    return dx
    # <<< exercise
