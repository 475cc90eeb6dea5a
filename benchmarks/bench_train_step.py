"""Time one training step (forward, loss, backward, update) of ClassificationNet.

Compares, in one process and on the same data:

* barenet, float32, with SGD and with Adam;
* the same network and optimizer in PyTorch on the CPU, when torch is installed;
* the machine's float32 matrix-product speed: the step's three matrix products per
  layer (two for the first, which needs no input gradient) timed alone with NumPy.

The libraries are timed in alternating blocks of steps, with a pause between blocks.
Both keep worker threads that spin for a while after a parallel operation; timing all
of barenet and then all of PyTorch would let the first one's spinning threads slow the
second. Each block gives a median step time; each pair of neighbouring blocks gives a
ratio. The table shows the median over blocks and, in brackets, the range of the
ratios: ratios measured side by side survive a machine whose speed drifts. Usage::

    python benchmarks/bench_train_step.py [--blocks 9] [--steps 20] [--pause 0.3] [--batch 256]
                                          [--threads N]

``--threads N`` limits both NumPy's BLAS (through threadpoolctl) and PyTorch to N threads;
on a machine busy with other work, one thread each gives steadier ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from gemm_speed import blas_threads, machine_line

import barenet as bn

NETWORKS = ([3072, 128, 10], [3072, 512, 512, 10])


def block_time(fn: Callable[[], None], steps: int, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in seconds over one block of ``steps`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alternate(
    contenders: dict[str, Callable[[], None]], blocks: int, steps: int, pause: float
) -> dict[str, list[float]]:
    """Block medians per contender, timed in turn; the order reverses every block.

    Returns ``{name: [median of block 0, median of block 1, ...]}``.
    """
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for b in range(blocks):
        for name in names if b % 2 == 0 else names[::-1]:
            time.sleep(pause)  # let the other library's worker threads go to sleep
            times[name].append(block_time(contenders[name], steps))
    return times


def barenet_step(sizes: list[int], X: np.ndarray, y: np.ndarray, optimizer: str):
    net = bn.ClassificationNet(
        num_layer=len(sizes) - 1,
        input_size=sizes[0],
        hidden_size=sizes[1:-1],
        num_classes=sizes[-1],
        std="he",
        seed=0,
    )
    loss_func = bn.CrossEntropyFromLogits()
    opt = {"sgd": bn.SGD, "adam": bn.Adam}[optimizer](net, loss_func, learning_rate=1e-4)

    def step():
        _, dlogits = loss_func(net.forward(X), y)
        net.backward(dlogits)
        opt.step()

    return step


def torch_step(sizes: list[int], X: np.ndarray, y: np.ndarray, optimizer: str):
    import torch

    torch.manual_seed(0)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer](model.parameters(), lr=1e-4)
    loss_func = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_func(model(Xt), yt).backward()
        opt.step()

    return step


def matmul_only_step(sizes: list[int], X: np.ndarray):
    """Just the matrix products a training step cannot avoid, in NumPy."""
    rng = np.random.default_rng(0)
    ws = [
        rng.standard_normal((a, b), dtype=np.float32)
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    acts = [X]
    for w in ws[:-1]:
        acts.append(acts[-1] @ w)

    def step():
        h = X
        for w in ws:  # forward
            h = h @ w
        # Backward: dW_i = a_i.T @ d_i for every layer, dX_i = d_i @ W_i.T for all but the first.
        d = h
        for i in range(len(ws) - 1, -1, -1):
            _ = acts[i].T @ d
            if i > 0:
                d = d @ ws[i].T

    return step


def flops_per_step(sizes: list[int], batch: int) -> int:
    """Multiply-adds x 2 of forward (every layer), dW (every layer) and dX (all but the first)."""
    per_layer = [2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return 2 * sum(per_layer) + sum(per_layer[1:])


def ratio_summary(ours: list[float], theirs: list[float]) -> str:
    """``median (min-max)`` of the block-by-block ratios ``ours / theirs``."""
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=9, help="blocks per library (default 9)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per block (default 20)")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between blocks")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="BLAS and torch threads")
    args = parser.parse_args(argv)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=args.threads):
            run(args)
    else:
        run(args)


def run(args: argparse.Namespace) -> None:
    try:
        import torch
    except ImportError:
        torch = None
        print(
            "PyTorch not installed: only barenet vs the matrix-product speed (pip install torch==2.13.0)."
        )
    if torch and args.threads is not None:
        torch.set_num_threads(args.threads)

    print(machine_line())  # the times below scale with it
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.batch, 3072), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)
    print(
        f"batch {args.batch}, float32; {args.blocks} alternating blocks of {args.steps} steps, "
        f"{args.pause:g} s apart; threads: numpy {blas_threads()}"
        + (f", torch {torch.get_num_threads()}" if torch else "")
    )
    print("times: median of the block medians; ratios: median (range) of block-by-block ratios")
    print(
        f"{'network':<18}{'update':<7}{'barenet ms':>11}{'torch ms':>10}{'bn/torch':>20}"
        f"{'matmul ms':>11}{'bn/matmul':>20}{'bn GFLOP/s':>12}"
    )
    for sizes in NETWORKS:
        for optimizer in ("sgd", "adam"):
            # barenet and PyTorch are neighbours in every block, so each ratio compares
            # two measurements taken a fraction of a second apart.
            contenders = {"barenet": barenet_step(sizes, X, y, optimizer)}
            if torch:
                contenders["torch"] = torch_step(sizes, X, y, optimizer)
            contenders["matmul"] = matmul_only_step(sizes, X)
            times = alternate(contenders, args.blocks, args.steps, args.pause)
            t_bn = statistics.median(times["barenet"])
            t_mm = statistics.median(times["matmul"])
            if torch:
                t_torch = f"{statistics.median(times['torch']) * 1e3:.2f}"
                vs_torch = ratio_summary(times["barenet"], times["torch"])
            else:
                t_torch, vs_torch = "-", "-"
            gflops = flops_per_step(sizes, args.batch) / t_bn / 1e9
            name = "-".join(map(str, sizes))
            print(
                f"{name:<18}{optimizer:<7}{t_bn * 1e3:>11.2f}{t_torch:>10}{vs_torch:>20}"
                f"{t_mm * 1e3:>11.2f}{ratio_summary(times['barenet'], times['matmul']):>20}"
                f"{gflops:>12.1f}"
            )


if __name__ == "__main__":
    main()
