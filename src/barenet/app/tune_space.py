"""The search space of ``barenet tune``: from ``--param`` strings or a small TOML file.

One parameter per string, ``NAME=KIND:ARGS``::

    learning_rate=log:1e-4:1e-2      log-uniform float in [1e-4, 1e-2]
    dropout=float:0:0.5              uniform float
    hidden_size=int:64:512           uniform integer, both ends included
    hidden_size=logint:64:1024       integer, log-uniform
    activation=choice:relu,tanh      one of the listed values (``item`` is an alias)
    hidden_size=choice:512x256,1024  lists are written with ``x`` between the numbers

The same in TOML (a ``[space]`` table; lists may be written as TOML arrays)::

    [space]
    learning_rate = { log = [1e-4, 1e-2] }
    hidden_size = { choice = [[1024, 512], [512, 256]] }
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

RANGE_KINDS = ("log", "float", "int", "logint")
KINDS = (*RANGE_KINDS, "choice")
_ALIASES = {"item": "choice"}


def _parse_scalar(text: str) -> int | float | str:
    """``'3'`` -> 3, ``'1e-3'`` -> 0.001, anything else stays a string."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _label(value: Any) -> int | float | str | bool:
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


@dataclass(frozen=True)
class Param:
    """One tuned setting.

    Attributes
    ----------
    name : str
        The config key it sets (e.g. ``learning_rate``).
    kind : {'log', 'float', 'int', 'logint', 'choice'}
    low, high : float or None
        The range's ends (both included) for the range kinds.
    choices : tuple
        The values of a ``choice``, as Optuna stores them (lists as ``'512x256'``).
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple = field(default_factory=tuple)

    def suggest(self, trial) -> Any:
        """Ask an Optuna trial for a value; lists come back as lists."""
        if self.kind in ("float", "log"):
            return trial.suggest_float(self.name, self.low, self.high, log=self.kind == "log")
        if self.kind in ("int", "logint"):
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), log=self.kind == "logint"
            )
        return _decode(trial.suggest_categorical(self.name, list(self.choices)))

    def decode(self, stored: Any) -> Any:
        """The config value of a value Optuna stored (``'512x256'`` -> ``[512, 256]``)."""
        return _decode(stored) if self.kind == "choice" else stored

    def to_dict(self) -> dict:
        """JSON-ready form, as written to ``tune.json``."""
        if self.kind == "choice":
            return {"name": self.name, "kind": self.kind, "choices": list(self.choices)}
        return {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high}


def make_param(name: str, kind: str, values: Sequence, where: str) -> Param:
    """Validate one parameter; errors start with ``where`` and name the parameter.

    Parameters
    ----------
    name : str
    kind : str
        One of ``KINDS`` (or ``item``).
    values : sequence
        ``[low, high]`` for a range, the choices for ``choice``.
    where : str
        Where the parameter was given (``--param`` or the TOML file), for the message.
    """
    prefix = f"{where} {name!r}"
    if not name or not name.isidentifier():
        raise ValueError(
            f"{where}: parameter name must be an identifier like learning_rate, got {name!r}"
        )
    kind = _ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(f"{prefix}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    values = list(values)
    if kind == "choice":
        if not values:
            raise ValueError(f"{prefix}: a choice needs at least one value")
        labels = tuple(_label(v) for v in values)
        if len(set(labels)) != len(labels):
            raise ValueError(f"{prefix}: the choices repeat a value: {list(labels)}")
        return Param(name, kind, choices=labels)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if len(values) != 2 or not numeric or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{prefix}: {kind} needs two finite numbers LOW:HIGH, got {values}")
    low, high = values
    if low >= high:
        raise ValueError(f"{prefix}: needs LOW < HIGH, got {low} and {high}")
    if kind in ("log", "logint") and low <= 0:
        raise ValueError(f"{prefix}: {kind} needs LOW > 0, got {low}")
    if kind in ("int", "logint") and not all(float(v).is_integer() for v in values):
        raise ValueError(f"{prefix}: {kind} needs whole numbers, got {values}")
    return Param(name, kind, float(low), float(high))


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

    def suggest(self, trial) -> dict:
        """One value per parameter, asked of an Optuna trial."""
        return {p.name: p.suggest(trial) for p in self.params}

    def decode(self, params: Mapping[str, Any]) -> dict:
        """Config values of a trial's ``params`` (as Optuna stores them)."""
        by_name = {p.name: p for p in self.params}
        return {k: by_name[k].decode(v) if k in by_name else v for k, v in params.items()}

    def grid(self) -> dict[str, list]:
        """The grid sampler's search space: every parameter must be a ``choice``."""
        ranges = [p.name for p in self.params if p.kind != "choice"]
        if ranges:
            raise ValueError(
                f"the grid sampler needs a list of values for {ranges}; "
                "give them as choice:A,B,C (or use the tpe or random sampler)"
            )
        return {p.name: list(p.choices) for p in self.params}

    def to_list(self) -> list[dict]:
        return [p.to_dict() for p in self.params]

    @classmethod
    def from_list(cls, items: Iterable[Mapping]) -> SearchSpace:
        """Inverse of :meth:`to_list` (as read back from ``tune.json``)."""
        params = []
        for item in items:
            values = item["choices"] if item["kind"] == "choice" else [item["low"], item["high"]]
            params.append(make_param(item["name"], item["kind"], values, "tune.json"))
        return cls(tuple(params))


def parse_param(text: str) -> Param:
    """One ``--param NAME=KIND:ARGS`` string (see the module's docstring)."""
    name, eq, spec = text.partition("=")
    kind, colon, args = spec.partition(":")
    if not eq or not colon:
        raise ValueError(
            f"--param {text!r}: expected NAME=KIND:ARGS, e.g. learning_rate=log:1e-4:1e-2 "
            "or activation=choice:relu,tanh"
        )
    kind = _ALIASES.get(kind.strip(), kind.strip())
    if kind == "choice":
        values = [_decode(_parse_scalar(v.strip())) for v in args.split(",") if v.strip()]
    else:
        values = [_parse_scalar(v.strip()) for v in args.split(":")]
    return make_param(name.strip(), kind, values, "--param")


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
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ValueError(f"{where} {name!r}: {kind} needs a list of values, got {values!r}")
        params.append(make_param(name, kind, values, where))
    return SearchSpace(tuple(params))


def space_from_toml(path: str | os.PathLike) -> SearchSpace:
    """The ``[space]`` table of a TOML file.

    Raises
    ------
    ValueError
        When the file is not valid TOML, has no ``[space]`` table, has other tables,
        or a parameter is malformed; the message names the file and the parameter.
    """
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
