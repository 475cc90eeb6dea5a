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
order. Element arithmetic is in the input's dtype and in the order of the NumPy
reference (no fast-math: no reassociation, no fused multiply-add), so where the
statistics agree the outputs agree bit for bit. Sums are accumulated in float64, which
the reference does not do: a float32 running sum over 2^18 values (one channel of a
256-image batch at 32x32) would lose about 2^18 * 2^-24 of its value, while a float64
one stays far below float32 rounding. Variances are never ``E[x^2] - mean^2`` of raw
values, which cancels catastrophically where the mean is large against the spread:
group and layer norm sum ``(x - mean)^2`` in a second sweep over the cached sample;
batch norm, whose statistics span the batch, shifts each sample's values by one of
them before summing (then combines the samples exactly, see
:func:`barenet.layers.compiled.combine_moments`). Sums along a contiguous row use
several float64 accumulators: without fast-math a single one is a chain of dependent
additions, four times slower.

Each parallel iteration writes only its own part of the outputs: no atomics, and the
results do not depend on the number of threads.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange


def _compiler(**options):
    """``numba.njit(**options)``, cached on disk where a cache location is writable."""

    def compile_(f):
        try:
            return numba.njit(cache=True, **options)(f)
        except RuntimeError:  # no writable cache location: compile in every process
            return numba.njit(**options)(f)

    return compile_


loop = _compiler(parallel=True, fastmath=False, error_model="numpy")
helper = _compiler(fastmath=False, error_model="numpy")  # called inside a loop's thread


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


@helper
def sample_grad_sums(dout, x, n, mean, inv_std, sum_dout, sum_dout_xhat):
    """Per channel, over ``a, b`` of sample ``n`` (float64, (C,) each): the sums of ``dout``
    and of ``dout * xhat``, ``xhat = (x - mean) * inv_std`` rounded as the forward pass's."""
    _, a_n, c_n, b_n = x.shape
    sum_dout[:] = 0.0
    sum_dout_xhat[:] = 0.0
    if b_n == 1:
        for a in range(a_n):
            for c in range(c_n):
                g = dout[n, a, c, 0]
                sum_dout[c] += np.float64(g)
                sum_dout_xhat[c] += np.float64(g * ((x[n, a, c, 0] - mean[c]) * inv_std[c]))
        return
    end = b_n - b_n % 2
    for c in range(c_n):
        m, s = mean[c], inv_std[c]
        s0 = s1 = t0 = t1 = 0.0
        for a in range(a_n):
            for b in range(0, end, 2):
                g0, g1 = dout[n, a, c, b], dout[n, a, c, b + 1]
                s0 += np.float64(g0)
                s1 += np.float64(g1)
                t0 += np.float64(g0 * ((x[n, a, c, b] - m) * s))
                t1 += np.float64(g1 * ((x[n, a, c, b + 1] - m) * s))
            for b in range(end, b_n):
                g0 = dout[n, a, c, b]
                s0 += np.float64(g0)
                t0 += np.float64(g0 * ((x[n, a, c, b] - m) * s))
        sum_dout[c] = s0 + s1
        sum_dout_xhat[c] = t0 + t1


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


@helper
def sample_moments(x, n, shift, sums, squares):
    """Per channel, over ``a, b`` of sample ``n`` (float64, (C,) each): the sums of ``x -
    shift[c]`` and of its square, the difference exact in float64. With ``shift`` one of
    the channel's values, the squares sum to at most the count times the variance, so
    the variance from them loses at most log2(count) of float64's 53 bits."""
    _, a_n, c_n, b_n = x.shape
    sums[:] = 0.0
    squares[:] = 0.0
    if b_n == 1:  # channels contiguous: vectors of channels
        for a in range(a_n):
            for c in range(c_n):
                d = np.float64(x[n, a, c, 0]) - shift[c]
                sums[c] += d
                squares[c] += d * d
        return
    end = b_n - b_n % 2
    for c in range(c_n):  # each channel's map contiguous: row sums
        k = shift[c]
        s0 = s1 = q0 = q1 = 0.0
        for a in range(a_n):
            for b in range(0, end, 2):
                d0 = np.float64(x[n, a, c, b]) - k
                d1 = np.float64(x[n, a, c, b + 1]) - k
                s0 += d0
                s1 += d1
                q0 += d0 * d0
                q1 += d1 * d1
            for b in range(end, b_n):
                d0 = np.float64(x[n, a, c, b]) - k
                s0 += d0
                q0 += d0 * d0
        sums[c] = s0 + s1
        squares[c] = q0 + q1


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
    end = d_n - d_n % 4
    for n in prange(n_n):
        k = np.float64(x[n, 0])
        s0 = s1 = s2 = s3 = q0 = q1 = q2 = q3 = 0.0
        for d in range(0, end, 4):
            e0, e1 = np.float64(x[n, d]) - k, np.float64(x[n, d + 1]) - k
            e2, e3 = np.float64(x[n, d + 2]) - k, np.float64(x[n, d + 3]) - k
            s0 += e0
            s1 += e1
            s2 += e2
            s3 += e3
            q0 += e0 * e0
            q1 += e1 * e1
            q2 += e2 * e2
            q3 += e3 * e3
        for d in range(end, d_n):
            e0 = np.float64(x[n, d]) - k
            s0 += e0
            q0 += e0 * e0
        shifted_mean = ((s0 + s1) + (s2 + s3)) / d_n
        mean[n] = k + shifted_mean  # rounded to x's dtype, as the reference's mean
        inv_std[n] = max(((q0 + q1) + (q2 + q3)) / d_n - shifted_mean * shifted_mean, 0.0)
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
    (elementwise, vectorised), the row sums (in eight float64 lanes), ``dx``; measured
    1.5x faster than the first two in one sweep with scalar accumulators.
    """
    n_n, d_n = x.shape
    parts = dgamma.shape[0]
    end = d_n - d_n % 8
    for p in prange(parts):
        dgamma[p] = 0.0
        dbeta[p] = 0.0
        acc_a = np.zeros(8)
        acc_b = np.zeros(8)
        for n in range(p * n_n // parts, (p + 1) * n_n // parts):
            m, s = mean[n], inv_std[n]
            for d in range(d_n):
                g0 = dout[n, d]
                dbeta[p, d] += g0
                dgamma[p, d] += g0 * ((x[n, d] - m) * s)
            acc_a[:] = 0.0
            acc_b[:] = 0.0
            for d0 in range(0, end, 8):
                for j in range(8):
                    y = dout[n, d0 + j] * gamma[d0 + j]
                    acc_a[j] += y
                    acc_b[j] += y * ((x[n, d0 + j] - m) * s)
            for d in range(end, d_n):
                y = dout[n, d] * gamma[d]
                acc_a[0] += y
                acc_b[0] += y * ((x[n, d] - m) * s)
            row_means[n, 0] = acc_a.sum() / d_n
            row_means[n, 1] = acc_b.sum() / d_n
            ma, mb = row_means[n, 0], row_means[n, 1]
            for d in range(d_n):
                dx[n, d] = ((dout[n, d] * gamma[d] - ma) - ((x[n, d] - m) * s) * mb) * s
