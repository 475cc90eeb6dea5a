"""The ConvNet recipe of ``barenet train --model convnet``, in barenet and in PyTorch CPU,
side by side on the same CIFAR-10 data.

Both sides train the same net from the same initial weights (PyTorch's copied from
barenet's, the fixed whitening filters included) with the same recipe: Nesterov SGD,
the per-update learning rate of :class:`barenet.optim.WarmupDecay`, L2 on the
convolution and linear weights (PyTorch's ``weight_decay = 2 * reg``), label
smoothing, the weights' moving average when the recipe has one, the best epoch by
validation loss, and test predictions averaged over each image and its mirror. They
even see the same batches: PyTorch's training loader is a second loader seeded as
barenet's (same shuffling, flips and shifts), its batches turned into NCHW tensors.

The epochs alternate: barenet's epoch ``k``, then PyTorch's epoch ``k``, so both
sides meet the same machine load. Each side's time counts training, validation and
the final test pass (the JPEG decoding is timed apart, and excluded). The machine's
float32 matrix-product speed is measured first (a 2048^3 product, with ``--threads``
BLAS threads); each time is printed as measured and scaled to 200 GFLOP/s
(``time * gemm / 200``), the speed at which the targets are stated. Peak memory is
the resident set of the whole process (both sides and the data). Usage::

    python benchmarks/bench_convnet.py [--zip ../shared/data/cifar10-jpg.zip] [--seed 0]
        [--limit N] [--epochs E] [--widths 32 64 128] [--threads 2] [--no-torch]
        [--curve docs/convnet_cifar10_minutes.png]

``--limit``, ``--epochs`` and ``--widths`` override the recipe (for quick looks on a
busy machine); the defaults are the recipe's. ``--curve`` draws each side's validation accuracy
after every epoch against its own elapsed minutes.
"""

from __future__ import annotations

import argparse
import copy
import resource
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from gemm_speed import gemm_gflops

from barenet.app.config import RunConfig
from barenet.app.factories import lr_schedule, make_model, make_solver
from barenet.app.run_data import build_data
from barenet.prediction import predict_dataset

TARGET_GFLOPS = 200.0


@contextmanager
def limit_threads(threads: int):
    """NumPy's BLAS and PyTorch limited to ``threads``; yields torch (None if missing)."""
    from threadpoolctl import threadpool_limits

    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    with threadpool_limits(threads):
        yield torch


def torch_net(net, torch):
    """The PyTorch twin of a :class:`~barenet.WhitenedConvNet`, with its weights copied."""
    nn = torch.nn
    modules = []
    for layer in net.layers:
        kind = type(layer).__name__
        if kind == "ChannelsFirst":
            continue  # PyTorch gets NCHW tensors
        if kind in ("PatchWhitening", "Conv2d"):
            w = layer.filters if kind == "PatchWhitening" else layer.params["W"]
            pad = 0 if kind == "PatchWhitening" else layer.conv_param["pad"]
            conv = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2:], padding=pad)
            conv.weight.data = torch.tensor(w)
            conv.weight.requires_grad_(kind == "Conv2d")
            conv.bias.data = torch.tensor(layer.params["b"])
            modules.append(conv)
        elif kind == "BatchNorm2d":
            modules.append(nn.BatchNorm2d(layer.num_features, layer.eps, layer.momentum))
        elif kind == "Relu":
            modules.append(nn.ReLU())
        elif kind == "MaxPool2d":
            modules.append(
                nn.MaxPool2d(layer.pool_param["pool_height"], layer.pool_param["stride"])
            )
        elif kind == "Flatten":
            modules.append(nn.Flatten())
        elif kind == "Linear":
            linear = nn.Linear(*layer.params["W"].shape)
            linear.weight.data = torch.tensor(layer.params["W"].T.copy())
            linear.bias.data = torch.tensor(layer.params["b"])
            modules.append(linear)
        else:
            raise ValueError(f"no PyTorch twin for {layer!r}")
    return nn.Sequential(*modules)


