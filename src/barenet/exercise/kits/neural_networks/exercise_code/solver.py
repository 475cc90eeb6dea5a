"""``Solver``: trains a model with an optimizer and keeps the histories.

It runs on the optimizers of ``networks/optimizer.py``, so your
``SGDMomentum._update`` is the one that trains when you pick ``SGDMomentum``.

This is barenet's own training loop (``barenet.Solver``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from barenet.optim import WeightAverage
from barenet.prediction import batch_outputs

from .networks.loss import CrossEntropyFromLogits, Loss
from .networks.optimizer import LEARNING_RATE, Adam

# barenet-kit: include barenet.solver TrainingDivergedError Solver
