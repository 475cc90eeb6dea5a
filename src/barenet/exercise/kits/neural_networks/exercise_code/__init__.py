"""The neural-networks exercise: the code you write and the code given to you.

* ``networks/layer.py``: Sigmoid, Relu, affine_forward, affine_backward (yours);
* ``networks/optimizer.py``: SGDMomentum._update (yours), SGD and Adam (given);
* ``networks/classification_net.py``, ``networks/loss.py``, ``solver.py``: given, and
  built on your layers and optimizer;
* ``tests/``: the unit tests with scores; ``submit.py``: the zip to hand in.
"""
