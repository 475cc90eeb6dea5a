"""``WhitenedConvNet``: a wide, shallow ConvNet after a fixed patch-whitening layer.

The layout of the fast CIFAR-10 recipes (airbench), in which every step is cheap per
FLOP::

    PatchWhitening (2x2, fixed filters, trained bias) - ReLU
    block(w1) - block(w2) - ... - global max pool - linear

    block(w) = conv3x3(w) - maxpool 2x2 - batchnorm - ReLU - conv3x3(w) - batchnorm - ReLU

Each block halves the map after its first convolution, so the second convolution, at
a quarter of the pixels, costs little. On 32x32 images: 31x31 after the whitening,
then 15, 7 and 3 pixels a side, and the global max pool of the last 3x3 map.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import numpy as np

from barenet.layers import (
    BatchNorm2d,
    ChannelsFirst,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    PatchWhitening,
    Relu,
)
from barenet.sequential import Sequential


def conv_block(
    in_channels: int, width: int, bn_momentum: float, dtype, rng: np.random.Generator
) -> list:
    """conv3x3 - maxpool 2x2 - batchnorm - ReLU - conv3x3 - batchnorm - ReLU."""
    return [
        Conv2d(in_channels, width, 3, 1, 1, dtype=dtype, seed=rng),
        MaxPool2d(2),
        BatchNorm2d(width, momentum=bn_momentum, dtype=dtype),
        Relu(),
        Conv2d(width, width, 3, 1, 1, dtype=dtype, seed=rng),
        BatchNorm2d(width, momentum=bn_momentum, dtype=dtype),
        Relu(),
    ]


def map_sizes(size: int, whitening_kernel: int, blocks: int) -> list[int]:
    """The side of the maps after the whitening and after each block's pool."""
    sizes = [size - whitening_kernel + 1]
    for _ in range(blocks):
        sizes.append(sizes[-1] // 2)
    return sizes


class WhitenedConvNet(Sequential):
    """Patch whitening, then ``len(widths)`` conv blocks, a global max pool and a linear layer.

    Takes batches of images ``(N, H, W, C)`` as the data pipeline gives them (channels
    last; inside, the layers see ``(N, C, H, W)``) and returns logits ``(N, classes)``.
    Call :meth:`fit_whitening` on training images before training.

    Parameters
    ----------
    input_shape : (int, int, int)
        ``(H, W, C)`` of one image; square (H = W).
    widths : sequence of int
        Channels of each block. Each block halves the map: 32x32 images take up to
        three blocks (31 -> 15 -> 7 -> 3), 8x8 ones two (7 -> 3 -> 1).
    num_classes : int
    whitening_kernel : int
        Side of the whitening patches; the whitening gives ``2 * C * k * k`` channels.
    whitening_epsilon : float
        See :func:`barenet.layers.patch_whitening_filters`.
    bn_momentum : float
        Batch norm's running-statistics momentum (PyTorch's meaning).
    dtype : numpy dtype
    seed : int or numpy.random.Generator, optional
        Seeds the convolutions' and the linear layer's weights.
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (32, 32, 3),
        widths: Sequence[int] = (32, 64, 128),
        num_classes: int = 10,
        whitening_kernel: int = 2,
        whitening_epsilon: float = 5e-4,
        bn_momentum: float = 0.1,
        dtype: type = np.float32,
        seed: int | np.random.Generator | None = None,
    ):
        h, w, c = (int(v) for v in input_shape)
        widths = [int(v) for v in widths]
        if h != w:
            raise ValueError(f"WhitenedConvNet: input_shape must be square; got {(h, w, c)}")
        if not widths or min(widths) < 1:
            raise ValueError(f"WhitenedConvNet: widths must be one or more ints >= 1; got {widths}")
        sizes = map_sizes(h, whitening_kernel, len(widths))
        if min(sizes) < 1:
            raise ValueError(
                f"WhitenedConvNet: {h}x{w} images are too small for {len(widths)} blocks: "
                f"the maps would be {sizes} pixels a side; give fewer widths"
            )
        rng = np.random.default_rng(seed)
        whitening = PatchWhitening(c, whitening_kernel, whitening_epsilon, dtype=dtype)
        layers: list = [ChannelsFirst(), whitening, Relu()]
        channels = whitening.out_channels
        for width in widths:
            layers += conv_block(channels, width, bn_momentum, dtype, rng)
            channels = width
        layers += [
            MaxPool2d(sizes[-1]),  # global max pool: (N, C, s, s) -> (N, C, 1, 1)
            Flatten(),
            Linear(channels, num_classes, std="xavier", dtype=dtype, seed=rng),
        ]
        super().__init__(*layers)
        self.whitening = whitening
        self.settings = {
            "input_shape": [h, w, c],
            "widths": widths,
            "num_classes": int(num_classes),
            "whitening_kernel": int(whitening_kernel),
            "whitening_epsilon": float(whitening_epsilon),
            "bn_momentum": float(bn_momentum),
            "dtype": np.dtype(dtype).name,
        }

    @property
    def input_size(self) -> int:
        """Values per image, ``H * W * C``."""
        h, w, c = self.settings["input_shape"]
        return h * w * c

    @property
    def whitening_bias_key(self) -> str:
        """The whitening bias's key in :attr:`params` (``'b1'``)."""
        index = self.layers.index(self.whitening)
        return self.keys[index]["b"]

    def fit_whitening(self, images: np.ndarray) -> WhitenedConvNet:
        """Fit the whitening filters on training images ``(N, H, W, C)``, preprocessed as
        the network will see them; returns self."""
        images = np.asarray(images)
        if images.ndim != 4 or list(images.shape[1:]) != self.settings["input_shape"]:
            raise ValueError(
                f"fit_whitening: images must have shape (N, {', '.join(map(str, self.settings['input_shape']))}); "
                f"got {images.shape}"
            )
        self.whitening.fit(images.transpose(0, 3, 1, 2))
        return self

    def config(self) -> dict:
        return dict(self.settings)

    @classmethod
    def from_config(cls, config: dict) -> WhitenedConvNet:
        names = set(inspect.signature(cls.__init__).parameters) - {"self", "seed"}
        if not isinstance(config, dict) or not set(config) <= names:
            raise ValueError(f"not a WhitenedConvNet configuration: {config!r}")
        return cls(**config)
