"""Networks: a base class with parameters, modes and saving, and ``ClassificationNet``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from barenet.io import atomic_write
from barenet.layers import (
    ACTIVATIONS,
    Dropout,
    LeakyRelu,
    affine_backward,
    affine_forward,
    affine_param_grads,
)
from barenet.prediction import predict_dataset


def make_activation(name_or_layer: str | object) -> object:
    """Return an activation layer from its name (``'relu'``, ``'sigmoid'``, ``'tanh'``,
    ``'leaky_relu'``, or ``'leaky_relu:0.2'`` for another slope), or pass a layer through."""
    if not isinstance(name_or_layer, str):
        return name_or_layer
    key, _, slope = name_or_layer.lower().replace("-", "_").partition(":")
    if key not in ACTIVATIONS or (slope and key != "leaky_relu"):
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name_or_layer!r}")
    return LeakyRelu(float(slope)) if slope else ACTIVATIONS[key]()


def activation_name(layer: object) -> str:
    """Inverse of :func:`make_activation` for the built-in layers."""
    if type(layer) is LeakyRelu and layer.slope != 0.01:
        return f"leaky_relu:{layer.slope}"
    for name, cls in ACTIVATIONS.items():
        if type(layer) is cls:
            return name
    raise ValueError(f"cannot save a network with the custom activation {layer!r}")


class Network:
    """Base class: ``params`` and ``grads`` are flat dicts of arrays with the same keys.

    Subclasses implement ``forward(X)`` and ``backward(dout)`` and fill ``cache``.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.cache: dict[str, object] = {}
        self.training = True

    def forward(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X)

    def train(self, mode: bool = True) -> Network:
        """Switch to training mode (dropout active) or, with ``mode=False``, evaluation."""
        self.training = bool(mode)
        return self

    def eval(self) -> Network:
        """Switch to evaluation mode."""
        return self.train(False)

    def reg_loss(self) -> float:
        """Regularisation term to add to the data loss (0 unless a subclass says otherwise)."""
        return 0.0

    def config(self) -> dict:
        """Constructor arguments that rebuild this network (JSON-serialisable)."""
        return {}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the parameters and the configuration to an ``.npz`` file, atomically.

        The configuration is stored as a JSON string, so :meth:`load` needs no pickle.
        """
        path = Path(path)
        arrays = dict(self.params)
        arrays["__config__"] = np.array(json.dumps(self.config()))
        arrays["__class__"] = np.array(type(self).__name__)
        with atomic_write(path) as file:
            np.savez(file, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """Rebuild a network saved with :meth:`save` (loaded with ``allow_pickle=False``)."""
        with np.load(path, allow_pickle=False) as data:
            if "__config__" not in data or str(data.get("__class__", cls.__name__)) != cls.__name__:
                raise ValueError(f"{path} is not a {cls.__name__} saved by barenet")
            config = json.loads(str(data["__config__"]))
            net = cls(**config)
            for key in net.params:
                if key not in data:
                    raise ValueError(f"{path}: parameter {key!r} is missing from the file")
                if data[key].shape != net.params[key].shape:
                    raise ValueError(
                        f"{path}: parameter {key!r} has shape {data[key].shape}, "
                        f"expected {net.params[key].shape}"
                    )
                net.params[key] = data[key].astype(net.params[key].dtype)
        return net

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class indices, shape (N,), in evaluation mode."""
        was_training = self.training
        self.eval()
        try:
            return np.argmax(self.forward(X), axis=1)
        finally:
            self.train(was_training)

    def get_dataset_prediction(
        self, loader: Iterable[dict]
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Labels, predictions and accuracy over every batch of ``loader``.

        Parameters
        ----------
        loader : iterable of dict
            Batches ``{'image': (B, ...), 'label': (B,)}``.

        Returns
        -------
        labels : ndarray, shape (N,)
        predictions : ndarray, shape (N,)
        accuracy : float
            Fraction of correct predictions (``nan`` for an empty loader).
        """
        result = predict_dataset(self, [loader])
        return result.labels, result.predictions, result.accuracy


class ClassificationNet(Network):
    """Multi-layer perceptron ``affine -> activation -> ... -> affine`` giving logits.

    Parameters
    ----------
    activation : layer or str
        Activation after each hidden affine layer (``Relu()`` by default).
    num_layer : int
        Number of affine layers; 1 is a linear classifier.
    input_size : int
        D, the number of values per input (3 * 32 * 32 for CIFAR-10).
    hidden_size : int or sequence of int
        Width of every hidden layer, or one width per hidden layer.
    std : float or {'he', 'xavier'}
        Standard deviation of the Gaussian weight init. The small default makes the
        logits near 0, so the softmax is uniform and the untrained loss is ln(C).
        ``'he'`` uses ``sqrt(2 / fan_in)``, ``'xavier'`` ``sqrt(1 / fan_in)``.
    num_classes : int
        C, the number of outputs.
    reg : float
        L2 strength: :meth:`reg_loss` is ``reg * sum(W**2)`` over the weights (not the
        biases) and :meth:`backward` adds ``2 * reg * W`` to each weight gradient.
    dtype : numpy dtype
        dtype of the parameters and of the computation.
    seed : int or numpy.random.Generator, optional
        Seeds the weight init and the dropout masks.
    dropout : float
        Dropout probability after each hidden activation (training mode only).
    """

    def __init__(
        self,
        activation: object = None,
        num_layer: int = 2,
        input_size: int = 3 * 32 * 32,
        hidden_size: int | list[int] = 100,
        std: float | str = 1e-3,
        num_classes: int = 10,
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: int | np.random.Generator | None = None,
        dropout: float = 0.0,
    ):
        super().__init__()
        if int(num_layer) < 1:
            raise ValueError(f"num_layer must be >= 1, got {num_layer!r}")
        if reg < 0:
            raise ValueError(f"reg must be >= 0, got {reg!r}")
        self.activation = make_activation("relu" if activation is None else activation)
        self.num_layer = int(num_layer)
        self.input_size = int(input_size)
        self.hidden_sizes = self._hidden_sizes(hidden_size, self.num_layer)
        self.std = std
        self.num_classes = int(num_classes)
        self.reg = float(reg)
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)
        self.dropout = Dropout(dropout, seed=self.rng) if dropout else None
        self._init_params()

    @staticmethod
    def _hidden_sizes(hidden_size: int | list[int], num_layer: int) -> list[int]:
        if np.ndim(hidden_size) == 0:
            return [int(hidden_size)] * (num_layer - 1)
        sizes = [int(h) for h in hidden_size]
        if len(sizes) != num_layer - 1:
            raise ValueError(
                f"hidden_size must be one int or {num_layer - 1} ints for num_layer={num_layer}; "
                f"got {list(hidden_size)}"
            )
        return sizes

    def _init_params(self) -> None:
        sizes = [self.input_size, *self.hidden_sizes, self.num_classes]
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
            w = self.rng.standard_normal((fan_in, fan_out)) * self._init_std(fan_in)
            self.params[f"W{i}"] = w.astype(self.dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)

    def _init_std(self, fan_in: int) -> float:
        if self.std == "he":
            return float(np.sqrt(2.0 / fan_in))
        if self.std == "xavier":
            return float(np.sqrt(1.0 / fan_in))
        if isinstance(self.std, str):
            raise ValueError(f"std must be a float, 'he' or 'xavier'; got {self.std!r}")
        return float(self.std)

    def train(self, mode: bool = True) -> ClassificationNet:
        super().train(mode)
        if self.dropout is not None:
            self.dropout.train(mode)
        return self

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Logits of a batch.

        Parameters
        ----------
        X : ndarray, shape (N, ...) with ``input_size`` values per sample
            Cast to the network's dtype if needed (no copy when it already matches).

        Returns
        -------
        logits : ndarray, shape (N, num_classes)
        """
        X = np.asarray(X)
        values_per_sample = int(np.prod(X.shape[1:], dtype=np.int64)) if X.ndim else -1
        if values_per_sample != self.input_size:
            raise ValueError(
                f"X must have shape (N, ...) with {self.input_size} values per sample; "
                f"got shape {X.shape}"
            )
        out = X.reshape(X.shape[0], -1).astype(self.dtype, copy=False)
        self.cache = {}
        for i in range(1, self.num_layer + 1):
            out, self.cache[f"affine{i}"] = affine_forward(
                out, self.params[f"W{i}"], self.params[f"b{i}"]
            )
            if i < self.num_layer:
                out, self.cache[f"activation{i}"] = self.activation.forward(out)
                if self.dropout is not None and self.training:
                    out, self.cache[f"dropout{i}"] = self.dropout.forward(out)
        return out

    def backward(self, dout: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of the loss wrt every parameter, from the loss's gradient.

        Parameters
        ----------
        dout : ndarray, shape (N, num_classes)
            Gradient of the (already batch-averaged) loss wrt the logits.

        Returns
        -------
        grads : dict
            ``W1, b1, ..., WL, bL``, each shaped like its parameter; weight gradients
            include the L2 term ``2 * reg * W``.
        """
        self.grads = {}
        for i in range(self.num_layer, 0, -1):
            cache = self.cache[f"affine{i}"]
            if i > 1:
                dout, dw, db = affine_backward(dout, cache)
                if f"dropout{i - 1}" in self.cache:
                    dout = self.dropout.backward(dout, self.cache[f"dropout{i - 1}"])
                dout = self.activation.backward(dout, self.cache[f"activation{i - 1}"])
            else:
                dw, db = affine_param_grads(dout, cache[0])
            if self.reg:
                dw += (2 * self.reg) * self.params[f"W{i}"]
            self.grads[f"W{i}"], self.grads[f"b{i}"] = dw, db
        return self.grads

    def reg_loss(self) -> float:
        """``reg * sum(W**2)`` over all weight matrices (biases are not regularised)."""
        if not self.reg:
            return 0.0
        return self.reg * float(
            sum(np.vdot(w, w) for k, w in self.params.items() if k.startswith("W"))
        )

    def config(self) -> dict:
        return {
            "activation": activation_name(self.activation),
            "num_layer": self.num_layer,
            "input_size": self.input_size,
            "hidden_size": self.hidden_sizes,
            "std": self.std,
            "num_classes": self.num_classes,
            "reg": self.reg,
            "dtype": self.dtype.name,
            "dropout": self.dropout.p if self.dropout is not None else 0.0,
        }

    def __repr__(self) -> str:
        sizes = "-".join(str(s) for s in [self.input_size, *self.hidden_sizes, self.num_classes])
        return f"ClassificationNet({sizes}, {self.activation!r}, reg={self.reg}, dtype={self.dtype.name})"
