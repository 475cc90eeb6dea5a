"""``ThreeLayerConvNet``: CS231n's first ConvNet, conv - relu - 2x2 max pool - affine -
relu - affine, as a :class:`~barenet.sequential.Sequential`."""

from __future__ import annotations

import inspect

import numpy as np

from barenet.layers import ChannelsFirst, Conv2d, Flatten, Linear, MaxPool2d, Relu
from barenet.sequential import Sequential


class ThreeLayerConvNet(Sequential):
    """conv - relu - 2x2 max pool - affine - relu - affine, giving class scores (logits).

    The convolution keeps the map's size (stride 1, zero padding ``(filter_size - 1) //
    2``); the pool halves it. The parameters are CS231n's: ``W1`` (F, C, HH, WW), ``b1``
    (F,), ``W2`` (F * H/2 * W/2, hidden_dim), ``b2``, ``W3`` (hidden_dim, num_classes),
    ``b3``. With the default ``weight_scale`` the scores of a fresh net are near 0 and
    its loss about ``ln(num_classes)`` (2.3026 for 10 classes). The loss with
    :meth:`loss` is softmax cross-entropy plus ``reg * sum(W**2)`` (barenet's L2
    convention; CS231n's has a factor 0.5).

    Parameters
    ----------
    input_dim : (int, int, int)
        ``(C, H, W)`` of one image; H and W even.
    num_filters, filter_size, hidden_dim, num_classes : int
        F, HH = WW (odd), the hidden layer's width and the number of scores.
    weight_scale : float or {'he', 'xavier'}
        Standard deviation of the Gaussian weight init; biases start at 0.
    reg : float
    dtype : numpy dtype
    seed : int or numpy.random.Generator, optional
    channels_last : bool
        Take batches of images ``(N, H, W, C)``, as the data pipeline gives them,
        instead of ``(N, C, H, W)`` (``input_dim`` stays ``(C, H, W)``).
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        num_filters: int = 32,
        filter_size: int = 7,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float | str = 1e-3,
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: int | np.random.Generator | None = None,
        channels_last: bool = False,
    ):
        c, h, w = (int(v) for v in input_dim)
        if h % 2 or w % 2 or filter_size % 2 == 0:
            raise ValueError(
                f"ThreeLayerConvNet: input_dim's H and W must be even and filter_size odd; got "
                f"input_dim {tuple(input_dim)}, filter_size {filter_size}"
            )
        rng = np.random.default_rng(seed)
        kwargs = {"std": weight_scale, "dtype": dtype}
        layers = [
            Conv2d(c, num_filters, filter_size, 1, (filter_size - 1) // 2, seed=rng, **kwargs),
            Relu(),
            MaxPool2d(2, 2),
            Flatten(),
            Linear(num_filters * (h // 2) * (w // 2), hidden_dim, seed=rng, **kwargs),
            Relu(),
            Linear(hidden_dim, num_classes, seed=rng, **kwargs),
        ]
        super().__init__(*([ChannelsFirst()] if channels_last else []), *layers, reg=reg)
        self.settings = {
            "input_dim": [c, h, w],
            "num_filters": int(num_filters),
            "filter_size": int(filter_size),
            "hidden_dim": int(hidden_dim),
            "num_classes": int(num_classes),
            "weight_scale": weight_scale,
            "reg": float(reg),
            "dtype": np.dtype(dtype).name,
            "channels_last": bool(channels_last),
        }

    def config(self) -> dict:
        return dict(self.settings)

    @classmethod
    def from_config(cls, config: dict) -> ThreeLayerConvNet:
        names = set(inspect.signature(cls.__init__).parameters) - {"self", "seed"}
        if not isinstance(config, dict) or not set(config) <= names:
            raise ValueError(f"not a ThreeLayerConvNet configuration: {config!r}")
        return cls(**config)
