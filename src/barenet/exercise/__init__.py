"""The exercise kit: the folder a learner fills in, written from barenet's own code.

:func:`write_kit` writes the starter kit (every exercise region a ``# TODO``) or,
with ``solutions=True``, the teacher's kit. :func:`add_arguments` and :func:`run`
are the ``barenet exercise`` command.
"""

from barenet.exercise.command import add_arguments, run
from barenet.exercise.kit import write_kit

__all__ = ["add_arguments", "run", "write_kit"]
