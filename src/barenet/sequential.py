"""``Sequential``: a network made of layer objects applied in turn, saved as ``.npz``.

It fits the ``Network`` contract, so ``Solver``, the optimizers and
``compute_network_size`` work with it as with ``ClassificationNet``:

* ``params`` is one flat dict. The ``k``-th layer that has parameters contributes its
  parameters under their name and ``k``: a convolution's ``W`` and ``b`` become
  ``W1``, ``b1``, a batch norm after it ``gamma2``, ``beta2``, the linear layer after
  that ``W3``, ``b3``. The keys depend only on the list of layers, so they are stable
  across runs, saves and loads. ``grads`` has the same keys after ``backward``.
* ``frozen`` is a set of parameter keys left as they are: ``backward`` gives them no
  gradient (and stops below the lowest layer that still trains), and the optimizers
  skip them. A recipe may train a parameter for its first epochs only.
* ``buffers`` holds what is saved but not trained: batch norm's running statistics,
  ``running_mean2``, ``running_var2``. ``train()`` / ``eval()`` switch every layer
  (batch statistics or running ones, dropout on or off).
* ``save`` writes the parameters, the buffers and the list of layers (as JSON) to an
  ``.npz`` file; ``load`` rebuilds the model with ``allow_pickle=False``, refusing
  layer types it does not know.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from barenet.io import atomic_write
from barenet.layers import (
    ACTIVATIONS,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    ChannelsFirst,
    Conv2d,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    GroupNorm,
    LayerNorm,
    LeakyRelu,
    Linear,
    MaxPool2d,
    PatchWhitening,
)
from barenet.losses import CrossEntropyFromLogits
from barenet.networks import Network

LAYER_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Conv2d,
        PatchWhitening,
        Linear,
        MaxPool2d,
        AvgPool2d,
        GlobalAvgPool2d,
        BatchNorm1d,
        BatchNorm2d,
        LayerNorm,
        GroupNorm,
        Flatten,
        ChannelsFirst,
        Dropout,
        *ACTIVATIONS.values(),
    )
}


def layer_spec(layer: object) -> dict:
    """``{'type': class name, 'args': constructor arguments}`` of a built-in layer."""
    name = type(layer).__name__
    if LAYER_TYPES.get(name) is not type(layer):
        raise ValueError(f"cannot save a model with the custom layer {layer!r}")
    if hasattr(layer, "config"):
        args = layer.config()
    elif isinstance(layer, LeakyRelu):
        args = {"slope": layer.slope}
    elif isinstance(layer, Dropout):
        args = {"p": layer.p}
    else:
        args = {}
    return {"type": name, "args": args}


def build_layer(spec: object) -> object:
    """The layer a :func:`layer_spec` describes; ``ValueError`` for anything else."""
    if not isinstance(spec, dict) or set(spec) != {"type", "args"}:
        raise ValueError(f"a layer must be described as {{'type', 'args'}}; got {spec!r}")
    cls = LAYER_TYPES.get(spec["type"]) if isinstance(spec["type"], str) else None
    if cls is None or not isinstance(spec["args"], dict):
        raise ValueError(
            f"unknown layer type {spec['type']!r}; expected one of {sorted(LAYER_TYPES)}"
        )
    try:
        return cls(**spec["args"])
    except TypeError as error:
        raise ValueError(f"bad arguments for {spec['type']}: {error}") from None


class Sequential(Network):
    """Layers applied in order: ``forward`` runs them up, ``backward`` down.

    Parameters
    ----------
    *layers : layer objects
        Each has ``forward(x) -> (out, cache)`` and ``backward(dout, cache) -> dx``;
        those with parameters are :class:`barenet.layers.Layer` objects.
    reg : float
        L2 strength: :meth:`reg_loss` is ``reg * sum(W**2)`` over the ``W`` parameters
        (not biases nor batch-norm scales); :meth:`backward` adds ``2 * reg * W``.
    dtype : numpy dtype, optional
        The dtype inputs are cast to; by default that of the first parameter.
    """

    def __init__(self, *layers: object, reg: float = 0.0, dtype: type | None = None):
        super().__init__()
        if reg < 0:
            raise ValueError(f"reg must be >= 0, got {reg!r}")
        self.layers = list(layers)
        self.reg = float(reg)
        self.keys: list[dict[str, str]] = []  # per layer: its parameter name -> the flat key
        self.numbers: list[int | None] = []  # per layer: k, if it has parameters
        count = 0
        for layer in self.layers:
            local = getattr(layer, "params", None) or {}
            count += bool(local)
            self.numbers.append(count if local else None)
            self.keys.append({name: f"{name}{count}" for name in local})
            self.params.update({key: local[name] for name, key in self.keys[-1].items()})
        first = next(iter(self.params.values()), np.zeros(0, np.float32))
        self.dtype = np.dtype(dtype) if dtype is not None else first.dtype
        self.frozen: set[str] = set()

    @property
    def first_param_layer(self) -> int | None:
        """Index of the lowest layer with a parameter that is not frozen (None if none)."""
        return next(
            (i for i, keys in enumerate(self.keys) if set(keys.values()) - self.frozen), None
        )

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """Running statistics by flat key (``running_mean2``...), saved with the weights."""
        return {
            f"{name}{k}": value
            for layer, k in zip(self.layers, self.numbers, strict=True)
            if k is not None
            for name, value in getattr(layer, "buffers", {}).items()
        }

    def set_buffers(self, buffers: dict[str, np.ndarray]) -> None:
        """Replace the running statistics (keys as in :attr:`buffers`), e.g. when restoring."""
        for layer, k in zip(self.layers, self.numbers, strict=True):
            if k is not None and getattr(layer, "buffers", None):
                layer.set_buffers({name: buffers[f"{name}{k}"] for name in layer.buffers})

    def train(self, mode: bool = True) -> Sequential:
        super().train(mode)
        for layer in self.layers:
            if hasattr(layer, "train"):
                layer.train(mode)
        return self

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Outputs of the last layer for a batch ``X`` (N, ...), cast to :attr:`dtype`."""
        out = np.asarray(X).astype(self.dtype, copy=False)
        self.cache = {}
        for i, (layer, keys) in enumerate(zip(self.layers, self.keys, strict=True), start=1):
            for name, key in keys.items():  # the model's dict is the one optimizers update
                layer.params[name] = self.params[key]
            out, self.cache[f"layer{i}"] = layer.forward(out)
        return out

    def backward(self, dout: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of every parameter from the loss's gradient wrt the outputs.

        The first layer with parameters to train computes only its parameters'
        gradients, and the layers below it nothing: no input gradient is needed there.
        Frozen parameters get no gradient.
        """
        self.grads = {}
        first = self.first_param_layer
        if first is None:
            return self.grads
        for i in range(len(self.layers) - 1, first - 1, -1):
            layer, cache = self.layers[i], self.cache[f"layer{i + 1}"]
            if i == first and hasattr(layer, "param_grads"):
                layer.param_grads(dout, cache)
            else:
                dout = layer.backward(dout, cache)
            for name, key in self.keys[i].items():
                if key in self.frozen:
                    continue
                grad = layer.grads[name]
                if self.reg and name == "W":
                    grad = grad + (2 * self.reg) * self.params[key]
                self.grads[key] = grad
        return self.grads

    def reg_loss(self) -> float:
        """``reg * sum(W**2)`` over every ``W`` parameter."""
        if not self.reg:
            return 0.0
        weights = [
            self.params[key] for keys in self.keys for name, key in keys.items() if name == "W"
        ]
        return self.reg * float(sum(np.vdot(w, w) for w in weights))

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        """CS231n's call form: the scores (N, C) in evaluation mode when ``y`` is None,
        else ``(loss, grads)`` of one training-mode pass (softmax cross-entropy + reg)."""
        was_training = self.training
        try:
            self.train(y is not None)
            scores = self.forward(X)
            if y is None:
                return scores
            loss, dscores = CrossEntropyFromLogits()(scores, y)
            return float(loss) + self.reg_loss(), self.backward(dscores)
        finally:
            self.train(was_training)

    def config(self) -> dict:
        return {"layers": [layer_spec(layer) for layer in self.layers], "reg": self.reg}

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """The model :meth:`config` describes (without its trained values)."""
        layers = config.get("layers") if isinstance(config, dict) else None
        if not isinstance(layers, list):
            raise ValueError(f"a Sequential's config must hold a list of layers; got {config!r}")
        return cls(*(build_layer(spec) for spec in layers), reg=float(config.get("reg", 0.0)))

    def save(self, path: str | os.PathLike) -> Path:
        """Write parameters, running statistics and the layer list to ``.npz``, atomically."""
        path = Path(path)
        arrays = {**self.params, **self.buffers}
        arrays["__config__"] = np.array(json.dumps(self.config()))
        arrays["__class__"] = np.array(type(self).__name__)
        with atomic_write(path) as file:
            np.savez(file, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Sequential:
        """Rebuild a model written by :meth:`save` (``allow_pickle=False``)."""
        with np.load(path, allow_pickle=False) as data:
            if "__config__" not in data or str(data.get("__class__", "")) != cls.__name__:
                raise ValueError(f"{path} is not a {cls.__name__} saved by barenet")
            net = cls.from_config(json.loads(str(data["__config__"])))
            arrays = {key: _stored(data, key, value, path) for key, value in net.params.items()}
            buffers = {key: _stored(data, key, value, path) for key, value in net.buffers.items()}
        net.params.update(arrays)
        net.set_buffers(buffers)
        return net

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"{type(self).__name__}(\n{inner}\n)"


def _stored(data, key: str, like: np.ndarray, path) -> np.ndarray:
    """``data[key]`` checked against the shape of ``like`` and cast to its dtype."""
    if key not in data:
        raise ValueError(f"{path}: {key!r} is missing from the file")
    if data[key].shape != like.shape:
        raise ValueError(f"{path}: {key!r} has shape {data[key].shape}, expected {like.shape}")
    return data[key].astype(like.dtype)
