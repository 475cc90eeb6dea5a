"""A hyperparameter search space: one grammar for :mod:`barenet.tuning` and ``barenet tune``.

A space is an ordered set of :class:`Param`, each a setting's name and where its values
come from. The kinds::

    log      a float drawn log-uniformly from [low, high] (low > 0)
    float    a float drawn uniformly from [low, high]
    int      an integer drawn uniformly from [low, high], both ends included
    logint   an integer drawn log-uniformly from [low, high] (low > 0)
    choice   one of the listed values (``item`` is the same kind)

Three spellings reach :func:`make_param`, which checks every one alike: the course's
``{name: ([low, high], kind)}`` (:func:`space_from_pairs`), a command line's
``NAME=KIND:ARGS`` strings (:func:`space_from_flags`) and a TOML ``[space]`` table
(:func:`space_from_toml`)::

    learning_rate=log:1e-4:1e-2      dropout=float:0:0.5       hidden_size=int:64:512
    activation=choice:relu,tanh      hidden_size=choice:512x256,1024   (lists with ``x``)

    [space]
    learning_rate = { log = [1e-4, 1e-2] }
    hidden_size = { choice = [[1024, 512], [512, 256]] }

A space draws values itself (:meth:`SearchSpace.draw`, with a NumPy generator) or asks
an Optuna trial for them (:meth:`SearchSpace.suggest`; Optuna is not imported here).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RANGE_KINDS = ("log", "float", "int", "logint")
KINDS = (*RANGE_KINDS, "choice")
ALIASES = {"item": "choice"}


def _parse_scalar(text: str) -> int | float | str:
    """``'3'`` -> 3, ``'1e-3'`` -> 0.001, anything else stays a string."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _label(value: Any) -> Any:
    """A value Optuna can store: lists become ``'512x256'``."""
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return value


def _decode(label: Any) -> Any:
    """Inverse of :func:`_label` for lists of integers."""
    if isinstance(label, str) and "x" in label:
        parts = label.split("x")
        if all(p.isdigit() for p in parts):
            return [int(p) for p in parts]
    return label


def _repeated(labels: Sequence) -> bool:
    """Whether two hashable labels are equal (objects such as layers compare by identity)."""
    seen = set()
    for label in labels:
        try:
            key = (type(label), label)
            if key in seen:
                return True
            seen.add(key)
        except TypeError:  # unhashable: cannot be told apart cheaply, and need not be
            continue
    return False


@dataclass(frozen=True)
class Param:
    """One searched setting.

    Attributes
    ----------
    name : str
        The setting it sets (e.g. ``learning_rate``).
    kind : {'log', 'float', 'int', 'logint', 'choice'}
    low, high : float or None
        The range's ends (both included) for the range kinds.
    choices : tuple
        The values of a ``choice``, as given (lists stay lists, objects stay objects).
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple = field(default_factory=tuple)

    @property
    def labels(self) -> tuple:
        """The choices as Optuna stores them: lists as ``'512x256'``."""
        return tuple(_label(v) for v in self.choices)

    def draw(self, rng: np.random.Generator) -> Any:
        """One value drawn with ``rng``: log-uniform, uniform, or one of the choices."""
        if self.kind == "choice":
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.kind == "int":
            return int(rng.integers(int(self.low), int(self.high), endpoint=True))
        if self.kind == "float":
            return float(rng.uniform(self.low, self.high))
        exponent = rng.uniform(math.log10(self.low), math.log10(self.high))
        if self.kind == "logint":
            return int(min(max(round(10**exponent), self.low), self.high))
        return float(10**exponent)

    def suggest(self, trial) -> Any:
        """Ask an Optuna trial for a value; lists come back as lists."""
        if self.kind in ("float", "log"):
            return trial.suggest_float(self.name, self.low, self.high, log=self.kind == "log")
        if self.kind in ("int", "logint"):
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), log=self.kind == "logint"
            )
        return self.decode(trial.suggest_categorical(self.name, list(self.labels)))

    def decode(self, stored: Any) -> Any:
        """The setting's value of a value Optuna stored (``'512x256'`` -> ``[512, 256]``)."""
        if self.kind != "choice":
            return stored
        labels = self.labels
        return self.choices[labels.index(stored)] if stored in labels else _decode(stored)

    def to_dict(self) -> dict:
        """JSON-ready form, as written to ``tune.json`` (choices as their labels)."""
        if self.kind == "choice":
            return {"name": self.name, "kind": self.kind, "choices": list(self.labels)}
        return {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high}


def make_param(name: str, kind: str, values: Sequence, where: str) -> Param:
    """Check one parameter; every error starts with ``where`` and the parameter's name.

    Parameters
    ----------
    name : str
    kind : str
        One of ``KINDS`` (or ``item``).
    values : list or tuple
        ``[low, high]`` for a range, the values of a ``choice``.
    where : str
        Where the parameter was given (``--param``, a TOML file, ``random_search_spaces``).

    Raises
    ------
    ValueError
        Naming the parameter and what was expected.
    """
    prefix = f"{where} {name!r}"
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"{where}: parameter name must be an identifier like learning_rate, got {name!r}"
        )
    kind = ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(f"{prefix}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"{prefix}: {kind} needs a list of values, got {values!r}")
    if kind == "choice":
        return _choice(name, values, prefix)
    return _range(name, kind, values, prefix)


def _choice(name: str, values: Sequence, prefix: str) -> Param:
    if not values:
        raise ValueError(f"{prefix}: a choice needs at least one value")
    param = Param(name, "choice", choices=tuple(values))
    if _repeated(param.labels):
        raise ValueError(f"{prefix}: the choices repeat a value: {list(param.labels)}")
    return param


def _range(name: str, kind: str, values: Sequence, prefix: str) -> Param:
    numeric = all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
        for v in values
    )
    if len(values) != 2 or not numeric or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{prefix}: {kind} needs two finite numbers LOW:HIGH, got {list(values)}")
    low, high = (float(v) for v in values)
    if low > high:
        raise ValueError(f"{prefix}: needs LOW <= HIGH, got {values[0]} and {values[1]}")
    if kind in ("log", "logint") and low <= 0:
        raise ValueError(f"{prefix}: {kind} needs LOW > 0, got {values[0]}")
    if kind in ("int", "logint") and not (low.is_integer() and high.is_integer()):
        raise ValueError(f"{prefix}: {kind} needs whole numbers, got {list(values)}")
    return Param(name, kind, low, high)


