"""``save_pickle`` stores your work in ``models/``; the notebook's cells check each layer."""

from barenet.grading import save_pickle

__all__ = ["save_pickle"]
