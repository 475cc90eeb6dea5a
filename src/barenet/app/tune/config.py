"""The settings of a ``barenet tune`` trial as a :class:`RunConfig`, and what it trains.

A study searches over :class:`RunConfig` settings, spelled as ``barenet train`` spells
them (``learning_rate``, ``hidden_size``, ``optimizer='adam'`` ...), so that the best
trial's settings are an ordinary run that ``barenet train`` could have made. The data
that every trial is compared on, and each trial's budget, are fixed for the study.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from barenet.app.config import RECORDED, RunConfig, flag
from barenet.app.factories import make_model, make_solver
from barenet.data.prepare import RunData
from barenet.search_space import SearchSpace
from barenet.solver import Solver

#: Settings a study keeps fixed: its data (every trial validates on the same images) and
#: the budget of a trial.
FIXED = (
    "dataset",
    "data",
    "val_fraction",
    "limit",
    "seed",
    "zca",
    "on_bad_image",
    "epochs",
    "patience",
)

#: Tunable settings that change the training loader only (not the validation data).
DATA_KEYS = ("batch_size", "flip", "crop")

_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def tunable_names() -> list[str]:
    """The RunConfig settings a study may search over."""
    return [
        f.name
        for f in dataclasses.fields(RunConfig)
        if f.name not in FIXED and f.name not in RECORDED
    ]


def _to_bool(name: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"{flag(name)} takes true or false, got {value!r}")


def _to_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"{flag(name)} takes a whole number, got {value!r}")
    return int(value)


def coerce(name: str, value: Any, base: RunConfig) -> Any:
    """A sampled value as the RunConfig field ``name`` holds it.

    Optuna stores numbers and strings; a flag may be ``'true'``; a single hidden width
    sets every hidden layer of the base network (one layer when it has none).
    """
    default = getattr(base, name)
    if name == "hidden_size":
        if isinstance(value, (list, tuple)):
            return [_to_int(name, v) for v in value]
        return [_to_int(name, value)] * max(len(default), 1)
    if isinstance(default, bool):
        return _to_bool(name, value)
    if isinstance(default, int):
        return _to_int(name, value)
    if isinstance(default, float):
        if isinstance(value, bool) or isinstance(value, str):
            raise ValueError(f"{flag(name)} takes a number, got {value!r}")
        return float(value)
    return value  # strings (activation, optimizer, dtype) and std: RunConfig checks them


def trial_config(base: RunConfig, settings: Mapping[str, Any]) -> RunConfig:
    """``base`` with the tunable ``settings`` applied (others are ignored).

    Raises
    ------
    ValueError
        Naming the option, when a value does not fit its setting.
    """
    names = set(tunable_names())
    changes = {k: coerce(k, v, base) for k, v in settings.items() if k in names}
    return base.replace(**changes)


def _sample_values(param) -> list:
    if param.kind == "choice":
        return list(param.choices)
    if param.kind in ("int", "logint"):
        return [int(param.low), int(param.high)]
    return [param.low, param.high]


def check_space(space: SearchSpace, base: RunConfig) -> None:
    """Fail before any trial on a parameter that is no tunable setting, or whose range or
    choices hold a value the setting refuses (e.g. ``dropout=float:0:1.5``).

    Raises
    ------
    ValueError
        Starting with ``--param NAME``.
    """
    names = tunable_names()
    for param in space.params:
        where = f"--param {param.name}"
        if param.name in FIXED:
            raise ValueError(
                f"{where}: {flag(param.name)} is fixed for the whole study (every trial uses "
                f"the same data and budget); give it as {flag(param.name)} instead"
            )
        if param.name not in names:
            raise ValueError(f"{where}: not a setting to tune; one of {', '.join(names)}")
        for value in _sample_values(param):
            try:
                trial_config(base, {param.name: param.decode(value)})
            except (TypeError, ValueError) as error:
                raise ValueError(f"{where}: {error}") from None


class TrialSettings:
    """What every trial of a study shares, and how one trial's network and Solver are built.

    Parameters
    ----------
    base : RunConfig
        The study's fixed settings; a trial's sampled settings replace some of them.
    data : RunData
        The data of ``base``; each trial gets a training loader of its own over the same
        images (with its own batch size and augmentation when it tunes them).
    """

    def __init__(self, base: RunConfig, data: RunData) -> None:
        self.base, self.data = base, data

    def config(self, settings: Mapping[str, Any]) -> RunConfig:
        """The trial's RunConfig: ``base`` with the sampled ``settings``."""
        return trial_config(self.base, settings)

    def check(self, space: SearchSpace) -> None:
        """Fail before any trial on a parameter that cannot be tuned (see :func:`check_space`)."""
        check_space(space, self.base)

    def solver(self, config: RunConfig, **kwargs: Any) -> Solver:
        """A fresh network and its Solver for ``config``, on a fresh training loader.

        Fresh, so that each trial shuffles exactly as ``barenet train`` would with the
        same settings: retraining the best trial gives the same network. ``kwargs`` go to
        :class:`Solver` (``verbose``, ``on_epoch_end``, ...).
        """
        data = self.data.with_training(config.batch_size, config.flip, config.crop)
        model = make_model(config, data.input_size, len(data.classes), data)
        return make_solver(config, model, data, **kwargs)