@dataclass(frozen=True)
class SearchSpace:
    """An ordered set of :class:`Param`, with unique names."""

    params: tuple[Param, ...]

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"search space: parameter(s) {repeated} given more than once")
        if not names:
            raise ValueError("search space: give at least one parameter to tune")

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def draw(self, rng: np.random.Generator) -> dict:
        """One value per parameter, drawn with ``rng`` in the space's order."""
        return {p.name: p.draw(rng) for p in self.params}

    def suggest(self, trial) -> dict:
        """One value per parameter, asked of an Optuna trial."""
        return {p.name: p.suggest(trial) for p in self.params}

    def decode(self, params: Mapping[str, Any]) -> dict:
        """Setting values of a trial's ``params`` (as Optuna stores them)."""
        by_name = {p.name: p for p in self.params}
        return {k: by_name[k].decode(v) if k in by_name else v for k, v in params.items()}

    def grid(self) -> dict[str, list]:
        """Optuna's grid sampler's search space: every parameter must be a ``choice``."""
        ranges = [p.name for p in self.params if p.kind != "choice"]
        if ranges:
            raise ValueError(
                f"the grid sampler needs a list of values for {ranges}; "
                "give them as choice:A,B,C (or use the tpe or random sampler)"
            )
        return {p.name: list(p.labels) for p in self.params}

    def to_list(self) -> list[dict]:
        return [p.to_dict() for p in self.params]

    @classmethod
    def from_list(cls, items: Iterable[Mapping]) -> SearchSpace:
        """Inverse of :meth:`to_list` (as read back from ``tune.json``)."""
        params = []
        for item in items:
            if item["kind"] == "choice":
                values = [_decode(v) for v in item["choices"]]
            else:
                values = [item["low"], item["high"]]
            params.append(make_param(item["name"], item["kind"], values, "tune.json"))
        return cls(tuple(params))


def parse_param(text: str, where: str = "--param") -> Param:
    """One ``NAME=KIND:ARGS`` string (see the module's docstring)."""
    name, eq, spec = text.partition("=")
    kind, colon, args = spec.partition(":")
    if not eq or not colon:
        raise ValueError(
            f"{where} {text!r}: expected NAME=KIND:ARGS, e.g. learning_rate=log:1e-4:1e-2 "
            "or activation=choice:relu,tanh"
        )
    kind = ALIASES.get(kind.strip(), kind.strip())
    if kind == "choice":
        values = [_decode(_parse_scalar(v.strip())) for v in args.split(",") if v.strip()]
    else:
        values = [_parse_scalar(v.strip()) for v in args.split(":")]
    return make_param(name.strip(), kind, values, where)


def space_from_flags(texts: Sequence[str]) -> SearchSpace:
    """The space of several ``--param`` strings."""
    return SearchSpace(tuple(parse_param(t) for t in texts))


def space_from_mapping(table: Mapping[str, Any], where: str) -> SearchSpace:
    """``{name: {kind: values}}``, as in a TOML ``[space]`` table."""
    params = []
    for name, spec in table.items():
        if not isinstance(spec, Mapping) or len(spec) != 1:
            raise ValueError(
                f"{where} {name!r}: expected one kind and its values, "
                f"e.g. {name} = {{ log = [1e-4, 1e-2] }}; got {spec!r}"
            )
        ((kind, values),) = spec.items()
        params.append(make_param(name, kind, values, where))
    return SearchSpace(tuple(params))


def space_from_pairs(spaces: Mapping[str, Any], where: str) -> SearchSpace:
    """``{name: (values, kind)}``, the course's ``random_search_spaces``.

    Raises
    ------
    ValueError
        When an entry is not such a pair, or its values do not fit its kind.
    """
    params = []
    for name, pair in spaces.items():
        if not (isinstance(pair, Sequence) and len(pair) == 2 and isinstance(pair[1], str)):
            raise ValueError(
                f"{where} {name!r}: must be a pair (values, kind) with kind one of "
                f"{', '.join(KINDS)}; got {pair!r}"
            )
        values, kind = pair
        params.append(make_param(name, kind, values, where))
    return SearchSpace(tuple(params))


def _toml_reader():
    """``tomllib`` (Python 3.11 on), else ``tomli`` (the ``tune`` extra installs it)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


def space_from_toml(path: str | os.PathLike) -> SearchSpace:
    """The ``[space]`` table of a TOML file.

    Raises
    ------
    ValueError
        When the file is not valid TOML, has no ``[space]`` table, has other tables,
        or a parameter is malformed; the message names the file and the parameter.
    """
    tomllib = _toml_reader()
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"--space: {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"--space: {path} is not valid TOML: {error}") from None
    extra = sorted(set(document) - {"space"})
    if "space" not in document or extra:
        raise ValueError(
            f"--space: {path} must hold one [space] table of parameters"
            + (f"; unexpected {extra}" if extra else "")
        )
    return space_from_mapping(document["space"], f"{path} [space]")
