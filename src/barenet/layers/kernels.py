"""The loops of the compiled pooling and normalisation passes (numba), imported by
:mod:`barenet.layers.compiled` the first time a layer needs them.

Each loop is one pass over memory that the NumPy function forms make in several, run
in parallel over samples (``prange``; one thread per core). Max pooling reads each input
element once and writes the output and the window argmax in the same pass. Batch norm
is a statistics pass and a normalising pass forward, a pass of sums and one for ``dx``
backward. Group and layer norm are one pass each way: the statistics are per sample,
so a thread normalises a sample right after summing it, while it is still in cache.
The backward passes recompute ``xhat = (x - mean) * inv_std`` from ``x``, so the forward
pass writes nothing but its output.

Arrays arrive C-contiguous, in one of two canonical shapes that cover both memory
orders of an ``(N, C, H, W)`` map (see :mod:`barenet.layers.compiled`):

* pooling: ``(A, H, W, C)``: channels-last ``(N, H, W, C)``, or NCHW as ``(N * C, H, W, 1)``;
* normalisation: ``(N, A, C, B)``: channels-last ``(N, H * W, C, 1)``, NCHW ``(N, 1, C,
  H * W)``, features ``(N, D)`` as ``(N, 1, D, 1)``.

So each loop has one compiled version per dtype (float32, float64) whatever the memory
order. The elementwise arithmetic of the outputs is in the input's dtype and in the
order of the NumPy reference (no fast-math: no reassociation, no fused multiply-add),
so where the statistics agree the outputs agree bit for bit. Sums are accumulated in
float64, which the reference does not do: a float32 running sum over 2^18 values (one
channel of a 256-image batch at 32x32) would lose about 2^18 * 2^-24 of its value,
while a float64 one stays far below float32 rounding. Variances are never ``E[x^2] -
mean^2`` of raw values, which cancels catastrophically where the mean is large against
the spread: each sum is of values shifted by one of them (the first of the row, or of
the sample's channel), and the parts are combined exactly (see
:func:`barenet.layers.compiled.combine_moments`). The sums alone are compiled to be
added in any order (see ``summing`` below), so that they run in vector lanes.

Each parallel iteration writes only its own part of the outputs: no atomics, and the
results do not depend on the number of threads.
"""

from __future__ import annotations

import functools
import os
import threading

import numba
import numpy as np
from numba import prange

# The threads of numba's default layer (OpenMP) spin for a while after each parallel
# loop, and so do OpenBLAS's after each matrix product. In a training step, where the
# two alternate, each waits for a core that the other's idle threads hold: a CIFAR-10
# WhitenedConvNet step (batch 256, 2 cores) took about 500 ms with OpenMP threads, 390
# ms with numba's workqueue layer, whose threads sleep when idle, and 400 ms with one
# thread. GNU OpenMP is also not fork-safe (the tuning workers fork); the workqueue is.
# It runs one parallel loop at a time, so launches are serialised (LAUNCH below). A
# layer chosen with NUMBA_THREADING_LAYER is kept.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

#: Held while a parallel loop runs: two Python threads must not launch at once.
LAUNCH = threading.Lock()


def _compiler(**options):
    """``numba.njit(**options)``, cached on disk where a cache location is writable."""

    def compile_(f):
        try:
            return numba.njit(cache=True, **options)(f)
        except RuntimeError:  # no writable cache location: compile in every process
            return numba.njit(**options)(f)

    return compile_


def loop(f):
    """A parallel loop (``prange`` over samples), launched under :data:`LAUNCH`."""
    compiled = _compiler(parallel=True, fastmath=False, error_model="numpy")(f)

    @functools.wraps(f)
    def launch(*args):
        with LAUNCH:
            return compiled(*args)

    launch.compiled = compiled
    return launch


helper = _compiler(fastmath=False, error_model="numpy")  # called inside a loop's thread
# The float64 sums, and only they, may be added in any order ("reassoc", no other
# fast-math flag: NaN and inf keep their meaning, no fused multiply-add): that is what
# lets LLVM run a sum in vector lanes; in strict order it is a chain of dependent
# additions (measured: a row's two sums of layer norm's backward 7x slower). The order
# of a float64 sum of float32 terms changes nothing once it is rounded to float32.
summing = _compiler(fastmath={"reassoc"}, error_model="numpy")
# Per-channel sums over channels-last positions run in the input's dtype over blocks of
# this many positions, then in float64: twice the vector width of float64 sums (1.45x
# faster, measured), and a block's sum of 16 terms rounds no worse than the 16 terms per
# lane of NumPy's pairwise summation. (A row's sum has no such blocks: in vector lanes
# it already runs at memory speed.)
BLOCK = 16


