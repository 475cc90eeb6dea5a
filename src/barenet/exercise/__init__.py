"""The exercise kit: the folder a learner fills in, written from barenet's own code.

:func:`write_kit` writes the starter kit (every exercise region a ``# TODO``) or,
with ``solutions=True``, the teacher's kit. The ``barenet exercise`` command is in
:mod:`barenet.app.exercise`.
"""

from barenet.exercise.kit import write_kit

__all__ = ["write_kit"]
