"""``Solver``: trains a model with an optimizer and keeps the histories.

It runs on the optimizers of ``networks/optimizer.py``, so your
``SGDMomentum._update`` is the one that trains when you pick ``SGDMomentum``.
"""

from __future__ import annotations

import numpy as np

from .networks.loss import CrossEntropyFromLogits
from .networks.optimizer import Adam


class Solver:
    """Trains ``model`` on batches ``{'image': (B, ...), 'label': (B,)}``.

    Parameters
    ----------
    model : ClassificationNet
    train_dataloader, val_dataloader : iterable of dict
        Each pass over one is an epoch.
    loss_func : Loss, optional
        ``CrossEntropyFromLogits()`` by default.
    learning_rate : float
    optimizer : class
        Built as ``optimizer(model, loss_func, learning_rate, **optim_config)``.
    verbose : bool
        Print a line every ``print_every`` epochs.
    print_every : int
    lr_decay : float
        The learning rate is multiplied by this after each epoch.
    optim_config : dict, optional
        The optimizer's hyperparameters, e.g. ``{'momentum': 0.9}``.

    Attributes
    ----------
    train_loss_history, val_loss_history, train_acc_history, val_acc_history : list
        One value per epoch.
    best_params : dict
        A copy of the parameters with the lowest validation loss; restored after training.
    """

    def __init__(
        self,
        model,
        train_dataloader,
        val_dataloader,
        loss_func=None,
        learning_rate: float = 1e-3,
        optimizer: type = Adam,
        verbose: bool = True,
        print_every: int = 1,
        lr_decay: float = 1.0,
        optim_config: dict | None = None,
    ):
        self.model = model
        self.train_dataloader = train_dataloader
        self.val_dataloader = val_dataloader
        self.loss_func = CrossEntropyFromLogits() if loss_func is None else loss_func
        self.opt = optimizer(model, self.loss_func, learning_rate, **(optim_config or {}))
        self.verbose = verbose
        self.print_every = print_every
        self.lr_decay = lr_decay
        self.train_loss_history: list[float] = []
        self.val_loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.best_val_loss = np.inf
        self.best_params = {k: v.copy() for k, v in model.params.items()}

    def _step(self, batch: dict, train: bool) -> tuple[float, int]:
        """Loss and number of correct predictions on one batch; one update if ``train``."""
        labels = np.asarray(batch["label"])
        logits = self.model.forward(batch["image"])
        loss = float(self.loss_func.forward(logits, labels)) + self.model.reg_loss()
        if train:
            self.model.backward(self.loss_func.backward(logits, labels))
            self.opt.step()
        return loss, int(np.sum(logits.argmax(axis=1) == labels))

    def _epoch(self, loader, train: bool) -> tuple[float, float]:
        """Mean loss and accuracy over one pass of ``loader``."""
        total_loss, correct, seen = 0.0, 0, 0
        for batch in loader:
            loss, right = self._step(batch, train)
            n = len(batch["label"])
            total_loss, correct, seen = total_loss + loss * n, correct + right, seen + n
        if not np.isfinite(total_loss):
            raise FloatingPointError(
                f"the loss became {total_loss}: training diverged; try a smaller learning rate"
            )
        return total_loss / max(seen, 1), correct / max(seen, 1)

    def train(self, epochs: int = 100, patience: int | None = None) -> None:
        """Train for ``epochs`` epochs, then restore the parameters with the lowest val loss.

        Parameters
        ----------
        epochs : int
        patience : int, optional
            Stop after this many epochs without a lower validation loss.
        """
        since_best = 0
        for epoch in range(1, epochs + 1):
            train_loss, train_acc = self._epoch(self.train_dataloader, train=True)
            val_loss, val_acc = self._epoch(self.val_dataloader, train=False)
            self.train_loss_history.append(train_loss)
            self.train_acc_history.append(train_acc)
            self.val_loss_history.append(val_loss)
            self.val_acc_history.append(val_acc)
            if self.verbose and (epoch % self.print_every == 0 or epoch == epochs):
                print(
                    f"(Epoch {epoch} / {epochs}) train loss: {train_loss:.6f}; "
                    f"val loss: {val_loss:.6f}; train acc: {train_acc:.4f}; val acc: {val_acc:.4f}"
                )
            self.opt.lr *= self.lr_decay
            if val_loss < self.best_val_loss:
                self.best_val_loss, since_best = val_loss, 0
                # A copy: the optimizer may change the arrays later on.
                self.best_params = {k: v.copy() for k, v in self.model.params.items()}
            else:
                since_best += 1
                if patience is not None and since_best >= patience:
                    if self.verbose:
                        print(f"Stopping early: no better validation loss for {patience} epochs.")
                    break
        self.model.params.update({k: v.copy() for k, v in self.best_params.items()})
