"""``Solver``: trains a model and keeps the loss and accuracy histories.

``solver.train(epochs=..., patience=P)`` stops after ``P`` epochs without a lower
validation loss and restores the best epoch's weights (early stopping). This is
barenet's training loop (``barenet.Solver``) with its optimizers.
"""

from barenet.optim import SGD, Adam, SGDMomentum
from barenet.solver import Solver

__all__ = ["SGD", "Adam", "SGDMomentum", "Solver"]