class TorchRun:
    """The recipe of a :class:`RunConfig` in PyTorch: one :meth:`epoch` at a time."""

    def __init__(self, config: RunConfig, net, data, torch):
        self.torch, self.config, self.data = torch, config, data
        self.model = torch_net(net, torch)
        self.train_loader = data.with_training(config.batch_size, config.flip, config.crop).train
        decayed = [m.weight for m in self.model if hasattr(m, "weight") and m.weight.ndim > 1]
        decayed = [w for w in decayed if w.requires_grad]
        ids = {id(w) for w in decayed}
        others = [p for p in self.model.parameters() if p.requires_grad and id(p) not in ids]
        self.decayed = decayed
        self.opt = torch.optim.SGD(
            [{"params": decayed, "weight_decay": 2 * config.reg}, {"params": others}],
            lr=config.learning_rate,
            momentum=config.momentum,
            nesterov=config.optimizer == "sgd_nesterov",
        )
        self.schedule = lr_schedule(config, len(self.train_loader))
        self.step, self.average = 0, None
        self.best_loss, self.best_state = float("inf"), copy.deepcopy(self.model.state_dict())
        self.val_acc_history: list[float] = []
        self.epochs_done = 0

    def _tensor(self, images: np.ndarray):
        return self.torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))

    def epoch(self) -> None:
        """One pass over the training batches, then validation (keeping the best)."""
        torch, f = self.torch, self.torch.nn.functional
        self.model.train()
        # As barenet's Solver: the whitening bias trains for its first epochs only, then
        # autograd computes nothing below the first trained convolution.
        bias_epochs = self.config.whitening_bias_epochs
        if bias_epochs is not None and self.epochs_done >= bias_epochs:
            self.model[0].bias.requires_grad_(False)
        for batch in self.train_loader:
            if self.schedule is not None:
                for group in self.opt.param_groups:
                    group["lr"] = self.config.learning_rate * self.schedule(self.step)
            logits = self.model(self._tensor(batch["image"]))
            labels = torch.from_numpy(np.asarray(batch["label"], dtype=np.int64))
            loss = f.cross_entropy(logits, labels, label_smoothing=self.config.label_smoothing)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.step += 1
            self._update_average()
        self.epochs_done += 1
        with self._evaluation_weights():
            loss, accuracy = self._loss_and_accuracy(self.data.val)
            self.val_acc_history.append(accuracy)
            if loss < self.best_loss:
                self.best_loss, self.best_state = loss, copy.deepcopy(self.model.state_dict())

    def _update_average(self) -> None:
        decay = self.config.weight_average
        if decay is None:
            return
        params = [p.detach() for p in self.model.parameters()]
        if self.average is None:
            self.average = [p.clone() for p in params]
            return
        for average, p in zip(self.average, params, strict=True):
            average.mul_(decay).add_(p, alpha=1 - decay)

    def _evaluation_weights(self):
        run = self

        class Swap:
            def __enter__(self):
                if run.average is not None:
                    self.live = [p.detach().clone() for p in run.model.parameters()]
                    for p, a in zip(run.model.parameters(), run.average, strict=True):
                        p.data.copy_(a)

            def __exit__(self, *exc):
                if run.average is not None:
                    for p, live in zip(run.model.parameters(), self.live, strict=True):
                        p.data.copy_(live)

        return Swap()

    def _logits(self, loader):
        torch = self.torch
        self.model.eval()
        with torch.no_grad():
            for batch in loader:
                yield np.asarray(batch["label"]), self.model(self._tensor(batch["image"])).numpy()

    def _loss_and_accuracy(self, loader) -> tuple[float, float]:
        torch, total, seen, correct = self.torch, 0.0, 0, 0
        for labels, logits in self._logits(loader):
            correct += int(np.sum(logits.argmax(axis=1) == labels))
            loss = torch.nn.functional.cross_entropy(
                torch.from_numpy(logits),
                torch.from_numpy(labels.astype(np.int64)),
                label_smoothing=self.config.label_smoothing,
                reduction="sum",
            )
            total, seen = total + float(loss), seen + len(labels)
        reg = self.config.reg * sum(float((w.detach() ** 2).sum()) for w in self.decayed)
        return total / seen + reg, correct / seen

    def test(self) -> tuple[float, float]:
        """(accuracy averaged over the views, accuracy of the images alone), best weights."""
        self.model.load_state_dict(self.best_state)
        views = [list(self._logits(view)) for view in self.data.test_views]
        labels = np.concatenate([lab for lab, _ in views[0]])
        probs = [np.concatenate([_softmax(lo) for _, lo in view]) for view in views]
        averaged = sum(probs) / len(probs)
        return float(np.mean(averaged.argmax(1) == labels)), float(
            np.mean(probs[0].argmax(1) == labels)
        )


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument(
        "--zip", type=Path, default=root.parent / "shared" / "data" / "cifar10-jpg.zip"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="training images (default all)")
    parser.add_argument("--epochs", type=int, help="default: the recipe's")
    parser.add_argument("--widths", type=int, nargs="+", help="default: the recipe's")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-torch", dest="torch", action="store_false")
    parser.add_argument(
        "--curve", type=Path, help="write validation accuracy against minutes to this PNG"
    )
    args = parser.parse_args(argv)
    overrides = {k: getattr(args, k) for k in ("limit", "epochs", "widths") if getattr(args, k)}
    config = RunConfig.recipe(
        "cifar10", model="convnet", data=str(args.zip), seed=args.seed, **overrides
    )
    with limit_threads(args.threads) as torch:
        run(config, args, torch if args.torch else None)


