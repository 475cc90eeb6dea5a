"""The optimizers by name: the one list that the command line and tuning derive from.

A name is what ``barenet train --optimizer`` and a run's ``config.json`` say; each
class's ``defaults`` name its hyperparameters and give their default values.
"""

from __future__ import annotations

from barenet.optim.optimizers import SGD, Adam, Optimizer, SGDMomentum, SGDNesterov

#: Every optimizer by its command-line name, the default (Adam) first.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "adam": Adam,
    "sgd_momentum": SGDMomentum,
    "sgd_nesterov": SGDNesterov,
    "sgd": SGD,
}


def optimizer_class(name: str) -> type[Optimizer]:
    """The optimizer class registered as ``name``.

    Raises
    ------
    ValueError
        Naming the known optimizers, when ``name`` is not one of them.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    return OPTIMIZERS[name]
