"""Hyperparameter search as the course's next exercise asks for it: grid and random search.

A *config* is a flat dict that mixes settings of the model (``hidden_size``, ``reg``,
``activation``, ...), of the :class:`~barenet.solver.Solver` (``learning_rate``,
``lr_decay``, ``optimizer``, ...) and of the optimizer (``momentum``, ``beta1``, ...).
:func:`split_config` sends each key to the place whose signature names it, so that
``reg`` reaches the network and ``learning_rate`` the solver; a key nobody takes raises.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from barenet.layers import LeakyRelu, Relu
from barenet.networks import ClassificationNet
from barenet.optim import Adam
from barenet.search_space import SearchSpace, space_from_pairs
from barenet.solver import Solver, TrainingDivergedError

#: Solver arguments that a search sets itself and a config may not override.
_SOLVER_RESERVED = {"model", "train_dataloader", "val_dataloader"}


def _default_grid() -> dict:
    return {"learning_rate": [1e-4, 1e-3, 1e-2], "reg": [1e-4, 1e-5]}


def _default_random() -> dict:
    return {
        "learning_rate": ([1e-4, 1e-2], "log"),
        "hidden_size": ([64, 512], "int"),
        "reg": ([1e-6, 1e-3], "log"),
        "activation": ([Relu(), LeakyRelu()], "item"),
    }


def _parameter_names(callable_: Any) -> set[str]:
    """Names a callable accepts as keywords (for a class: its ``__init__``)."""
    params = inspect.signature(callable_).parameters.values()
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name for p in params if p.kind in kinds} - {"self"}


def split_config(
    config: Mapping[str, Any], model_class: type = ClassificationNet
) -> tuple[dict, dict]:
    """Send each setting of a mixed config to the model or to the solver.

    Parameters
    ----------
    config : mapping of str to value
        Model keywords (as ``model_class`` names them), ``Solver`` keywords, and the
        optimizer's hyperparameters (its ``defaults``, e.g. ``momentum``), which are
        gathered into the solver's ``optim_config``.
    model_class : type
        The network class the model keywords are checked against.

    Returns
    -------
    model_kwargs, solver_kwargs : dict
        Keyword arguments for ``model_class(...)`` and ``Solver(model, train, val, ...)``.

    Raises
    ------
    ValueError
        For a key that neither the model, the solver nor the optimizer takes.
    """
    model_keys = _parameter_names(model_class)
    solver_keys = _parameter_names(Solver) - _SOLVER_RESERVED
    optimizer = config.get("optimizer", Adam)
    optim_keys = set(getattr(optimizer, "defaults", {}))
    model_kwargs, solver_kwargs, optim_config = {}, {}, {}
    for key, value in config.items():
        if key in model_keys:
            model_kwargs[key] = value
        elif key in solver_keys:
            solver_kwargs[key] = value
        elif key in optim_keys:
            optim_config[key] = value
        else:
            raise ValueError(
                f"config key {key!r} is not a setting of {model_class.__name__} "
                f"({', '.join(sorted(model_keys))}), of Solver ({', '.join(sorted(solver_keys))}) "
                f"or of {getattr(optimizer, '__name__', optimizer)} ({', '.join(sorted(optim_keys))})"
            )
    if optim_config:
        solver_kwargs["optim_config"] = {**solver_kwargs.get("optim_config", {}), **optim_config}
    return model_kwargs, solver_kwargs


def random_space(random_search_spaces: Mapping[str, Any]) -> SearchSpace:
    """The course's ``{key: (values, kind)}`` as a :class:`~barenet.search_space.SearchSpace`.

    Raises
    ------
    ValueError
        Naming the key, when an entry is not a pair or its values do not fit its kind.
    """
    return space_from_pairs(random_search_spaces, "random_search_spaces")


def sample_config(random_search_spaces: Mapping[str, Any], rng: np.random.Generator) -> dict:
    """Draw one config: log-uniform, uniform integer (both ends included), uniform, or one item."""
    return random_space(random_search_spaces).draw(rng)


def grid_configs(grid_search_spaces: Mapping[str, Iterable]) -> list[dict]:
    """Every combination of the listed values, the last key varying fastest."""
    for key, values in grid_search_spaces.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValueError(
                f"grid_search_spaces[{key!r}] must be a list of values, got {values!r}"
            )
        if len(list(values)) == 0:
            raise ValueError(f"grid_search_spaces[{key!r}] must list at least one value")
    keys = list(grid_search_spaces)
    products = itertools.product(*(list(grid_search_spaces[k]) for k in keys))
    return [dict(zip(keys, combo, strict=True)) for combo in products]


def _fit_one(train_loader, val_loader, config: dict, epochs: int, patience, model_class, seed):
    """Train one config; returns ``(model, stats)``. A diverged run scores ``inf``."""
    model_kwargs, solver_kwargs = split_config(config, model_class)
    if seed is not None and "seed" in _parameter_names(model_class):
        model_kwargs.setdefault("seed", seed)
    solver_kwargs.setdefault("verbose", False)  # the search prints one summary per config
    model = model_class(**model_kwargs)
    solver = Solver(model, train_loader, val_loader, **solver_kwargs)
    try:
        solver.train(epochs=epochs, patience=patience)
    except TrainingDivergedError as error:
        print(f"  diverged: {error}")
    stats = solver.best_model_stats
    if stats is None:
        stats = {"val_loss": math.inf, "train_loss": math.inf, "val_acc": 0.0, "train_acc": 0.0}
    return model, stats


def findBestConfig(  # noqa: N802 (the course's name)
    train_loader: Iterable[dict],
    val_loader: Iterable[dict],
    configs: Sequence[Mapping[str, Any]],
    epochs: int,
    patience: int | None,
    model_class: type = ClassificationNet,
    *,
    seed: int | None = 0,
) -> tuple[Any, list[tuple[dict, dict]], dict]:
    """Train every config with early stopping and keep the one with the lowest val loss.

    Parameters
    ----------
    train_loader, val_loader : iterable of dict
        Re-iterable batches ``{'image': (B, ...), 'label': (B,)}``.
    configs : sequence of dict
        Mixed model / solver / optimizer settings (see :func:`split_config`).
    epochs : int
        Most epochs per config.
    patience : int or None
        Early stopping: epochs without a lower val loss before a config stops.
    model_class : type
        Built as ``model_class(**model_settings)``.
    seed : int or None
        Weight-init seed of every config that does not set ``seed`` itself, so that
        configs differ only in their settings.

    Returns
    -------
    best_model : model_class
        The winner, holding the parameters of its best epoch.
    results : list of (config, stats)
        ``stats`` is that run's ``Solver.best_model_stats``.
    best_config : dict
    """
    configs = [dict(c) for c in configs]
    if not configs:
        raise ValueError("configs must hold at least one config")
    for config in configs:
        split_config(config, model_class)  # fail on a bad key before any training
    best_val, best_model, best_config, results = math.inf, None, None, []
    for i, config in enumerate(configs):
        print(f"\nEvaluating Config #{i + 1} [of {len(configs)}]:\n", config)
        model, stats = _fit_one(
            train_loader, val_loader, config, epochs, patience, model_class, seed
        )
        results.append((config, stats))
        print(f"  val loss {stats['val_loss']:.6f}, val acc {stats['val_acc']:.4f}")
        if best_model is None or stats["val_loss"] < best_val:
            best_val, best_model, best_config = stats["val_loss"], model, config
    print(f"\nSearch done. Best Val Loss = {best_val}")
    print("Best Config:", best_config)
    return best_model, results, best_config


def grid_search(
    train_loader: Iterable[dict],
    val_loader: Iterable[dict],
    grid_search_spaces: Mapping[str, Iterable] | None = None,
    model_class: type = ClassificationNet,
    epochs: int = 20,
    patience: int | None = 5,
    *,
    seed: int | None = 0,
) -> tuple[Any, list[tuple[dict, dict]], dict]:
    """Try every combination of ``grid_search_spaces`` (``{key: [values]}``).

    Returns ``(best_model, results, best_config)`` as :func:`findBestConfig` does.
    """
    spaces = _default_grid() if grid_search_spaces is None else grid_search_spaces
    configs = grid_configs(spaces)
    return findBestConfig(
        train_loader, val_loader, configs, epochs, patience, model_class, seed=seed
    )


def random_search(
    train_loader: Iterable[dict],
    val_loader: Iterable[dict],
    random_search_spaces: Mapping[str, Any] | None = None,
    model_class: type = ClassificationNet,
    num_search: int = 20,
    epochs: int = 20,
    patience: int | None = 5,
    *,
    seed: int | None = 0,
) -> tuple[Any, list[tuple[dict, dict]], dict]:
    """Try ``num_search`` configs drawn from typed ranges.

    Parameters
    ----------
    random_search_spaces : dict
        ``{key: ([low, high], kind)}`` with kind ``'log'`` (log-uniform, low > 0),
        ``'int'`` (uniform integer, both ends included), ``'float'`` (uniform) or
        ``'logint'``, or ``{key: ([a, b, ...], 'item')}`` for one of the listed values;
        the grammar of :mod:`barenet.search_space`, which ``barenet tune`` shares.
    num_search : int
        Number of configs.
    seed : int or None
        Seeds the draws and the weight init: the same seed gives the same search.

    Returns ``(best_model, results, best_config)`` as :func:`findBestConfig` does.
    """
    spaces = _default_random() if random_search_spaces is None else random_search_spaces
    if int(num_search) < 1:
        raise ValueError(f"num_search must be >= 1, got {num_search!r}")
    space = random_space(spaces)
    rng = np.random.default_rng(seed)
    configs = [space.draw(rng) for _ in range(int(num_search))]
    return findBestConfig(
        train_loader, val_loader, configs, epochs, patience, model_class, seed=seed
    )
