"""A training run on disk: train, checkpoint every epoch, resume, evaluate.

A run folder holds

* ``config.json``    -- every setting, plus the normalisation statistics;
* ``model.npz``      -- the best weights (lowest validation loss), ``allow_pickle=False``;
* ``history.json``   -- per-epoch losses and accuracies, ``test_accuracy``, wall time;
* ``curves.png``     -- loss and accuracy curves;
* ``checkpoint.npz`` -- the state after the last finished epoch (current weights,
  optimizer state, random generators), from which ``--resume`` continues exactly.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from barenet.app.recipes import DataBundle, build_data
from barenet.losses import log_softmax
from barenet.networks import ClassificationNet
from barenet.optim import SGD, Adam, SGDMomentum
from barenet.plots import plot_history
from barenet.solver import Solver

OPTIMIZERS = {"sgd": SGD, "sgd_momentum": SGDMomentum, "adam": Adam}
OPTIMIZER_HYPERPARAMETERS = {
    "sgd": (),
    "sgd_momentum": ("momentum",),
    "adam": ("beta1", "beta2", "epsilon"),
}


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically: a crash never leaves a half-written file behind."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def make_model(config: dict, input_size: int, num_classes: int) -> ClassificationNet:
    """The network a run's settings describe."""
    hidden = config["hidden_size"]
    return ClassificationNet(
        activation=config["activation"],
        num_layer=len(hidden) + 1,
        input_size=input_size,
        hidden_size=hidden,
        std=config["std"],
        num_classes=num_classes,
        reg=config["reg"],
        dtype=np.dtype(config["dtype"]),
        seed=config["seed"],
        dropout=config["dropout"],
    )


def make_solver(config: dict, model, data: DataBundle, **kwargs) -> Solver:
    """A Solver with the run's optimizer, learning rate, decay and hyperparameters."""
    name = config["optimizer"]
    optim_config = {
        k: config[k] for k in OPTIMIZER_HYPERPARAMETERS[name] if config.get(k) is not None
    }
    return Solver(
        model,
        data.train,
        data.val,
        learning_rate=config["learning_rate"],
        optimizer=OPTIMIZERS[name],
        lr_decay=config["lr_decay"],
        optim_config=optim_config,
        **kwargs,
    )


def _generators(solver: Solver) -> dict[str, np.random.Generator]:
    """Every random generator a training epoch draws from, by name."""
    gens = {"shuffle": solver.train_dataloader.rng, "dropout": solver.model.rng}
    for i, step in enumerate(solver.train_dataloader.dataset.transform.transforms):
        if hasattr(step, "rng"):  # augmentations (they may share one generator)
            gens[f"augment{i}"] = step.rng
    return gens


def save_checkpoint(solver: Solver, path: Path) -> None:
    """Weights, optimizer state, best weights, histories and generator states."""
    arrays = {f"param/{k}": v for k, v in solver.model.params.items()}
    arrays.update({f"best/{k}": v for k, v in solver.best_params.items()})
    scalars = {}
    for name, config in solver.opt.state.items():
        for key, value in config.items():
            if isinstance(value, np.ndarray):
                arrays[f"opt/{name}/{key}"] = value
            else:
                scalars[f"{name}/{key}"] = value
    meta = {
        "epoch": solver.epoch,
        "lr": solver.opt.lr,
        "best_val_loss": solver.best_val_loss,
        "best_epoch": solver.best_epoch,
        "opt_scalars": scalars,
        "history": history_of(solver),
        "generators": {k: g.bit_generator.state for k, g in _generators(solver).items()},
    }
    arrays["__meta__"] = np.array(json.dumps(meta))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def load_checkpoint(solver: Solver, path: Path) -> None:
    """Restore what :func:`save_checkpoint` wrote into a freshly built solver."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__meta__"]))
        for key in data.files:
            kind, _, name = key.partition("/")
            if kind == "param":
                solver.model.params[name] = data[key].copy()
            elif kind == "best":
                solver.best_params[name] = data[key].copy()
            elif kind == "opt":
                param, _, state_key = name.partition("/")
                solver.opt.state.setdefault(param, {})[state_key] = data[key].copy()
    for key, value in meta["opt_scalars"].items():
        param, _, state_key = key.partition("/")
        solver.opt.state.setdefault(param, {})[state_key] = value
    solver.epoch, solver.opt.lr = meta["epoch"], meta["lr"]
    solver.best_val_loss, solver.best_epoch = meta["best_val_loss"], meta["best_epoch"]
    h = meta["history"]
    solver.train_loss_history, solver.val_loss_history = h["train_loss"], h["val_loss"]
    solver.train_acc_history, solver.val_acc_history = h["train_acc"], h["val_acc"]
    for name, gen in _generators(solver).items():
        gen.bit_generator.state = meta["generators"][name]


def history_of(solver: Solver) -> dict:
    return {
        "train_loss": solver.train_loss_history,
        "val_loss": solver.val_loss_history,
        "train_acc": solver.train_acc_history,
        "val_acc": solver.val_acc_history,
    }


def train_run(config: dict, out_dir: Path, resume: bool = False, verbose: bool = True) -> dict:
    """Train (or resume) the run in ``out_dir``; returns the history written there.

    ``config['epochs']`` is the total number of epochs of the run, counting those
    done before a resume.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    stats = (config["norm_mean"], config["norm_std"]) if resume else None
    data = build_data(config, stats)
    config = {
        **config,
        "norm_mean": data.mean,
        "norm_std": data.std,
        "input_size": data.input_size,
        "classes": data.classes,
    }
    write_json(out_dir / "config.json", config)
    model = make_model(config, data.input_size, len(data.classes))
    checkpoint = out_dir / "checkpoint.npz"
    solver = make_solver(
        config,
        model,
        data,
        verbose=verbose,
        progress=verbose,
        on_epoch_end=lambda s: save_checkpoint(s, checkpoint),
    )
    previous_time = 0.0
    if resume:
        load_checkpoint(solver, checkpoint)
        previous_time = json.loads((out_dir / "history.json").read_text()).get("wall_time_s", 0.0)
        if verbose:
            print(f"Resuming {out_dir} after epoch {solver.epoch} of {config['epochs']}.")
    try:
        solver.train(epochs=max(config["epochs"] - solver.epoch, 0), patience=config["patience"])
    finally:
        # Runs on Ctrl-C too (the Solver has already restored the best weights).
        history = finish_run(
            solver, data, config, out_dir, previous_time + time.perf_counter() - start
        )
    return history


