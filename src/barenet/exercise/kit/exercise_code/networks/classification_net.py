"""``ClassificationNet``: affine -> activation -> ... -> affine, giving one score per class.

It is built from your ``affine_forward``, ``affine_backward`` and activation in
``layer.py``: if one of them is wrong, training shows it too.
"""

from __future__ import annotations

import numpy as np

from .layer import Relu, affine_backward, affine_forward


class ClassificationNet:
    """A fully connected network for classification.

    Parameters
    ----------
    activation : layer, optional
        Used after every hidden affine layer; ``Relu()`` by default.
    num_layer : int
        Number of affine layers (1 is a linear classifier).
    input_size : int
        D, the values per input (3 * 32 * 32 for a CIFAR-10 image).
    hidden_size : int
        Width of every hidden layer.
    std : float
        Standard deviation of the Gaussian initial weights. The small default keeps
        the logits near 0: an untrained net gives every class the same probability.
    num_classes : int
        C, the number of scores per input.
    reg : float
        L2 strength: the loss gains ``reg * sum(W**2)`` over the weight matrices.
    seed : int, optional
        Seeds the initial weights.
    dtype : numpy dtype
        Of the parameters and the computation; float32 is about twice as fast as float64.

    Attributes
    ----------
    params, grads : dict
        ``W1, b1, ..., WL, bL``: arrays of shapes ``(D_in, D_out)`` and ``(D_out,)``.
    cache : dict
        What each layer's forward pass kept for its backward pass.
    """

    def __init__(
        self,
        activation=None,
        num_layer: int = 2,
        input_size: int = 3 * 32 * 32,
        hidden_size: int = 100,
        std: float = 1e-3,
        num_classes: int = 10,
        reg: float = 0.0,
        seed: int | None = None,
        dtype: type = np.float32,
    ):
        self.activation = Relu() if activation is None else activation
        self.num_layer = num_layer
        self.reg = reg
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        sizes = [input_size] + [hidden_size] * (num_layer - 1) + [num_classes]
        self.params: dict[str, np.ndarray] = {}
        for i in range(1, num_layer + 1):
            w = std * rng.standard_normal((sizes[i - 1], sizes[i]))
            self.params[f"W{i}"] = w.astype(self.dtype)
            self.params[f"b{i}"] = np.zeros(sizes[i], dtype=self.dtype)
        self.grads: dict[str, np.ndarray] = {}
        self.cache: dict[str, object] = {}

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Scores of a batch.

        Parameters
        ----------
        X : ndarray, shape (N, ...) with ``input_size`` values per input

        Returns
        -------
        logits : ndarray, shape (N, num_classes)
        """
        out = np.asarray(X).reshape(len(X), -1).astype(self.dtype, copy=False)
        self.cache = {}
        for i in range(1, self.num_layer + 1):
            out, self.cache[f"affine{i}"] = affine_forward(
                out, self.params[f"W{i}"], self.params[f"b{i}"]
            )
            if i < self.num_layer:
                out, self.cache[f"activation{i}"] = self.activation.forward(out)
        return out

    def backward(self, dout: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of the loss wrt every parameter.

        Parameters
        ----------
        dout : ndarray, shape (N, num_classes)
            Gradient of the loss wrt the logits (already averaged over the batch).

        Returns
        -------
        grads : dict
            One gradient per parameter, shaped like it.
        """
        self.grads = {}
        for i in range(self.num_layer, 0, -1):
            if i < self.num_layer:
                dout = self.activation.backward(dout, self.cache[f"activation{i}"])
            dout, dw, db = affine_backward(dout, self.cache[f"affine{i}"])
            self.grads[f"W{i}"] = dw + 2 * self.reg * self.params[f"W{i}"]
            self.grads[f"b{i}"] = db
        return self.grads

    def reg_loss(self) -> float:
        """``reg * sum(W**2)`` over the weight matrices."""
        weights = [w for name, w in self.params.items() if name.startswith("W")]
        return self.reg * float(sum(np.sum(w * w) for w in weights))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{v.shape}" for k, v in self.params.items())
        return f"ClassificationNet({type(self.activation).__name__}; {shapes})"