@loop
def max_pool_loop(x, k, out, argmax):
    """Max pool of ``k x k`` windows with stride ``k``; the first maximum wins a tie.

    ``x`` (A, H, W, C); ``out`` (A, Ho, Wo, C) of x's dtype and ``argmax`` (A, Ho, Wo, C)
    uint8 (row-major index in the window) are written. A NaN in a window propagates to
    ``out`` (as ``np.maximum`` does) without moving ``argmax``.
    """
    a_n, ho, wo, c_n = out.shape
    for a in prange(a_n):
        for i in range(ho):
            if c_n == 1:  # NCHW memory: the window in registers, one output at a time
                for j in range(wo):
                    best = x[a, i * k, j * k, 0]
                    arg = 0
                    for di in range(k):
                        for dj in range(k):
                            v = x[a, i * k + di, j * k + dj, 0]
                            larger = v > best  # selects, not branches: random data
                            arg = di * k + dj if larger else arg  # mispredicts them
                            best = v if larger | (v != v) else best
                    out[a, i, j, 0] = best
                    argmax[a, i, j, 0] = arg
                continue
            for j in range(wo):  # channels-last: vectors of channels
                for c in range(c_n):
                    out[a, i, j, c] = x[a, i * k, j * k, c]
                    argmax[a, i, j, c] = 0
                for di in range(k):
                    for dj in range(k):
                        index = di * k + dj
                        for c in range(c_n):
                            v = x[a, i * k + di, j * k + dj, c]
                            best = out[a, i, j, c]
                            if v > best:
                                out[a, i, j, c] = v
                                argmax[a, i, j, c] = index
                            elif v != v:
                                out[a, i, j, c] = v


@loop
def max_pool_backward_loop(dout, argmax, k, ones, dx):
    """Each window's gradient to its argmax: ``dx`` (A, H, W, C) gets ``dout * (argmax ==
    index)`` (as the reference, so a non-finite ``dout`` gives NaN in the other entries).

    ``dout``, ``argmax`` (A, Ho, Wo, C); ``ones`` is ``[0, 1]`` in dx's dtype (a lookup, not
    a branch: the argmax of random data mispredicts it). Rows and columns past
    ``Ho * k``, ``Wo * k`` are not written.
    """
    a_n, ho, wo, c_n = dout.shape
    for a in prange(a_n):
        for i in range(ho):
            for di in range(k):
                if c_n == 1:  # NCHW memory: along the row
                    for j in range(wo):
                        g, arg = dout[a, i, j, 0], argmax[a, i, j, 0]
                        for dj in range(k):
                            dx[a, i * k + di, j * k + dj, 0] = g * ones[int(arg == di * k + dj)]
                    continue
                for j in range(wo):
                    for dj in range(k):
                        index = di * k + dj
                        for c in range(c_n):
                            hit = ones[int(argmax[a, i, j, c] == index)]
                            dx[a, i * k + di, j * k + dj, c] = dout[a, i, j, c] * hit


@helper
def group_means(sums, weights, count, means, expanded):
    """Per group of ``C // G`` channels (``G = means.size``): the sum of ``sums[c] *
    weights[c]`` over its channels, divided by ``count``, into ``means[g]`` (rounded to
    its dtype), and that value into each of its channels in ``expanded`` (C,)."""
    c_n, g_n = sums.size, means.size
    per = c_n // g_n
    for g in range(g_n):
        start, end = g * per, g * per + per - per % 4
        s0 = s1 = s2 = s3 = 0.0
        for c in range(start, end, 4):
            s0 += sums[c] * weights[c]
            s1 += sums[c + 1] * weights[c + 1]
            s2 += sums[c + 2] * weights[c + 2]
            s3 += sums[c + 3] * weights[c + 3]
        for c in range(end, start + per):
            s0 += sums[c] * weights[c]
        means[g] = ((s0 + s1) + (s2 + s3)) / count
        for c in range(start, start + per):
            expanded[c] = means[g]


@helper
def normalize_sample(x, n, mean, inv_std, gamma, beta, out):
    """``out[n] = ((x[n] - mean) * inv_std) * gamma + beta``, all four (C,) per channel."""
    _, a_n, c_n, b_n = x.shape
    if b_n == 1:
        for a in range(a_n):
            for c in range(c_n):
                out[n, a, c, 0] = ((x[n, a, c, 0] - mean[c]) * inv_std[c]) * gamma[c] + beta[c]
        return
    for a in range(a_n):
        for c in range(c_n):
            m, s, g, t = mean[c], inv_std[c], gamma[c], beta[c]
            for b in range(b_n):
                out[n, a, c, b] = ((x[n, a, c, b] - m) * s) * g + t


