"""How much memory one training pass holds: the caches and the gradients.

``compute_network_size(model)``, after a forward and a backward pass, adds up the
bytes of every array in ``model.cache`` and ``model.grads``, counting each buffer
once (a view of an array is no new memory). ``GetHumanReadable(n)`` prints a
byte count as ``'36.81GB'``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

try:  # NumPy >= 2.0
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # NumPy 1.x
    from numpy import byte_bounds

# barenet-kit: include barenet.memory _arrays_in _new_bytes network_size_breakdown compute_network_size


# barenet-kit: include barenet.memory human_readable_size GetHumanReadable
