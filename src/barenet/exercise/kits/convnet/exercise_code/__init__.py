"""The ConvNet exercise: the code you write and the code given.

* ``layers.py``: the convolution (``conv_forward``, ``conv_param_grads``,
  ``conv_input_grad``), ``max_pool_forward`` / ``max_pool_backward``, spatial batch
  normalisation (with the batch normalisation of the previous exercise) and spatial
  group normalisation, forward and backward (yours);
* ``networks.py``: the layer objects ``Conv2d`` and ``MaxPool2d`` built on your
  layers, and ``ThreeLayerConvNet`` made of them;
* ``tests/``: the test wrappers of your layers and ``save_pickle``; ``submit.py``: the
  zip to hand in.
"""