@summing
def sample_grad_sums(dout, x, n, mean, inv_std, sum_dout, sum_dout_xhat):
    """Per channel, over ``a, b`` of sample ``n`` (float64, (C,) each): the sums of ``dout``
    and of ``dout * xhat``, ``xhat = (x - mean) * inv_std`` as the forward pass's."""
    _, a_n, c_n, b_n = x.shape
    sum_dout[:] = 0.0
    sum_dout_xhat[:] = 0.0
    if b_n == 1:  # channels contiguous: vectors of channels, summed in blocks
        s1, s2 = np.empty_like(mean), np.empty_like(mean)
        for start in range(0, a_n, BLOCK):
            s1[:] = 0
            s2[:] = 0
            for a in range(start, min(start + BLOCK, a_n)):
                for c in range(c_n):
                    g = dout[n, a, c, 0]
                    s1[c] += g
                    s2[c] += g * ((x[n, a, c, 0] - mean[c]) * inv_std[c])
            for c in range(c_n):
                sum_dout[c] += s1[c]
                sum_dout_xhat[c] += s2[c]
        return
    for c in range(c_n):
        m, s, s1, s2 = mean[c], inv_std[c], 0.0, 0.0
        for a in range(a_n):
            for b in range(b_n):
                g = dout[n, a, c, b]
                s1 += np.float64(g)
                s2 += np.float64(g * ((x[n, a, c, b] - m) * s))
        sum_dout[c] = s1
        sum_dout_xhat[c] = s2


@helper
def normalize_backward_sample(dout, x, n, mean, inv_std, g, mean_dy, mean_dy_xhat, scale, dx):
    """``dx[n] = ((dout[n] * g - mean_dy) - xhat * mean_dy_xhat) * scale``, all (C,) per
    channel: the closed-form backward of a normalisation (batch norm: ``g = 1``, ``scale
    = gamma * inv_std``; group and layer norm: ``g = gamma``, ``scale = inv_std``)."""
    _, a_n, c_n, b_n = x.shape
    if b_n == 1:
        for a in range(a_n):
            for c in range(c_n):
                xhat = (x[n, a, c, 0] - mean[c]) * inv_std[c]
                v = dout[n, a, c, 0] * g[c] - mean_dy[c]
                dx[n, a, c, 0] = (v - xhat * mean_dy_xhat[c]) * scale[c]
        return
    for a in range(a_n):
        for c in range(c_n):
            m, s, gc = mean[c], inv_std[c], g[c]
            p, q, r = mean_dy[c], mean_dy_xhat[c], scale[c]
            for b in range(b_n):
                xhat = (x[n, a, c, b] - m) * s
                dx[n, a, c, b] = ((dout[n, a, c, b] * gc - p) - xhat * q) * r


@summing
def sample_moments(x, n, shift, sums, squares):
    """Per channel, over ``a, b`` of sample ``n`` (float64, (C,) each): the sums of ``x -
    shift[c]`` and of its square (in blocks of x's dtype for channels-last memory, see
    ``BLOCK``; exact in float64 along rows). With ``shift`` one of the channel's values,
    the squares sum to at most the count times the variance, so the variance from them
    loses at most log2(count) bits to cancellation."""
    _, a_n, c_n, b_n = x.shape
    sums[:] = 0.0
    squares[:] = 0.0
    if b_n == 1:  # channels contiguous: vectors of channels, summed in blocks
        row = x[n, 0, :, 0]
        k, s1, s2 = np.empty_like(row), np.empty_like(row), np.empty_like(row)
        for c in range(c_n):
            k[c] = shift[c]
        for start in range(0, a_n, BLOCK):
            s1[:] = 0
            s2[:] = 0
            for a in range(start, min(start + BLOCK, a_n)):
                for c in range(c_n):
                    d = x[n, a, c, 0] - k[c]
                    s1[c] += d
                    s2[c] += d * d
            for c in range(c_n):
                sums[c] += s1[c]
                squares[c] += s2[c]
        return
    for c in range(c_n):  # each channel's map contiguous: row sums
        k, s1, s2 = shift[c], 0.0, 0.0
        for a in range(a_n):
            for b in range(b_n):
                d = np.float64(x[n, a, c, b]) - k
                s1 += d
                s2 += d * d
        sums[c] = s1
        squares[c] = s2


