"""The CIFAR-10 classification exercise: tune, train and hand in a classifier.

* ``networks/``: the fully connected ``ClassificationNet`` and its layers, given
  (barenet's code, copied here so that your model travels with its own code: the
  grader loads it without barenet);
* ``hyperparameter_tuning.py``: ``random_search``, ``grid_search``, ``findBestConfig``;
* ``solver.py``: the training loop, with early stopping (``patience``);
* ``data/``: datasets, transforms and the exercise's fixed normalisation;
* ``tests/``: ``save_pickle``; ``submit.py``: the zip to hand in.
"""
