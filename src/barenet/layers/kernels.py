"""The loops of the compiled pooling and normalisation passes, compiled by
:mod:`barenet.layers.compiled` with numba (``parallel=True``, one thread per core).

Each loop is one pass over memory that the NumPy function forms make in several:
max pooling reads each input element once and writes the output and the window
argmax in the same pass; a normalisation is a statistics pass (two for the variance)
and one pass that normalises, scales and shifts. The backward passes recompute
``xhat = (x - mean) * inv_std`` from ``x`` instead of reading a cached ``xhat``: the
forward pass then writes nothing but its output.

Arrays arrive C-contiguous, in one of two canonical shapes that cover both memory
orders of an ``(N, C, H, W)`` map (see :func:`barenet.layers.compiled.channel_view`):

* pooling: ``(A, H, W, C)`` -- channels-last ``(N, H, W, C)``, or a contiguous NCHW
  map as ``(N * C, H, W, 1)``;
* normalisation: ``(N, A, C, B)`` -- channels-last as ``(N, H * W, C, 1)``, NCHW as
  ``(N, 1, C, H * W)``, features ``(N, D)`` as ``(N, 1, D, 1)``.

So each loop has one compiled version per dtype (float32, float64) whatever the
memory order. Element arithmetic is in the input's dtype, in the order the NumPy
reference does it (no fast-math: no reassociation, no fused multiply-add), so where
the statistics agree the outputs agree bit for bit. Sums are accumulated in float64,
which the reference does not do: a float32 running sum over 2^18 values (one channel
of a 256-image batch at 32x32) loses about 2^18 * 2^-24 of its value in the last terms,
while a float64 one stays far below float32 rounding, and the variance is a second pass
over ``x - mean`` (not ``E[x^2] - mean^2``, which cancels catastrophically when the
mean is large against the spread). Sums over a contiguous row use four float64
accumulators: without fast-math a single one is a chain of dependent additions, four
times slower.

``prange`` runs over samples (or row chunks), each writing only its own part of the
outputs: no atomics, and the result does not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import prange


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


def max_pool_backward_loop(dout, argmax, k, ones, dx):
    """Each window's gradient to its argmax: ``dx`` (A, H, W, C) gets ``dout * (argmax ==
    index)`` (as the reference, so a non-finite ``dout`` gives NaN in the other entries).

    ``dout``, ``argmax`` (A, Ho, Wo, C); ``ones`` is ``[0, 1]`` in dx's dtype (a lookup, not
    a branch: the argmax of random data mispredicts it). Rows and
    columns past ``Ho * k``, ``Wo * k`` are not written.
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


def channel_sums_loop(x, center, square, sums):
    """``sums[n, c]`` (float64) = the sum over ``a, b`` of ``x[n, a, c, b] - center[n, c]``,
    or of its square with ``square``; the difference is rounded to x's dtype first."""
    n_n, a_n, c_n, b_n = x.shape
    for n in prange(n_n):
        for c in range(c_n):
            sums[n, c] = 0.0
        if b_n == 1:  # channels contiguous: vectors of channels
            for a in range(a_n):
                if square:
                    for c in range(c_n):
                        d = np.float64(x[n, a, c, 0] - center[n, c])
                        sums[n, c] += d * d
                else:
                    for c in range(c_n):
                        sums[n, c] += np.float64(x[n, a, c, 0] - center[n, c])
            continue
        for c in range(c_n):  # each channel's map contiguous: a row sum
            m = center[n, c]
            s0 = s1 = s2 = s3 = 0.0
            for a in range(a_n):
                end = b_n - b_n % 4
                for b in range(0, end, 4):
                    d0 = np.float64(x[n, a, c, b] - m)
                    d1 = np.float64(x[n, a, c, b + 1] - m)
                    d2 = np.float64(x[n, a, c, b + 2] - m)
                    d3 = np.float64(x[n, a, c, b + 3] - m)
                    if square:
                        d0, d1, d2, d3 = d0 * d0, d1 * d1, d2 * d2, d3 * d3
                    s0 += d0
                    s1 += d1
                    s2 += d2
                    s3 += d3
                for b in range(end, b_n):
                    d0 = np.float64(x[n, a, c, b] - m)
                    s0 += d0 * d0 if square else d0
            sums[n, c] = (s0 + s1) + (s2 + s3)


