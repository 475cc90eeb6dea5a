"""The classic mistakes of the convolution layer, as ``(wrong value, sentence)`` pairs.

A kernel flipped, padding left out or put on the wrong axes, an output one pixel too
small for a stride, ``dw`` or ``db`` summed over the wrong axes. Each candidate is the
value that mistake gives on the test's inputs (:mod:`.layer_references` computes the
right ones); :func:`barenet.grading.definitions.diagnoses.first_match` picks the one
the learner's array equals.
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions.layer_references import conv_grads, conv_out, conv_windows

FLIPPED = (
    "out is a convolution with the kernel flipped (true convolution): conv_forward is a "
    "cross-correlation, out[n, f, i, j] = sum(x_padded[n, :, i*s : i*s + HH, j*s : j*s + WW] "
    "* w[f]) + b[f], with w used as it is (no w[:, :, ::-1, ::-1])."
)
NOT_PADDED = (
    "the input is not padded: pad H and W by conv_param['pad'] zeros on each side first, "
    "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))."
)
ROWS_ONLY = (
    "only the rows (H) are padded: pad the columns (W) too, "
    "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))."
)
COLUMNS_ONLY = (
    "only the columns (W) are padded: pad the rows (H) too, "
    "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))."
)
EVERY_AXIS = (
    "x is padded on every axis (np.pad(x, pad) pads N and C too): pad only H and W, "
    "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))."
)
STRIDE_IGNORED = (
    "the stride is ignored (out is the stride-1 convolution): step the window by "
    "conv_param['stride'], rows i*stride and columns j*stride."
)
SIZE_TOO_SMALL = (
    "the output is one row and column too small: Ho = 1 + (H + 2 * pad - HH) // stride "
    "(the 1 + counts the first window), and likewise Wo; padding only before the image, "
    "not after it, gives the same output (pad both sides)."
)
SIZE_TOO_LARGE = (
    "the output is one row and column too large: Ho = 1 + (H + 2 * pad - HH) // stride, "
    "with integer division, and likewise Wo."
)
NO_BIAS = "the bias is missing: add b[f] to every output pixel of filter f."
DX_FLIPPED = (
    "dx uses the kernel the wrong way round: dx scatters dout[n, f, i, j] * w[f] back onto "
    "the window it came from (or is the full convolution of dout with the flipped kernel)."
)
DX_PADDED = (
    "dx keeps the padding (shape of the padded input): crop it, "
    "dx = dx_padded[:, :, pad : pad + H, pad : pad + W]."
)
DW_FLIPPED = "dw is flipped in space: dw[f, c, i, j] = sum over n, i', j' of dout * the window's x."
DW_NOT_OVER_BATCH = (
    "dw is not summed over the batch (shape (N, F, C, HH, WW)): sum the images' "
    "contributions, dw = sum over n and the output pixels."
)
DW_OVER_FILTERS = (
    "dw is summed over the filters instead of the images: dw[f] = sum over n and the "
    "output pixels of dout[n, f, i, j] * window, shape (F, C, HH, WW)."
)
DW_TRANSPOSED = "dw has its first two axes swapped: w and dw have shape (F, C, HH, WW)."
DB_NOT_OVER_SPACE = (
    "db is not summed over space: each filter's bias reaches every output pixel, so "
    "db = dout.sum(axis=(0, 2, 3)), shape (F,)."
)
DB_NOT_OVER_BATCH = "db is not summed over the batch: db = dout.sum(axis=(0, 2, 3))."
DB_SPATIAL_MEAN = (
    "db averages over the output pixels: the bias is added at every pixel, so its "
    "gradient is the sum, dout.sum(axis=(0, 2, 3))."
)


def pad_axes(x: np.ndarray, rows: tuple, cols: tuple) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), rows, cols))


def forward_mistakes(x, w, b, stride: int, pad: int) -> list[tuple[np.ndarray, str]]:
    """Wrong outputs of conv_forward."""
    right = conv_out(x, w, b, stride, pad)
    mistakes = [(conv_out(x, w[:, :, ::-1, ::-1], b, stride, pad), FLIPPED)]
    if pad:
        mistakes += [
            (conv_out(x, w, b, stride, 0), NOT_PADDED),
            (conv_out(pad_axes(x, (pad, pad), (0, 0)), w, b, stride, 0), ROWS_ONLY),
            (conv_out(pad_axes(x, (0, 0), (pad, pad)), w, b, stride, 0), COLUMNS_ONLY),
        ]
    if stride > 1:
        mistakes.append((conv_out(x, w, b, 1, pad), STRIDE_IGNORED))
    mistakes += [(right[:, :, :-1, :-1], SIZE_TOO_SMALL), (right - b[None, :, None, None], NO_BIAS)]
    return mistakes


def shape_mistake(measured: np.ndarray, x: np.ndarray, right: np.ndarray, pad: int) -> str | None:
    """A wrong output shape that says what went wrong: padded N and C, or one too large."""
    n, f, ho, wo = right.shape
    if measured.ndim == 4 and pad and measured.shape[0] == n + 2 * pad:
        return EVERY_AXIS
    if measured.shape == (n, f, ho + 1, wo + 1):
        return SIZE_TOO_LARGE
    return None


def gradient_mistakes(
    which: str, x, w, dout, stride: int, pad: int
) -> list[tuple[np.ndarray, str]]:
    """Wrong dx, dw or db of conv_backward."""
    if which == "dx":
        padded = conv_grads(pad_axes(x, (pad, pad), (pad, pad)), w, dout, stride, 0)["dx"]
        flipped = conv_grads(x, w[:, :, ::-1, ::-1], dout, stride, pad)["dx"]
        return [(flipped, DX_FLIPPED), (padded, DX_PADDED)]
    if which == "dw":
        windows = conv_windows(x, w.shape[2:], stride, pad)
        dw = conv_grads(x, w, dout, stride, pad)["dw"]
        return [
            (dw[:, :, ::-1, ::-1], DW_FLIPPED),
            (np.einsum("nchwij,nfhw->nfcij", windows, dout), DW_NOT_OVER_BATCH),
            (np.einsum("nchwij,nfhw->ncij", windows, dout), DW_OVER_FILTERS),
            (dw.transpose(1, 0, 2, 3), DW_TRANSPOSED),
        ]
    ho, wo = dout.shape[2:]
    return [
        (dout.sum(axis=0), DB_NOT_OVER_SPACE),
        (dout.sum(axis=(0, 2)), DB_NOT_OVER_SPACE),
        (dout.sum(axis=(0, 3)), DB_NOT_OVER_SPACE),
        (dout.sum(axis=(2, 3)), DB_NOT_OVER_BATCH),
        (dout.sum(axis=(0, 2, 3)) / (ho * wo), DB_SPATIAL_MEAN),
    ]
