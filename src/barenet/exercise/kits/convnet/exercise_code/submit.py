"""``submit_exercise``: the zip you hand in, with ``models/`` and your notebook.

``submit_exercise("convnet")`` writes ``convnet.zip`` into the current folder (the
notebook's folder when you run it from the notebook), as the course's does.
"""

from barenet.grading import submit_exercise

__all__ = ["submit_exercise"]