def normalize_loop(x, mean, inv_std, gamma, beta, out):
    """``out = ((x - mean) * inv_std) * gamma + beta``, each operation rounded as NumPy does.

    ``x``, ``out`` (N, A, C, B); ``mean``, ``inv_std`` (N, C); ``gamma``, ``beta`` (C,).
    """
    n_n, a_n, c_n, b_n = x.shape
    for n in prange(n_n):
        if b_n == 1:
            for a in range(a_n):
                for c in range(c_n):
                    xhat = (x[n, a, c, 0] - mean[n, c]) * inv_std[n, c]
                    out[n, a, c, 0] = xhat * gamma[c] + beta[c]
            continue
        for a in range(a_n):
            for c in range(c_n):
                m, s, g, t = mean[n, c], inv_std[n, c], gamma[c], beta[c]
                for b in range(b_n):
                    out[n, a, c, b] = ((x[n, a, c, b] - m) * s) * g + t


def grad_sums_loop(dout, x, mean, inv_std, sum_dout, sum_dout_xhat):
    """Per ``(n, c)``, over ``a, b`` (float64): the sums of ``dout`` and of ``dout * xhat``,
    ``xhat = (x - mean) * inv_std`` rounded to x's dtype (the value the forward pass used).

    ``dout``, ``x`` (N, A, C, B); ``mean``, ``inv_std`` (N, C); the sums (N, C) are written.
    """
    n_n, a_n, c_n, b_n = x.shape
    for n in prange(n_n):
        for c in range(c_n):
            sum_dout[n, c] = 0.0
            sum_dout_xhat[n, c] = 0.0
        if b_n == 1:
            for a in range(a_n):
                for c in range(c_n):
                    g = np.float64(dout[n, a, c, 0])
                    xhat = (x[n, a, c, 0] - mean[n, c]) * inv_std[n, c]
                    sum_dout[n, c] += g
                    sum_dout_xhat[n, c] += g * np.float64(xhat)
            continue
        for c in range(c_n):
            m, s = mean[n, c], inv_std[n, c]
            s0 = s1 = t0 = t1 = 0.0
            for a in range(a_n):
                end = b_n - b_n % 2
                for b in range(0, end, 2):
                    g0, g1 = np.float64(dout[n, a, c, b]), np.float64(dout[n, a, c, b + 1])
                    s0 += g0
                    s1 += g1
                    t0 += g0 * np.float64((x[n, a, c, b] - m) * s)
                    t1 += g1 * np.float64((x[n, a, c, b + 1] - m) * s)
                for b in range(end, b_n):
                    g0 = np.float64(dout[n, a, c, b])
                    s0 += g0
                    t0 += g0 * np.float64((x[n, a, c, b] - m) * s)
            sum_dout[n, c] = s0 + s1
            sum_dout_xhat[n, c] = t0 + t1


def normalize_backward_loop(dout, x, mean, inv_std, g, mean_dy, mean_dy_xhat, scale, dx):
    """``dx = ((dout * g - mean_dy) - xhat * mean_dy_xhat) * scale``, in x's dtype, the
    closed-form backward of a normalisation (batch norm: ``g = 1``, ``scale = gamma *
    inv_std``; group and layer norm: ``g = gamma``, ``scale = inv_std``).

    ``dout``, ``x``, ``dx`` (N, A, C, B); ``mean``, ``inv_std``, ``mean_dy``,
    ``mean_dy_xhat``, ``scale`` (N, C); ``g`` (C,).
    """
    n_n, a_n, c_n, b_n = x.shape
    for n in prange(n_n):
        if b_n == 1:
            for a in range(a_n):
                for c in range(c_n):
                    xhat = (x[n, a, c, 0] - mean[n, c]) * inv_std[n, c]
                    v = dout[n, a, c, 0] * g[c] - mean_dy[n, c]
                    dx[n, a, c, 0] = (v - xhat * mean_dy_xhat[n, c]) * scale[n, c]
            continue
        for a in range(a_n):
            for c in range(c_n):
                m, s, gc = mean[n, c], inv_std[n, c], g[c]
                p, q, r = mean_dy[n, c], mean_dy_xhat[n, c], scale[n, c]
                for b in range(b_n):
                    xhat = (x[n, a, c, b] - m) * s
                    dx[n, a, c, b] = ((dout[n, a, c, b] * gc - p) - xhat * q) * r