@loop
def moments_loop(x, shift, sums, squares):
    """:func:`sample_moments` of every sample: ``shift``, ``sums``, ``squares`` (N, C)
    float64, the latter two written."""
    for n in prange(x.shape[0]):
        sample_moments(x, n, shift[n], sums[n], squares[n])


@loop
def normalize_loop(x, mean, inv_std, gamma, beta, out):
    """``out = ((x - mean) * inv_std) * gamma + beta``; ``x``, ``out`` (N, A, C, B), the rest
    (C,) of x's dtype, rounded as NumPy does."""
    for n in prange(x.shape[0]):
        normalize_sample(x, n, mean, inv_std, gamma, beta, out)


@loop
def grad_sums_loop(dout, x, mean, inv_std, sum_dout, sum_dout_xhat):
    """Per ``(n, c)`` (float64, (N, C) each): the sums of ``dout`` and of ``dout * xhat``;
    ``mean``, ``inv_std`` (C,)."""
    for n in prange(x.shape[0]):
        sample_grad_sums(dout, x, n, mean, inv_std, sum_dout[n], sum_dout_xhat[n])


@loop
def normalize_backward_loop(dout, x, mean, inv_std, g, mean_dy, mean_dy_xhat, scale, dx):
    """:func:`normalize_backward_sample` for every sample; the per-channel arrays (C,)."""
    for n in prange(x.shape[0]):
        normalize_backward_sample(dout, x, n, mean, inv_std, g, mean_dy, mean_dy_xhat, scale, dx)


@loop
def group_norm_loop(x, gamma, beta, one, eps, out, mean, inv_std):
    """Group norm of each sample of ``x`` (N, A, C, B), its ``C`` channels in ``G`` groups
    of consecutive ones (``G = mean.shape[1]``). ``out`` (N, A, C, B) and each group's
    ``mean``, ``inv_std`` (N, G) of x's dtype are written; ``one``, ``eps`` are scalars
    of x's dtype. One sweep of shifted sums per sample (:func:`sample_moments`), the
    channels of a group combined as in :func:`barenet.layers.compiled.combine_moments`,
    then one sweep that normalises, while the sample is still in cache."""
    n_n, a_n, c_n, b_n = x.shape
    g_n = mean.shape[1]
    per, count = c_n // g_n, a_n * b_n  # channels per group, values per channel
    for n in prange(n_n):
        shift, sums, squares = np.empty(c_n), np.empty(c_n), np.empty(c_n)
        m_c, s_c = np.empty_like(gamma), np.empty_like(gamma)  # each channel's group's
        for c in range(c_n):
            shift[c] = x[n, 0, c, 0]
        sample_moments(x, n, shift, sums, squares)
        for g in range(g_n):
            total = 0.0
            for c in range(g * per, g * per + per):
                total += shift[c] + sums[c] / count
            group_mean = total / per
            m2 = 0.0
            for c in range(g * per, g * per + per):
                part_mean = sums[c] / count
                spread = shift[c] + part_mean - group_mean
                m2 += max(squares[c] - sums[c] * part_mean, 0.0) + count * spread * spread
            mean[n, g] = group_mean  # rounded to x's dtype, as the reference's
            inv_std[n, g] = m2 / (count * per)  # the variance, rounded likewise
            inv_std[n, g] = one / np.sqrt(inv_std[n, g] + eps)
            for c in range(g * per, g * per + per):
                m_c[c], s_c[c] = mean[n, g], inv_std[n, g]
        normalize_sample(x, n, m_c, s_c, gamma, beta, out)


