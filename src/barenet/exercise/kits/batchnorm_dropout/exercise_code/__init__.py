"""The batch-norm, layer-norm and dropout exercise: the code you write and the code given.

* ``layers.py``: the batch normalisation forward and backward passes,
  ``layernorm_forward`` / ``layernorm_backward`` and ``dropout_forward`` /
  ``dropout_backward`` (yours);
* ``networks.py``: the layer objects ``BatchNorm1d`` and ``BatchNorm2d``, built on your
  batch normalisation, and barenet's ``Sequential``, ``Linear``, ``Relu`` and ``Dropout``;
* ``tests/``: the test wrappers of your layers and ``save_pickle``; ``submit.py``: the
  zip to hand in.
"""
