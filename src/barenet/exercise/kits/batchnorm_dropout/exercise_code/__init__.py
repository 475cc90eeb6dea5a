"""The batch normalisation and dropout exercise: the code you write and the code given.

* ``layers.py``: the batch normalisation forward and backward passes and
  ``dropout_forward`` / ``dropout_backward`` (yours);
* ``networks.py``: the layer objects ``BatchNorm1d`` and ``BatchNorm2d``, built on your
  batch normalisation, and barenet's ``Sequential``, ``Linear``, ``Relu`` and ``Dropout``;
* ``tests/``: ``save_pickle``; ``submit.py``: the zip to hand in.
"""
