"""What every layer shares: the contract, and the type of a cache.

Every layer follows one contract:

* ``forward(x) -> (out, cache)``: ``out`` has the dtype of ``x``; ``cache`` holds what
  the backward pass needs and nothing else.
* ``backward(dout, cache) -> dx``: the exact derivative of *this* forward for the
  upstream gradient ``dout``. It never averages over the batch (the loss owns the
  batch average), never writes into ``dout``, ``x`` or the cache, and returns the
  same result when called twice.

Layers with parameters return their gradients too: ``affine_backward`` returns
``(dx, dw, db)``.
"""

from __future__ import annotations

Cache = tuple
