"""Unit tests of your ``SGDMomentum._update`` in ``exercise_code/networks/optimizer.py``.

``print(SGDMTestWrapper())`` tests one step of the weights and of the velocity, the
first step (no velocity yet) and a momentum other than 0.9: barenet's wrapper,
pointed at your ``optimizer`` module.
"""

from functools import partial

from barenet import grading

from ..networks import optimizer

SGDMTestWrapper = partial(grading.SGDMTestWrapper, optimizer)

__all__ = ["SGDMTestWrapper"]
