"""What every layer shares: the contract, and the type of a cache.

Every layer follows one contract:

* ``forward(x) -> (out, cache)``: ``out`` has the dtype of ``x``; ``cache`` holds what
  the backward pass needs and nothing else.
* ``backward(dout, cache) -> dx``: the exact derivative of *this* forward for the
  upstream gradient ``dout``. It never averages over the batch (the loss owns the
  batch average), never writes into ``dout``, ``x`` or the cache, and returns the
  same result when called twice.

Layers with parameters return their gradients too: ``affine_backward`` returns
``(dx, dw, db)``. Their layer objects (subclasses of :class:`Layer`) return ``dx``
and keep the parameter gradients in ``grads``.
"""

from __future__ import annotations

import sys

import numpy as np

Cache = tuple


def weight_std(std: float | str, fan_in: int) -> float:
    """The standard deviation of a Gaussian weight init.

    Parameters
    ----------
    std : float or {'he', 'xavier'}
        A number, ``'he'`` (``sqrt(2 / fan_in)``, for ReLU nets) or ``'xavier'``
        (``sqrt(1 / fan_in)``).
    fan_in : int
        Inputs per output unit (``C * HH * WW`` for a convolution).
    """
    if std == "he":
        return float(np.sqrt(2.0 / fan_in))
    if std == "xavier":
        return float(np.sqrt(1.0 / fan_in))
    if isinstance(std, str) or not std >= 0:
        raise ValueError(f"std must be a number >= 0, 'he' or 'xavier'; got {std!r}")
    return float(std)


class Layer:
    """Base of the layer objects that hold parameters or a mode.

    Attributes
    ----------
    params : dict of ndarray
        Parameters by their name in the layer (``'W'``, ``'b'``, ``'gamma'``, ``'beta'``).
        A model may put other arrays in their place (a loaded or restored copy): the
        layer reads them from here at every forward pass.
    grads : dict of ndarray
        Filled by :meth:`backward`, same keys as ``params``.
    buffers : dict of ndarray
        State saved with the weights that is not trained by gradient (batch norm's
        running statistics); empty for most layers.
    training : bool
        Training mode (batch statistics, dropout) or evaluation mode.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return {}

    def set_buffers(self, buffers: dict[str, np.ndarray]) -> None:
        """Replace the buffers (e.g. with loaded ones); the keys of :attr:`buffers`."""
        if set(buffers) != set(self.buffers):
            raise ValueError(
                f"{self!r}: buffers must be {sorted(self.buffers)}; got {sorted(buffers)}"
            )

    def train(self, mode: bool = True) -> Layer:
        """Switch to training mode, or with ``mode=False`` to evaluation mode."""
        self.training = bool(mode)
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode."""
        return self.train(False)

    def config(self) -> dict:
        """Constructor arguments that rebuild this layer (JSON-serialisable)."""
        return {}

    def _workspace(self) -> Workspace:
        """The arrays this layer's compiled passes reuse from call to call (see
        :class:`Workspace`), created on first use."""
        if "workspace" not in vars(self):
            self.workspace = Workspace()
        return self.workspace

    def _compiled_passes(self, reference: str = "_forward") -> tuple | None:
        """The compiled ``(forward, backward)`` pair kept as ``_compiled`` by the class that
        defines the reference pass ``reference``, or ``None``: a subclass with its own
        pass (a learner's) is always the one that runs."""
        owner = next(c for c in type(self).__mro__ if reference in vars(c))
        return vars(owner).get("_compiled")

    def param_grads(self, dout: np.ndarray, cache: Cache) -> None:
        """Fill :attr:`grads` without computing the input gradient (for a first layer)."""
        self.backward(dout, cache)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        raise NotImplementedError


class Workspace:
    """Large arrays a layer object reuses from one call to the next, where that is safe.

    A fresh array of a few hundred MB costs a page fault per 4 KiB on its first write
    (measured: an im2col copy takes 0.6x the time into a reused array). :meth:`empty`
    hands back the array it gave out last time under the same name only when nothing
    else refers to it any more (no cache, no view, no caller holds it: the reference
    count says so), so reuse never changes an array someone can still see.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        # An array nobody else refers to, held the same way as the arrays: its
        # reference count is the count of a free array, whatever the Python version.
        self.probe = {"free": np.empty(0)}

    def __getstate__(self) -> dict:
        """A pickled or copied workspace starts empty: its arrays are scratch."""
        return {"arrays": {}, "probe": {"free": np.empty(0)}}

    def empty(self, name: str, shape: tuple, dtype) -> np.ndarray:
        """An uninitialised array of ``shape`` and ``dtype``, reused when safe."""
        array = self.arrays.get(name)
        free = self.probe.get("free")
        # A live view or cache adds a reference (a view's base is the array itself).
        if array is not None and array.shape == shape and array.dtype == dtype:
            if sys.getrefcount(array) <= sys.getrefcount(free):
                return array
        array = np.empty(shape, dtype=dtype)
        self.arrays[name] = array
        return array


def new_array(workspace: Workspace | None, name: str, shape: tuple, dtype) -> np.ndarray:
    """``workspace.empty(...)``, or a fresh ``np.empty`` without a workspace."""
    if workspace is None:
        return np.empty(shape, dtype=dtype)
    return workspace.empty(name, tuple(shape), np.dtype(dtype))