def layernorm_loop(x, gamma, beta, one, eps, out, mean, inv_std):
    """Layer norm of each row of ``x`` (N, D): ``mean``, ``inv_std`` (N,) of x's dtype and
    ``out`` (N, D) are written. ``one``, ``eps``: scalars of x's dtype."""
    n_n, d_n = x.shape
    end = d_n - d_n % 4
    for n in prange(n_n):
        s0 = s1 = s2 = s3 = 0.0
        for d in range(0, end, 4):
            s0 += np.float64(x[n, d])
            s1 += np.float64(x[n, d + 1])
            s2 += np.float64(x[n, d + 2])
            s3 += np.float64(x[n, d + 3])
        for d in range(end, d_n):
            s0 += np.float64(x[n, d])
        mean[n] = ((s0 + s1) + (s2 + s3)) / d_n  # rounded to x's dtype, as the reference's
        m = mean[n]
        s0 = s1 = s2 = s3 = 0.0
        for d in range(0, end, 4):
            e0, e1 = np.float64(x[n, d] - m), np.float64(x[n, d + 1] - m)
            e2, e3 = np.float64(x[n, d + 2] - m), np.float64(x[n, d + 3] - m)
            s0 += e0 * e0
            s1 += e1 * e1
            s2 += e2 * e2
            s3 += e3 * e3
        for d in range(end, d_n):
            e0 = np.float64(x[n, d] - m)
            s0 += e0 * e0
        inv_std[n] = ((s0 + s1) + (s2 + s3)) / d_n  # the variance, in x's dtype
        s = one / np.sqrt(inv_std[n] + eps)
        inv_std[n] = s
        for d in range(d_n):
            out[n, d] = ((x[n, d] - m) * s) * gamma[d] + beta[d]


def layernorm_backward_loop(dout, x, mean, inv_std, gamma, row_means, dx, dgamma, dbeta):
    """Backward of :func:`layernorm_loop` over row chunks.

    ``dout``, ``x``, ``dx`` (N, D); ``mean``, ``inv_std`` (N,); ``gamma`` (D,);
    ``row_means`` (N, 2) of x's dtype, scratch for the two row means of the closed form;
    ``dgamma``, ``dbeta`` (P, D) float64: chunk ``p`` of the rows adds its column sums
    to row ``p``, the caller sums the ``P`` rows.
    """
    n_n, d_n = x.shape
    parts = dgamma.shape[0]
    for p in prange(parts):
        for d in range(d_n):
            dgamma[p, d] = 0.0
            dbeta[p, d] = 0.0
        for n in range(p * n_n // parts, (p + 1) * n_n // parts):
            m, s = mean[n], inv_std[n]
            sa0 = sa1 = sb0 = sb1 = 0.0
            end = d_n - d_n % 2
            for d in range(0, end, 2):
                g0, g1 = dout[n, d], dout[n, d + 1]
                xh0, xh1 = (x[n, d] - m) * s, (x[n, d + 1] - m) * s
                dbeta[p, d] += g0
                dbeta[p, d + 1] += g1
                dgamma[p, d] += np.float64(g0 * xh0)
                dgamma[p, d + 1] += np.float64(g1 * xh1)
                y0, y1 = g0 * gamma[d], g1 * gamma[d + 1]
                sa0 += y0
                sa1 += y1
                sb0 += np.float64(y0 * xh0)
                sb1 += np.float64(y1 * xh1)
            for d in range(end, d_n):
                g0 = dout[n, d]
                xh0 = (x[n, d] - m) * s
                dbeta[p, d] += g0
                dgamma[p, d] += np.float64(g0 * xh0)
                y0 = g0 * gamma[d]
                sa0 += y0
                sb0 += np.float64(y0 * xh0)
            row_means[n, 0] = (sa0 + sa1) / d_n
            row_means[n, 1] = (sb0 + sb1) / d_n
            ma, mb = row_means[n, 0], row_means[n, 1]
            for d in range(d_n):
                xh0 = (x[n, d] - m) * s
                dx[n, d] = ((dout[n, d] * gamma[d] - ma) - xh0 * mb) * s