def run(config: RunConfig, args, torch) -> None:
    gflops = gemm_gflops(2048)
    print(f"float32 GEMM (2048^3, {args.threads} threads): {gflops:.0f} GFLOP/s")
    start = time.perf_counter()
    data = build_data(config)
    print(f"data: {time.perf_counter() - start:.1f} s (decoding or the cache; not counted)")
    seconds = {"barenet": 0.0, "pytorch": 0.0}
    start = time.perf_counter()
    model = make_model(config, data.input_size, len(data.classes), data)
    twin = TorchRun(config, model, data, torch) if torch else None
    seconds["barenet"] += time.perf_counter() - start

    curves = {"barenet": ([], []), "pytorch": ([], [])}

    def epoch_end(solver) -> None:
        elapsed = seconds["barenet"] + time.perf_counter() - began - seconds["pytorch"]
        curves["barenet"][0].append(elapsed / 60)
        curves["barenet"][1].append(solver.val_acc_history[-1])
        line = f"  epoch {solver.epoch}: barenet val acc {solver.val_acc_history[-1]:.4f} at {elapsed:.0f} s"
        if twin:
            started = time.perf_counter()
            twin.epoch()
            seconds["pytorch"] += time.perf_counter() - started
            curves["pytorch"][0].append(seconds["pytorch"] / 60)
            curves["pytorch"][1].append(twin.val_acc_history[-1])
            line += f"; pytorch {twin.val_acc_history[-1]:.4f} at {seconds['pytorch']:.0f} s"
        print(line, flush=True)

    solver = make_solver(config, model, data, verbose=False, on_epoch_end=epoch_end)
    began = time.perf_counter()
    solver.train(epochs=config.epochs, patience=None)
    result = predict_dataset(model, data.test_views)
    seconds["barenet"] += time.perf_counter() - began - seconds["pytorch"]
    accuracy = {"barenet": (result.accuracy, result.first_view_accuracy)}
    if twin:
        began = time.perf_counter()
        accuracy["pytorch"] = twin.test()
        seconds["pytorch"] += time.perf_counter() - began
    report(config, gflops, seconds, accuracy)
    if args.curve:
        write_curve(args.curve, curves, config, gflops)


def write_curve(path: Path, curves: dict, config: RunConfig, gflops: float) -> None:
    """Validation accuracy per epoch against each side's own elapsed minutes."""
    from barenet.plots import plot_accuracy_vs_minutes

    shown = {side: curve for side, curve in curves.items() if curve[0]}
    title = (
        f"CIFAR-10, widths {config.widths}, {config.epochs} epochs, seed {config.seed} "
        f"(GEMM {gflops:.0f} GFLOP/s)"
    )
    print(f"curve: {plot_accuracy_vs_minutes(shown, path, title=title, target=0.85)}")


def report(config: RunConfig, gflops: float, seconds: dict, accuracy: dict) -> None:
    print(
        f"\nrecipe: widths {config.widths}, {config.epochs} epochs, batch {config.batch_size}, "
        f"training images {config.limit or 'all'}, seed {config.seed}"
    )
    print(f"{'side':<9}{'test acc':>10}{'1 view':>9}{'time s':>9}{'at 200 GFLOP/s':>16}")
    for side, (acc, single) in accuracy.items():
        t = seconds[side]
        print(f"{side:<9}{acc:>10.2%}{single:>9.2%}{t:>9.1f}{t * gflops / TARGET_GFLOPS:>16.1f}")
    if "pytorch" in accuracy:
        print(f"time ratio barenet / pytorch: {seconds['barenet'] / seconds['pytorch']:.2f}")
    print(f"peak resident memory of the process: {peak_rss_gib():.2f} GiB")


if __name__ == "__main__":
    main()