def finish_run(
    solver: Solver, data: DataBundle, config: dict, out_dir: Path, wall_time: float
) -> dict:
    """Save best weights, history (with test accuracy) and curves."""
    solver.model.save(out_dir / "model.npz")
    _, _, test_acc = predict_views(solver.model, data.test_views)
    _, _, single_view_acc = solver.model.get_dataset_prediction(data.test)
    history = {
        **history_of(solver),
        "best_epoch": solver.best_epoch,
        "epochs_done": solver.epoch,
        "test_accuracy": test_acc,
        "test_accuracy_single_view": single_view_acc,
        "test_views": len(data.test_views),
        "wall_time_s": round(wall_time, 3),
        "stop_reason": solver.stop_reason,
    }
    write_json(out_dir / "history.json", history)
    source = Path(config["data"]).name if config.get("data") else config["dataset"]
    title = f"{source}: test accuracy {test_acc:.2%}"
    plot_history(history, out_dir / "curves.png", title=title)
    return history


def predict_views(model, loaders: list) -> tuple[np.ndarray, np.ndarray, float]:
    """Predict from the softmax averaged over several views of the same images.

    Parameters
    ----------
    model : Network
    loaders : list of DataLoader
        The same images in the same order, each transformed its own way (as they are,
        mirrored, ...). With one loader these are the plain predictions.

    Returns
    -------
    labels, predictions : ndarray, shape (N,)
    accuracy : float
    """
    model.eval()
    labels, preds = [], []
    for views in zip(*loaders, strict=True):
        probs = sum(np.exp(log_softmax(model.forward(view["image"]))) for view in views)
        labels.append(views[0]["label"])
        preds.append(probs.argmax(axis=1))
    model.train()
    labels, preds = np.concatenate(labels), np.concatenate(preds)
    return labels, preds, float(np.mean(labels == preds))


def load_run(run_dir: Path) -> tuple[dict, ClassificationNet]:
    """Settings and best model of a saved run."""
    for name in ("config.json", "model.npz"):
        if not (run_dir / name).is_file():
            raise ValueError(
                f"RUN_DIR: {run_dir} has no {name}; is it a folder written by 'barenet train'?"
            )
    config = json.loads((run_dir / "config.json").read_text())
    return config, ClassificationNet.load(run_dir / "model.npz")


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``(C, C)``: row = true class, column = predicted class."""
    return np.bincount(labels * num_classes + preds, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )


def format_confusion(matrix: np.ndarray, classes: list[str]) -> str:
    """Per-class accuracy and the confusion matrix as a text table."""
    width = max(6, *(len(c) for c in classes)) + 1
    short = [c[:5] for c in classes]
    lines = [f"{'class':<{width}}{'acc':>7}  " + "".join(f"{s:>6}" for s in short)]
    for i, name in enumerate(classes):
        total = matrix[i].sum()
        acc = matrix[i, i] / total if total else float("nan")
        lines.append(f"{name:<{width}}{acc:>7.2%}  " + "".join(f"{n:>6d}" for n in matrix[i]))
    return "\n".join(lines)
