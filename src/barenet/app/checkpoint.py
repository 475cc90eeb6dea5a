"""A run's ``checkpoint.npz``: the state after the last finished epoch.

It holds the current and the best weights (with the running statistics of batch
norm and the other buffers of a model that has them), the optimizer state, the histories and
the state of every random generator an epoch draws from, so that ``--resume``
continues exactly as an uninterrupted run would have. Arrays only: it loads with
``allow_pickle=False``; scalars travel in one JSON string.
"""

from __future__ import annotations

import json
import os

import numpy as np

from barenet.io import atomic_write
from barenet.solver import Solver


def history_of(solver: Solver) -> dict[str, list[float]]:
    """The solver's per-epoch histories, keyed as in ``history.json``."""
    return {
        "train_loss": solver.train_loss_history,
        "val_loss": solver.val_loss_history,
        "train_acc": solver.train_acc_history,
        "val_acc": solver.val_acc_history,
    }


def _generators(solver: Solver) -> dict[str, np.random.Generator]:
    """Every random generator a training epoch draws from, by name."""
    gens = {"shuffle": solver.train_dataloader.rng}
    if hasattr(solver.model, "rng"):  # ClassificationNet's dropout
        gens["dropout"] = solver.model.rng
    for i, step in enumerate(solver.train_dataloader.dataset.transform.transforms):
        if hasattr(step, "rng"):  # augmentations (they may share one generator)
            gens[f"augment{i}"] = step.rng
    return gens


def save_checkpoint(solver: Solver, path: str | os.PathLike) -> None:
    """Write weights, optimizer state, best weights, histories and generator states."""
    arrays = {f"param/{k}": v for k, v in solver.model.params.items()}
    arrays.update({f"best/{k}": v for k, v in solver.best_params.items()})
    arrays.update({f"buffer/{k}": v for k, v in getattr(solver.model, "buffers", {}).items()})
    arrays.update({f"bestbuffer/{k}": v for k, v in solver.best_buffers.items()})
    if solver.weight_averager is not None:
        arrays.update({f"average/{k}": v for k, v in solver.weight_averager.average.items()})
    scalars = {}
    for name, config in solver.opt.state.items():
        for key, value in config.items():
            if isinstance(value, np.ndarray):
                arrays[f"opt/{name}/{key}"] = value
            else:
                scalars[f"{name}/{key}"] = value
    meta = {
        "epoch": solver.epoch,
        "step_count": solver.step_count,
        "lr": solver.opt.lr,
        "best_val_loss": solver.best_val_loss,
        "best_epoch": solver.best_epoch,
        "opt_scalars": scalars,
        "history": history_of(solver),
        "generators": {k: g.bit_generator.state for k, g in _generators(solver).items()},
    }
    arrays["__meta__"] = np.array(json.dumps(meta))
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def load_checkpoint(solver: Solver, path: str | os.PathLike) -> None:
    """Restore what :func:`save_checkpoint` wrote into a freshly built solver."""
    buffers = {}
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__meta__"]))
        for key in data.files:
            kind, _, name = key.partition("/")
            if kind == "param":
                solver.model.params[name] = data[key].copy()
            elif kind == "best":
                solver.best_params[name] = data[key].copy()
            elif kind == "buffer":
                buffers[name] = data[key].copy()
            elif kind == "bestbuffer":
                solver.best_buffers[name] = data[key].copy()
            elif kind == "average":
                solver.weight_averager.average[name] = data[key].copy()
            elif kind == "opt":
                param, _, state_key = name.partition("/")
                solver.opt.state.setdefault(param, {})[state_key] = data[key].copy()
    if buffers:
        solver.model.set_buffers(buffers)
    for key, value in meta["opt_scalars"].items():
        param, _, state_key = key.partition("/")
        solver.opt.state.setdefault(param, {})[state_key] = value
    solver.epoch, solver.opt.lr = meta["epoch"], meta["lr"]
    solver.step_count = meta.get("step_count", 0)  # older checkpoints: no schedule
    solver.best_val_loss, solver.best_epoch = meta["best_val_loss"], meta["best_epoch"]
    h = meta["history"]
    solver.train_loss_history, solver.val_loss_history = h["train_loss"], h["val_loss"]
    solver.train_acc_history, solver.val_acc_history = h["train_acc"], h["val_acc"]
    for name, gen in _generators(solver).items():
        gen.bit_generator.state = meta["generators"][name]


def checkpoint_epoch(path: str | os.PathLike) -> int:
    """The number of finished epochs a checkpoint holds."""
    with np.load(path, allow_pickle=False) as data:
        return int(json.loads(str(data["__meta__"]))["epoch"])
