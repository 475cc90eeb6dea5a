"""The course's search API: ``random_search``, ``grid_search`` and ``findBestConfig``.

Each trains one ``model_class`` per configuration with the ``Solver`` (early
stopping with ``patience``) and returns the best model, every ``(config, stats)``
pair, best first, and the best configuration. This is barenet's ``barenet.tuning``.
"""

from barenet.tuning import findBestConfig, grid_search, random_search

__all__ = ["findBestConfig", "grid_search", "random_search"]
