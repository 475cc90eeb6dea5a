"""``save_pickle``: stores your model in ``models/`` for the grader."""

from barenet.grading import save_pickle

__all__ = ["save_pickle"]
