"""Time one training step (forward, loss, backward, update) of ClassificationNet.

Compares, in one run and on the same data:

* barenet, float32, with SGD and with Adam;
* the same network and optimizer in PyTorch on the CPU, when torch is installed;
* the machine's float32 matrix-product speed: the step's three matrix products per
  layer (two for the first, which needs no input gradient) timed alone with NumPy.

Prints the median of several repeats and the ratios. Usage::

    python benchmarks/bench_train_step.py [--repeats 30] [--batch 256]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import barenet as bn


def median_time(fn, repeats: int, warmup: int = 5) -> float:
    """Median wall time of ``fn()`` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def barenet_step(sizes, X, y, optimizer):
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


def torch_step(sizes, X, y, optimizer):
    import torch

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


def matmul_only_step(sizes, X):
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


def flops_per_step(sizes, batch):
    """Multiply-adds x 2 of forward (every layer), dW (every layer) and dX (all but the first)."""
    per_layer = [2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return 2 * sum(per_layer) + sum(per_layer[1:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
        print(
            "PyTorch not installed: only barenet vs the matrix-product speed (pip install torch==2.13.0)."
        )

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.batch, 3072), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)
    print(
        f"batch {args.batch}, float32, median of {args.repeats} steps; threads: numpy default"
        + (f", torch {torch.get_num_threads()}" if torch else "")
    )
    header = (
        f"{'network':<18}{'update':<7}{'barenet ms':>11}{'torch ms':>10}{'bn/torch':>10}"
        f"{'matmul ms':>11}{'bn/matmul':>11}{'bn GFLOP/s':>12}"
    )
    print(header)
    for sizes in ([3072, 128, 10], [3072, 512, 512, 10]):
        t_mm = median_time(matmul_only_step(sizes, X), args.repeats)
        for optimizer in ("sgd", "adam"):
            t_bn = median_time(barenet_step(sizes, X, y, optimizer), args.repeats)
            t_torch = (
                median_time(torch_step(sizes, X, y, optimizer), args.repeats)
                if torch
                else float("nan")
            )
            gflops = flops_per_step(sizes, args.batch) / t_bn / 1e9
            name = "-".join(map(str, sizes))
            print(
                f"{name:<18}{optimizer:<7}{t_bn * 1e3:>11.2f}{t_torch * 1e3:>10.2f}{t_bn / t_torch:>10.2f}"
                f"{t_mm * 1e3:>11.2f}{t_bn / t_mm:>11.2f}{gflops:>12.1f}"
            )


if __name__ == "__main__":
    main()