@loop
def group_norm_backward_loop(dout, x, mean, inv_std, gamma, dx, dgamma, dbeta):
    """Backward of :func:`group_norm_loop` over ``P`` chunks of samples: ``dx`` is written,
    and chunk ``p`` adds its samples' per-channel sums of ``dout * xhat`` and ``dout``
    into ``dgamma[p]``, ``dbeta[p]`` (P, C) float64, which the caller sums."""
    n_n, a_n, c_n, b_n = x.shape
    g_n, parts = mean.shape[1], dgamma.shape[0]
    count = a_n * b_n * (c_n // g_n)
    for p in prange(parts):
        sum_dout, sum_dout_xhat = np.empty(c_n), np.empty(c_n)
        m_c, s_c = np.empty_like(gamma), np.empty_like(gamma)
        p_c, q_c = np.empty_like(gamma), np.empty_like(gamma)
        p_g, q_g = np.empty_like(mean[0]), np.empty_like(mean[0])
        dgamma[p] = 0.0
        dbeta[p] = 0.0
        for n in range(p * n_n // parts, (p + 1) * n_n // parts):
            for c in range(c_n):
                m_c[c] = mean[n, c // (c_n // g_n)]
                s_c[c] = inv_std[n, c // (c_n // g_n)]
            sample_grad_sums(dout, x, n, m_c, s_c, sum_dout, sum_dout_xhat)
            for c in range(c_n):
                dbeta[p, c] += sum_dout[c]
                dgamma[p, c] += sum_dout_xhat[c]
            # The group means of dxhat = dout * gamma and of dxhat * xhat.
            group_means(sum_dout, gamma, count, p_g, p_c)
            group_means(sum_dout_xhat, gamma, count, q_g, q_c)
            normalize_backward_sample(dout, x, n, m_c, s_c, gamma, p_c, q_c, s_c, dx)


@summing
def row_moments(x, n, k):
    """The sums of ``x[n] - k`` and of its square (float64) over the row ``x[n]``."""
    s1 = s2 = 0.0
    for d in range(x.shape[1]):
        e = np.float64(x[n, d]) - k
        s1 += e
        s2 += e * e
    return s1, s2


@summing
def row_grad_sums(dout, x, n, m, s, gamma):
    """The sums over the row ``n`` of ``dxhat = dout * gamma`` and of ``dxhat * xhat``,
    each term in x's dtype (as the reference's), the sums in float64."""
    s1 = s2 = 0.0
    for d in range(x.shape[1]):
        y = dout[n, d] * gamma[d]
        s1 += np.float64(y)
        s2 += np.float64(y * ((x[n, d] - m) * s))
    return s1, s2


@loop
def layernorm_loop(x, gamma, beta, one, eps, out, mean, inv_std):
    """Layer norm of each row of ``x`` (N, D): ``mean``, ``inv_std`` (N,) of x's dtype and
    ``out`` (N, D) are written; ``one``, ``eps``: scalars of x's dtype.

    The row's statistics come from one sweep of sums of ``x - x[n, 0]`` and of its
    square (float64): shifted by one of its values, the squares sum to at most ``D``
    times the variance, so ``E[d^2] - E[d]^2`` loses at most ``log2(D)`` bits of float64's
    53, far below the dtype's rounding; then one sweep writes ``out``.
    """
    n_n, d_n = x.shape
    for n in prange(n_n):
        k = np.float64(x[n, 0])
        s1, s2 = row_moments(x, n, k)
        shifted_mean = s1 / d_n
        mean[n] = k + shifted_mean  # rounded to x's dtype, as the reference's mean
        inv_std[n] = max(s2 / d_n - shifted_mean * shifted_mean, 0.0)
        m = mean[n]
        s = one / np.sqrt(inv_std[n] + eps)  # the variance, rounded to x's dtype, + eps
        inv_std[n] = s
        for d in range(d_n):
            out[n, d] = ((x[n, d] - m) * s) * gamma[d] + beta[d]


@loop
def layernorm_backward_loop(dout, x, mean, inv_std, gamma, row_means, dx, dgamma, dbeta):
    """Backward of :func:`layernorm_loop` over ``P`` chunks of rows.

    ``dout``, ``x``, ``dx`` (N, D); ``mean``, ``inv_std`` (N,); ``gamma`` (D,);
    ``row_means`` (N, 2) of x's dtype, scratch for the two row means of the closed form;
    ``dgamma``, ``dbeta`` (P, D) float64: chunk ``p`` adds its rows' columns into row
    ``p``, which the caller sums. Three sweeps over each row (in cache): the column sums
    (elementwise), the row sums (:func:`row_grad_sums`), ``dx``.
    """
    n_n, d_n = x.shape
    parts = dgamma.shape[0]
    for p in prange(parts):
        dgamma[p] = 0.0
        dbeta[p] = 0.0
        for n in range(p * n_n // parts, (p + 1) * n_n // parts):
            m, s = mean[n], inv_std[n]
            for d in range(d_n):
                g = dout[n, d]
                dbeta[p, d] += g
                dgamma[p, d] += g * ((x[n, d] - m) * s)
            sa, sb = row_grad_sums(dout, x, n, m, s, gamma)
            row_means[n, 0] = sa / d_n  # rounded to x's dtype, as the reference's means
            row_means[n, 1] = sb / d_n
            ma, mb = row_means[n, 0], row_means[n, 1]
            for d in range(d_n):
                dx[n, d] = ((dout[n, d] * gamma[d] - ma) - ((x[n, d] - m) * s) * mb) * s
