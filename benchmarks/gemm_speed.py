"""The machine's float32 matrix-product (GEMM) speed, printed beside every time measured.

A time measured here means little without the machine's speed: the training step is
mostly matrix products, and the development machines' float32 products run at 120 to
200 GFLOP/s. Every benchmark prints this line first; the README quotes each time with
the GEMM speed of the machine it was measured on. Usage::

    python benchmarks/gemm_speed.py [--size 1024] [--seconds 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def blas_threads() -> str:
    """The thread count of NumPy's BLAS, as threadpoolctl sees it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "default"
    counts = {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    return ",".join(map(str, sorted(counts))) or "default"


def gemm_gflops(size: int = 1024, seconds: float = 1.0) -> float:
    """Median GFLOP/s of ``A @ B`` for float32 ``(size, size)`` matrices, over products
    repeated for about ``seconds`` (after one warm-up product)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    np.matmul(a, b, out=out)  # warm-up: threads started, pages touched
    rates, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rates) < 5:
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        rates.append(2 * size**3 / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def machine_line(size: int = 1024, seconds: float = 1.0) -> str:
    """``float32 GEMM 182 GFLOP/s (1024x1024, BLAS threads 2)``: for a benchmark's output."""
    speed = gemm_gflops(size, seconds)
    shown = f"{speed:.0f}" if speed >= 10 else f"{speed:.2g}"  # a loaded machine: no "0"
    return f"float32 GEMM {shown} GFLOP/s ({size}x{size}, BLAS threads {blas_threads()})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="matrix side (default 1024)")
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent (default 1)")
    args = parser.parse_args(argv)
    print(machine_line(args.size, args.seconds))


if __name__ == "__main__":
    main()
