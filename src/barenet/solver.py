"""``Solver``: the training loop, its histories, best-model tracking and early stopping."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from barenet.losses import CrossEntropyFromLogits, Loss
from barenet.optim import LEARNING_RATE, Adam, WeightAverage
from barenet.prediction import batch_outputs


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite during training."""


class Solver:
    """Trains a model on batches ``{'image': (B, ...), 'label': (B,)}``.

    Parameters
    ----------
    model : Network
        Has ``params``, ``grads``, ``forward``, ``backward`` and optionally ``reg_loss``,
        ``train`` and ``eval``.
    train_dataloader, val_dataloader : iterable of dict
        Re-iterable: each pass over them is one epoch.
    loss_func : Loss, optional
        Defaults to :class:`CrossEntropyFromLogits`.
    learning_rate : float
        Initial step size (default :data:`barenet.optim.LEARNING_RATE`, 1e-3).
    optimizer : class
        An optimizer class built as ``optimizer(model, loss_func, learning_rate, **optim_config)``.
    verbose : bool
        Print one line per ``print_every`` epochs.
    print_every : int
        Epoch interval of the printed lines.
    lr_decay : float
        The learning rate is multiplied by this after every epoch.
    optim_config : dict, optional
        Hyperparameters for the optimizer (``momentum``, ``beta1``, ``beta2``, ``epsilon``).
    progress : bool
        Show a tqdm progress bar over each epoch's batches.
    on_epoch_end : callable, optional
        Called as ``on_epoch_end(solver)`` after each epoch's histories are updated.
    lr_schedule : callable, optional
        ``lr_schedule(step) -> factor``, e.g. :class:`barenet.optim.WarmupDecay`: the
        ``step``-th update (from 0, counted over every :meth:`train` call) uses
        ``learning_rate * lr_decay**epoch * factor``. ``None`` (the default): the rate
        changes only by ``lr_decay``, once per epoch.
    weight_average : float, optional
        The decay of an exponential moving average of the weights
        (:class:`barenet.optim.WeightAverage`), updated after every update and used for
        validation: the best parameters kept and restored are averaged ones (a model's
        ``buffers``, batch norm's running statistics, are the live ones). ``None`` (the
        default): no average.
    train_epochs : dict, optional
        Parameter key -> the number of epochs it is trained for, counted from the
        first: from then on it is in the model's ``frozen`` set (see
        :class:`barenet.Sequential`), so it keeps its value and ``backward`` may stop
        lower. ``{'b1': 3}``: the first layer's bias trains for three epochs.

    Attributes
    ----------
    train_loss_history, val_loss_history, train_acc_history, val_acc_history : list of float
        One entry per finished epoch. The training values are averages over the
        epoch's batches, measured while the weights were changing.
    best_params : dict
        Copy of the parameters with the lowest validation loss so far.
    best_buffers : dict
        Copy of the model's ``buffers`` (batch norm's running statistics) at that epoch,
        restored with the parameters; empty for a model without them.
    step_count : int
        Updates made so far (the step that ``lr_schedule`` is called with next).
    weight_averager : WeightAverage or None
        The moving average of the weights, when ``weight_average`` is given.
    interrupted : bool
        Whether the last :meth:`train` was ended by Ctrl-C (KeyboardInterrupt).
    best_model_stats : dict or None
        The histories' entries at the best epoch (see the property).
    """

    def __init__(
        self,
        model,
        train_dataloader: Iterable[dict],
        val_dataloader: Iterable[dict],
        loss_func: Loss | None = None,
        learning_rate: float = LEARNING_RATE,
        optimizer: type = Adam,
        verbose: bool = True,
        print_every: int = 1,
        lr_decay: float = 1.0,
        optim_config: dict | None = None,
        progress: bool = False,
        on_epoch_end: Callable[[Solver], None] | None = None,
        lr_schedule: Callable[[int], float] | None = None,
        weight_average: float | None = None,
        train_epochs: dict[str, int] | None = None,
    ):
        if int(print_every) < 1:
            raise ValueError(f"print_every must be >= 1, got {print_every!r}")
        if not lr_decay > 0:
            raise ValueError(f"lr_decay must be > 0, got {lr_decay!r}")
        if lr_schedule is not None and not callable(lr_schedule):
            raise ValueError(
                f"lr_schedule must be callable as lr_schedule(step), got {lr_schedule!r}"
            )
        self.train_epochs = self._checked_train_epochs(model, train_epochs or {})
        self.model = model
        self.train_dataloader = train_dataloader
        self.val_dataloader = val_dataloader
        self.loss_func = loss_func if loss_func is not None else CrossEntropyFromLogits()
        self.opt = optimizer(model, self.loss_func, learning_rate, **(optim_config or {}))
        self.verbose = verbose
        self.print_every = int(print_every)
        self.lr_decay = float(lr_decay)
        self.progress = progress
        self.on_epoch_end = on_epoch_end
        self.learning_rate = self.opt.lr
        self.lr_schedule = lr_schedule
        self.weight_average = weight_average
        self.reset()

    def reset(self) -> None:
        """Forget the histories and the best parameters (not the model's weights)."""
        self.epoch = 0
        self.best_val_loss = math.inf
        self.best_epoch = 0
        self.best_params = {k: v.copy() for k, v in self.model.params.items()}
        self.best_buffers = self._buffers_copy()
        self.train_loss_history: list[float] = []
        self.val_loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.stop_reason = ""
        self.interrupted = False
        self.step_count = 0
        self.weight_averager = None
        if self.weight_average is not None:
            self.weight_averager = WeightAverage(self.weight_average)

    @property
    def best_model_stats(self) -> dict | None:
        """Losses and accuracies of the epoch with the lowest validation loss.

        ``{'val_loss', 'train_loss', 'val_acc', 'train_acc', 'epoch'}``, or None before
        the first finished epoch. The search in :mod:`barenet.tuning` ranks runs by it.
        """
        if self.best_epoch == 0:
            return None
        i = self.best_epoch - 1
        return {
            "val_loss": self.val_loss_history[i],
            "train_loss": self.train_loss_history[i],
            "val_acc": self.val_acc_history[i],
            "train_acc": self.train_acc_history[i],
            "epoch": self.best_epoch,
        }

    @staticmethod
    def _checked_train_epochs(model, train_epochs: dict) -> dict[str, int]:
        if train_epochs and not isinstance(getattr(model, "frozen", None), set):
            raise ValueError(
                "train_epochs needs a model with a `frozen` set of parameter keys "
                f"(a barenet.Sequential); {type(model).__name__} has none"
            )
        unknown = set(train_epochs) - set(model.params)
        if unknown:
            raise ValueError(
                f"train_epochs: unknown parameter keys {sorted(unknown)}; "
                f"the model's are {sorted(model.params)}"
            )
        for key, epochs in train_epochs.items():
            if isinstance(epochs, bool) or int(epochs) != epochs or epochs < 0:
                raise ValueError(f"train_epochs[{key!r}] must be an int >= 0, got {epochs!r}")
        return {key: int(epochs) for key, epochs in train_epochs.items()}

    def _freeze_finished(self) -> None:
        """Put the parameters whose training epochs are over into ``model.frozen``."""
        if not self.train_epochs:
            return
        done = {key for key, epochs in self.train_epochs.items() if self.epoch >= epochs}
        self.model.frozen = (self.model.frozen - set(self.train_epochs)) | done

    def _set_mode(self, training: bool) -> None:
        if hasattr(self.model, "train"):
            self.model.train(training)

    def _loss(self, logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        loss, dout = self.loss_func(logits, labels)
        reg_loss = getattr(self.model, "reg_loss", None)
        return float(loss) + (reg_loss() if reg_loss else 0.0), dout

    def _check_finite(self, loss: float, batch_index: int) -> None:
        if not math.isfinite(loss):
            raise TrainingDivergedError(
                f"loss became {loss} in epoch {self.epoch + 1}, batch {batch_index + 1}: "
                f"training diverged. Try a smaller learning rate (now {self.opt.lr:g})."
            )

    def _batches(self, loader: Iterable[dict], desc: str):
        if not self.progress:
            return loader
        from barenet.progress import progress_bar  # drawn on a terminal or in a notebook

        total = len(loader) if hasattr(loader, "__len__") else None
        return progress_bar(loader, desc=desc, total=total, leave=False, unit="batch")

    def _train_epoch(self) -> tuple[float, float]:
        """One pass of updates over the training data; returns (mean loss, accuracy)."""
        self._set_mode(True)
        self._freeze_finished()
        total_loss, correct, seen = 0.0, 0, 0
        bar = self._batches(self.train_dataloader, f"epoch {self.epoch + 1}")
        for i, batch in enumerate(bar):
            images, labels = batch["image"], np.asarray(batch["label"])
            logits = self.model.forward(images)
            loss, dout = self._loss(logits, labels)
            self._check_finite(loss, i)
            self.model.backward(dout)
            self._update()
            n = len(labels)
            total_loss += loss * n
            correct += int(np.count_nonzero(logits.argmax(axis=1) == labels))
            seen += n
            if bar is not self.train_dataloader and i % 10 == 0:
                bar.set_postfix(loss=f"{total_loss / seen:.4f}")
        if seen == 0:
            raise ValueError("train_dataloader yielded no batches")
        return total_loss / seen, correct / seen

    def _update(self) -> None:
        """One optimizer step at the scheduled rate, then the weights' average."""
        if self.lr_schedule is not None:
            factor = self.lr_schedule(self.step_count)
            self.opt.lr = self.learning_rate * self.lr_decay**self.epoch * factor
        self.opt.step()
        self.step_count += 1
        if self.weight_averager is not None:
            self.weight_averager.update(self.model.params)

    @contextmanager
    def _evaluation_weights(self) -> Iterator[None]:
        """The averaged weights in the model for the duration (the live ones after)."""
        average = self.weight_averager.average if self.weight_averager else {}
        if not average:
            yield
            return
        live = dict(self.model.params)
        self.model.params.update(average)
        try:
            yield
        finally:
            self.model.params.update(live)

    def evaluate(self, loader: Iterable[dict]) -> tuple[float, float]:
        """Mean loss (with the regulariser) and accuracy over ``loader``, in eval mode."""
        total_loss, correct, seen = 0.0, 0, 0
        for labels, logits, _ in batch_outputs(self.model, [loader]):
            loss = float(self.loss_func.forward(logits, labels))
            n = len(labels)
            total_loss += loss * n
            correct += int(np.count_nonzero(logits.argmax(axis=1) == labels))
            seen += n
        if seen == 0:
            return math.nan, math.nan
        reg_loss = getattr(self.model, "reg_loss", None)
        return total_loss / seen + (reg_loss() if reg_loss else 0.0), correct / seen

    def _record(self, train_loss, train_acc, val_loss, val_acc) -> None:
        self.train_loss_history.append(train_loss)
        self.train_acc_history.append(train_acc)
        self.val_loss_history.append(val_loss)
        self.val_acc_history.append(val_acc)
        if val_loss < self.best_val_loss or math.isnan(self.best_val_loss):
            self.best_val_loss, self.best_epoch = val_loss, self.epoch
            # Copy: the optimizer may update the arrays in place later on.
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}
            self.best_buffers = self._buffers_copy()

    def _buffers_copy(self) -> dict:
        """A copy of the model's running statistics (batch norm), if it keeps any: the
        best parameters are restored together with the statistics they were used with."""
        return {k: v.copy() for k, v in getattr(self.model, "buffers", {}).items()}

    def _print_epoch(self, epochs: int) -> None:
        if self.verbose and (self.epoch % self.print_every == 0 or self.epoch == epochs):
            print(
                f"(Epoch {self.epoch} / {epochs}) "
                f"train loss: {self.train_loss_history[-1]:.6f}; "
                f"val loss: {self.val_loss_history[-1]:.6f}; "
                f"train acc: {self.train_acc_history[-1]:.4f}; "
                f"val acc: {self.val_acc_history[-1]:.4f}"
            )

    def train(self, epochs: int = 100, patience: int | None = None) -> Solver:
        """Train for up to ``epochs`` more epochs, then restore the best parameters.

        Parameters
        ----------
        epochs : int
            Number of epochs to run; every one of them updates the weights.
        patience : int, optional
            Stop after this many epochs in a row without a lower validation loss.

        Raises
        ------
        TrainingDivergedError
            When a training loss is NaN or infinite; the histories of finished epochs
            and the best parameters are kept and restored before raising.

        Notes
        -----
        Ctrl-C (KeyboardInterrupt) ends training cleanly after restoring the best
        parameters; the histories keep every finished epoch.
        """
        if int(epochs) < 0:
            raise ValueError(f"epochs must be >= 0, got {epochs!r}")
        if patience is not None and int(patience) < 1:
            raise ValueError(f"patience must be >= 1 or None, got {patience!r}")
        last_epoch = self.epoch + int(epochs)
        start = time.perf_counter()
        try:
            while self.epoch < last_epoch:
                train_loss, train_acc = self._train_epoch()
                with self._evaluation_weights():
                    val_loss, val_acc = self.evaluate(self.val_dataloader)
                    self.epoch += 1
                    self._record(train_loss, train_acc, val_loss, val_acc)
                self._print_epoch(last_epoch)
                self.opt.lr *= self.lr_decay
                if self.on_epoch_end is not None:
                    self.on_epoch_end(self)
                if patience is not None and self.epoch - self.best_epoch >= patience:
                    self.stop_reason = (
                        f"Stopping early at epoch {self.epoch}: no lower validation loss "
                        f"for {patience} epochs (best {self.best_val_loss:.6f} at epoch "
                        f"{self.best_epoch})."
                    )
                    break
        except KeyboardInterrupt:
            self.interrupted = True
            self.stop_reason = (
                f"Interrupted during epoch {self.epoch + 1}; keeping {self.epoch} finished epochs."
            )
        finally:
            self.train_time = time.perf_counter() - start
            self.model.params.update({k: v.copy() for k, v in self.best_params.items()})
            if self.best_buffers:
                self.model.set_buffers({k: v.copy() for k, v in self.best_buffers.items()})
            self._set_mode(True)
        if self.stop_reason and self.verbose:
            print(self.stop_reason)
        return self
