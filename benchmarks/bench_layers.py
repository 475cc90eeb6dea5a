"""Forward + backward of each ConvNet layer, and a whole ConvNet training step, barenet
against PyTorch CPU, side by side in one process (float32).

Printed first: the machine's float32 matrix-product speed (GFLOP/s), the roofline the
convolutions' im2col products run against. Then one line per layer at the shapes of a
CIFAR-10 ConvNet (batch 256 by default; 32x32, 16x16 and 8x8 maps; 3-256 channels),
and the training step (forward, cross-entropy, backward, Adam) of

    conv3x3(3->32) - BN - ReLU - maxpool2 - conv3x3(32->64) - BN - ReLU - maxpool2
    - conv3x3(64->128) - BN - ReLU - maxpool2 - flatten - linear(2048->10)

with its GFLOP/s against the matrix-product speed and its peak memory (everything
NumPy holds during one step, traced with tracemalloc from the model's creation on:
weights, Adam's state, reused buffers, caches and temporaries; and the caches and
gradients that ``compute_network_size`` counts).

Each side gets its natural input: barenet's layers the channels-last memory its own
convolution writes (a ``(N, C, H, W)`` view), PyTorch's a contiguous NCHW tensor; the
step gets the data pipeline's ``(N, H, W, C)`` batch (through ``ChannelsFirst``) and
PyTorch the NCHW tensor. The two libraries are timed in alternating blocks (see
``bench_train_step.py``, whose helpers this uses); times are medians of the block
medians, ratios the median (range) of the block-by-block ratios. Usage::

    python benchmarks/bench_layers.py [--batch 256] [--blocks 5] [--steps 5] [--threads 2]
                                      [--only conv]
"""

from __future__ import annotations

import argparse
import statistics
import tracemalloc

import numpy as np
from bench_train_step import alternate, blas_threads, ratio_summary
from gemm_speed import gemm_gflops

import barenet as bn
import barenet.layers as L


