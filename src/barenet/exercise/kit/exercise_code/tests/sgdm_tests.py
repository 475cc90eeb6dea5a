"""Unit tests of your ``SGDMomentum._update`` in ``exercise_code/networks/optimizer.py``."""

from barenet import grading

from ..networks import optimizer


def SGDMTestWrapper(**options):
    """Test one step of the weights and of the velocity, and the default momentum."""
    return grading.SGDMTestWrapper(optimizer, **options)


__all__ = ["SGDMTestWrapper"]
