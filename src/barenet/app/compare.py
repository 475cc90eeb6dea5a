"""Train one network from the same initial weights with SGD, SGD+momentum and Adam."""

from __future__ import annotations

from pathlib import Path

from barenet.app.recipes import build_data
from barenet.app.runs import make_model, make_solver
from barenet.plots import plot_loss_curves

LABELS = {"sgd": "SGD", "sgd_momentum": "SGD + momentum", "adam": "Adam"}


def compare_optimizers(config: dict, out_png: Path, verbose: bool = True) -> dict[str, dict]:
    """Train a copy of one initial network per optimizer on the same data.

    Parameters
    ----------
    config : dict
        Run settings (see ``barenet train``); ``optimizer`` is ignored.
    out_png : Path
        Where to draw the training-loss curves (x: Epochs, y: Loss).
    verbose : bool
        Print each optimizer's epoch lines.

    Returns
    -------
    dict
        Optimizer name -> ``{'train_loss': [...], 'val_loss': [...], 'val_acc': [...]}``.
    """
    data = build_data({**config, "flip": False, "crop": 0})
    initial = make_model(config, data.input_size, len(data.classes))
    results = {}
    for name in LABELS:
        model = make_model(config, data.input_size, len(data.classes))
        model.params = {k: v.copy() for k, v in initial.params.items()}
        if verbose:
            print(f"--- {LABELS[name]} ---")
        solver = make_solver(
            {**config, "optimizer": name},
            model,
            data,
            verbose=verbose,
            print_every=max(1, config["epochs"] // 5),
        )
        solver.train(epochs=config["epochs"])
        results[name] = {
            "train_loss": solver.train_loss_history,
            "val_loss": solver.val_loss_history,
            "val_acc": solver.val_acc_history,
        }
    curves = {LABELS[name]: r["train_loss"] for name, r in results.items()}
    source = Path(config["data"]).name if config.get("data") else config["dataset"]
    plot_loss_curves(
        curves, out_png, title=f"Training loss on {len(data.train.dataset)} images of {source}"
    )
    return results


def format_comparison(results: dict[str, dict]) -> str:
    """Final training loss, validation loss and accuracy per optimizer, as a table."""
    lines = [f"{'optimizer':<16}{'train loss':>12}{'val loss':>10}{'val acc':>9}"]
    for name, r in results.items():
        lines.append(
            f"{LABELS[name]:<16}{r['train_loss'][-1]:>12.4f}{r['val_loss'][-1]:>10.4f}{r['val_acc'][-1]:>9.2%}"
        )
    return "\n".join(lines)