def channels_last(x: np.ndarray) -> np.ndarray:
    """The same (N, C, H, W) array with channels-last memory, as barenet's conv writes it."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def layer_cases(batch: int):
    """``(name, barenet pair maker, torch module maker, input shape)`` per layer."""

    def conv(c, f):
        return (
            lambda: L.Conv2d(c, f, 3, padding=1, seed=0),
            lambda torch: torch.nn.Conv2d(c, f, 3, padding=1),
        )

    cases = []
    for c, f, size in [(3, 32, 32), (32, 32, 32), (32, 64, 16), (64, 128, 8), (128, 256, 8)]:
        ours, theirs = conv(c, f)
        cases.append((f"conv3x3 {c}->{f} @{size}", ours, theirs, (batch, c, size, size)))
    for c, size in [(32, 32), (64, 16), (128, 8)]:
        cases.append(
            (
                f"maxpool2 {c} @{size}",
                lambda: L.MaxPool2d(2),
                lambda t: t.nn.MaxPool2d(2),
                (batch, c, size, size),
            )
        )
    for c, size in [(32, 32), (128, 8)]:
        cases.append(
            (
                f"batchnorm2d {c} @{size}",
                lambda c=c: L.BatchNorm2d(c),
                lambda t, c=c: t.nn.BatchNorm2d(c),
                (batch, c, size, size),
            )
        )
    cases += [
        ("relu 32 @32", L.Relu, lambda t: t.nn.ReLU(), (batch, 32, 32, 32)),
        (
            "avgpool2 64 @16",
            lambda: L.AvgPool2d(2),
            lambda t: t.nn.AvgPool2d(2),
            (batch, 64, 16, 16),
        ),
        (
            "global avgpool 256 @8",
            L.GlobalAvgPool2d,
            lambda t: t.nn.AdaptiveAvgPool2d(1),
            (batch, 256, 8, 8),
        ),
        (
            "groupnorm 8x32 @16",
            lambda: L.GroupNorm(8, 32),
            lambda t: t.nn.GroupNorm(8, 32),
            (batch, 32, 16, 16),
        ),
        (
            "layernorm 2048",
            lambda: L.LayerNorm(2048),
            lambda t: t.nn.LayerNorm(2048),
            (batch, 2048),
        ),
        (
            "dropout 0.5 @2048",
            lambda: L.Dropout(0.5, seed=0),
            lambda t: t.nn.Dropout(0.5),
            (batch, 2048),
        ),
        (
            "linear 2048->10",
            lambda: L.Linear(2048, 10, seed=0),
            lambda t: t.nn.Linear(2048, 10),
            (batch, 2048),
        ),
    ]
    return cases


def barenet_layer(make, shape):
    layer = make()
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape, dtype=np.float32)
    x = channels_last(x) if len(shape) == 4 else x
    out, _ = layer.forward(x)
    dout = rng.standard_normal(out.shape, dtype=np.float32)
    dout = channels_last(dout) if dout.ndim == 4 else dout

    def step():
        _, cache = layer.forward(x)
        layer.backward(dout, cache)

    return step


def torch_layer(make, shape):
    import torch

    module = make(torch)
    x = torch.randn(shape, requires_grad=True)
    dout = torch.randn(module(x).shape)

    def step():
        x.grad = None  # as barenet, write fresh gradients instead of accumulating them
        module.zero_grad(set_to_none=True)
        module(x).backward(dout)

    return step


CONVNET = [(3, 32, 32), (32, 64, 16), (64, 128, 8)]


def barenet_convnet():
    layers = [L.ChannelsFirst()]
    for i, (c, f, _) in enumerate(CONVNET):
        layers += [L.Conv2d(c, f, 3, padding=1, seed=i), L.BatchNorm2d(f), L.Relu(), L.MaxPool2d(2)]
    return bn.Sequential(*layers, L.Flatten(), L.Linear(128 * 4 * 4, 10, seed=9))


def torch_convnet(torch):
    layers = []
    for c, f, _ in CONVNET:
        layers += [
            torch.nn.Conv2d(c, f, 3, padding=1),
            torch.nn.BatchNorm2d(f),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
        ]
    return torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(128 * 4 * 4, 10))


def step_flops(batch: int) -> int:
    """2 x multiply-adds of the convolutions and the linear layer: forward, dW, and dX
    for every layer but the first."""
    total = 0
    for i, (c, f, size) in enumerate(CONVNET):
        one = 2 * batch * size * size * f * c * 9
        total += one * (2 if i == 0 else 3)
    return total + 3 * 2 * batch * 2048 * 10


def barenet_step(X, y):
    net = barenet_convnet()
    loss_func = bn.CrossEntropyFromLogits()
    opt = bn.Adam(net, loss_func, learning_rate=1e-4)

    def step():
        _, dlogits = loss_func(net.forward(X), y)
        net.backward(dlogits)
        opt.step()

    return step, net


def torch_step(X, y):
    import torch

    torch.manual_seed(0)
    model = torch_convnet(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_func = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(np.ascontiguousarray(X.transpose(0, 3, 1, 2))), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_func(model(Xt), yt).backward()
        opt.step()

    return step


def peak_step_memory(X: np.ndarray, y: np.ndarray) -> tuple[int, int]:
    """Peak bytes NumPy holds during a training step (weights, optimizer state, the
    reused buffers, caches and temporaries, traced from the model's creation on), and
    the caches + gradients that ``compute_network_size`` counts."""
    tracemalloc.start()
    step, net = barenet_step(X, y)
    step()
    step()
    tracemalloc.reset_peak()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, bn.compute_network_size(net)


def row(name, times, has_torch) -> str:
    t_bn = statistics.median(times["barenet"]) * 1e3
    if not has_torch:
        return f"{name:<26}{t_bn:>11.2f}{'-':>10}  {'-':>18}"
    t_torch = statistics.median(times["torch"]) * 1e3
    return f"{name:<26}{t_bn:>11.2f}{t_torch:>10.2f}  {ratio_summary(times['barenet'], times['torch']):>18}"


def run(args: argparse.Namespace) -> None:
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch not installed: barenet's times only (pip install torch==2.13.0).")
    if torch:
        torch.set_num_threads(args.threads)
    gemm = gemm_gflops(2048)
    print(f"float32 matrix product (2048^3, NumPy): {gemm:.1f} GFLOP/s")
    print(
        f"batch {args.batch}, float32; {args.blocks} alternating blocks of {args.steps} calls; "
        f"threads: numpy {blas_threads()}" + (f", torch {torch.get_num_threads()}" if torch else "")
    )
    print(f"{'forward + backward':<26}{'barenet ms':>11}{'torch ms':>10}  {'bn/torch':>18}")
    for name, ours, theirs, shape in layer_cases(args.batch):
        if args.only and args.only not in name:
            continue
        contenders = {"barenet": barenet_layer(ours, shape)}
        if torch:
            contenders["torch"] = torch_layer(theirs, shape)
        print(row(name, alternate(contenders, args.blocks, args.steps, 0.2), torch), flush=True)
    if args.only and args.only not in "step":
        return
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.batch, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)
    ours, _ = barenet_step(X, y)
    contenders = {"barenet": ours}
    if torch:
        contenders["torch"] = torch_step(X, y)
    times = alternate(contenders, args.blocks, args.steps, 0.3)
    print(row("training step (Adam)", times, torch))
    t_bn = statistics.median(times["barenet"])
    flops = step_flops(args.batch)
    print(
        f"step: {flops / 1e9:.2f} GFLOP in the products; barenet {flops / t_bn / 1e9:.1f} GFLOP/s "
        f"= {flops / t_bn / 1e9 / gemm:.0%} of the matrix-product speed"
        + (
            f"; torch {flops / statistics.median(times['torch']) / 1e9:.1f} GFLOP/s"
            if torch
            else ""
        )
    )
    peak, held = peak_step_memory(X, y)
    print(
        f"step memory (barenet): peak {peak / 2**20:.0f} MiB held by NumPy during a step, "
        f"{held / 2**20:.0f} MiB of it in caches + grads"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--blocks", type=int, default=5, help="blocks per library (default 5)")
    parser.add_argument("--steps", type=int, default=5, help="timed calls per block (default 5)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default 2)")
    parser.add_argument("--only", default="", help="run only the lines whose name contains this")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads):
        run(args)


if __name__ == "__main__":
    main()
