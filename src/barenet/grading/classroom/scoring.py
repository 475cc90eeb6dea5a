"""Points per test and a submission's score: shares that add up, rounded, never floored.

The rule, in words (the README states it too):

1. **Groups.** 100 points are shared between the wrappers' groups of tests in
   proportion to their weights; by default every group weighs the same, as the
   course gives each wrapper its own score (4 groups: 25 points each).
2. **Tests.** A group's points are shared between its tests in proportion to
   their weights (default 1). barenet's extra tests weigh ``extra`` (default 1:
   they are tests of their group like the course's, and the group is still worth
   its share).
3. **Score.** The exact sum of the passed tests' shares, rounded half up to
   hundredths: 5 of 12 equal tests give 41.67, never 41.
4. **Per test** (Gradescope's ``score`` and ``max_score``): each test's share in
   hundredths, rounded by the largest-remainder rule separately among the passed
   and the failed tests, so that the passed tests add up to exactly the score
   and all of them to exactly 100.

All arithmetic is exact (fractions, then integer hundredths).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HUNDREDTHS = 10_000  # 100 points, in hundredths
#: barenet's tests beyond the course's (see the README's table of names).
BARENET_EXTRA_TESTS = ("SGDMomentumFirstStepTest", "SGDMomentumCustomMomentumTest")


@dataclass(frozen=True)
class Weights:
    """Relative weights of the groups and tests; see the module's docstring.

    Attributes
    ----------
    groups : dict of str -> float
        Group (wrapper) name -> weight; a group not listed weighs 1.
    tests : dict of str -> float
        Test name -> weight inside its group; a test not listed weighs 1 (or ``extra``).
    extra : float
        The weight of barenet's extra tests that ``tests`` does not list.
    source : str
        Where the weights came from, for messages (a file name, or ``"default"``).
    """

    groups: dict[str, float] = field(default_factory=dict)
    tests: dict[str, float] = field(default_factory=dict)
    extra: float = 1.0
    source: str = "default"

    def group_weight(self, group: str) -> Fraction:
        return Fraction(self.groups.get(group, 1))

    def test_weight(self, test: str) -> Fraction:
        default = self.extra if test in BARENET_EXTRA_TESTS else 1
        return Fraction(self.tests.get(test, default))

    def check_names(self, groups: Sequence[tuple[str, Sequence[str]]]) -> None:
        """``ValueError`` naming a group or test the weights mention but the exercise lacks."""
        known_groups = [name for name, _ in groups]
        known_tests = [test for _, tests in groups for test in tests]
        for kind, names, known in (
            ("group", self.groups, known_groups),
            ("test", self.tests, known_tests),
        ):
            unknown = [name for name in names if name not in known]
            if unknown:
                raise ValueError(
                    f"{self.source}: unknown {kind} {unknown[0]!r}; the {kind}s are "
                    f"{', '.join(known)}"
                )


def weight_value(value: object, where: str) -> float:
    """A weight from a file: a finite number >= 0, else ``ValueError`` naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where} must be a finite number >= 0, got {value!r}")
    return float(value)


def weights_from_toml(path: str | os.PathLike) -> Weights:
    """Read ``--weights FILE.toml``: ``extra = W``, ``[groups]`` and ``[tests]`` tables.

    Raises
    ------
    ValueError
        For a file that is not TOML, an unknown key, or a weight that is not a
        number >= 0; the message names the file and the key.
    """
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"--weights: cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"--weights: {path} is not valid TOML: {exc}") from None
    unknown = [key for key in document if key not in ("groups", "tests", "extra")]
    if unknown:
        raise ValueError(f"{path}: unknown key {unknown[0]!r}; expected extra, [groups], [tests]")
    tables = {}
    for name in ("groups", "tests"):
        table = document.get(name, {})
        if not isinstance(table, dict):
            raise ValueError(f"{path}: {name} must be a table ([{name}])")
        tables[name] = {k: weight_value(v, f"{path}: {name}.{k}") for k, v in table.items()}
    extra = weight_value(document.get("extra", 1.0), f"{path}: extra")
    return Weights(tables["groups"], tables["tests"], extra, str(path))


def exact_shares(
    groups: Sequence[tuple[str, Sequence[str]]], weights: Weights
) -> dict[str, Fraction]:
    """Each test's exact share of 100 points (the shares add up to 100).

    A group whose tests all weigh 0 is worth nothing; its share goes to the others.
    """
    masses = {
        name: sum((weights.test_weight(t) for t in tests), Fraction(0)) for name, tests in groups
    }
    live = [(name, tests) for name, tests in groups if masses[name] > 0]
    total_group_weight = sum((weights.group_weight(name) for name, _ in live), Fraction(0))
    if total_group_weight <= 0:
        raise ValueError(f"{weights.source}: every test weighs 0; nothing could be scored")
    shares = {test: Fraction(0) for _, tests in groups for test in tests}
    for name, tests in live:
        group_points = 100 * weights.group_weight(name) / total_group_weight
        for test in tests:
            shares[test] = group_points * weights.test_weight(test) / masses[name]
    return shares


def largest_remainder(exact: Mapping[str, Fraction], total: int) -> dict[str, int]:
    """Integers near ``exact`` (in the same unit) that add up to exactly ``total``.

    Each value is its exact amount scaled to ``total``, rounded down; the units
    still missing go to the largest remainders (ties: in the mapping's order).
    """
    mass = sum(exact.values(), Fraction(0))
    if not exact:
        return {}
    if mass == 0:
        scaled = {key: Fraction(total, len(exact)) for key in exact}
    else:
        scaled = {key: value * total / mass for key, value in exact.items()}
    floors = {key: math.floor(value) for key, value in scaled.items()}
    missing = total - sum(floors.values())
    order = sorted(exact, key=lambda key: scaled[key] - floors[key], reverse=True)
    for key in order[:missing]:
        floors[key] += 1
    return floors


def round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


@dataclass(frozen=True)
class Points:
    """A submission's points, in hundredths.

    Attributes
    ----------
    score : int
        The score in hundredths of a point (``score / 100`` out of 100).
    per_test : dict of str -> (int, int)
        Test -> (points earned, points possible), in hundredths; the earned add
        up to ``score``, the possible to 10000.
    """

    score: int
    per_test: dict[str, tuple[int, int]]


def points(
    groups: Sequence[tuple[str, Sequence[str]]],
    passed: set[str] | frozenset[str],
    weights: Weights | None = None,
) -> Points:
    """The score and per-test points of a submission that passed the tests in ``passed``.

    Parameters
    ----------
    groups : sequence of (group name, test names)
        The exercise's groups in order (e.g. ``suite_groups``' names).
    passed : set of str
        Names of the tests passed.
    weights : Weights, optional
        Default: every group and test weighs 1.
    """
    weights = weights or Weights()
    shares = exact_shares(groups, weights)
    earned_exact = sum((s for t, s in shares.items() if t in passed), Fraction(0))
    score = round_half_up(earned_exact * 100)
    won = largest_remainder({t: s for t, s in shares.items() if t in passed}, score)
    lost = largest_remainder(
        {t: s for t, s in shares.items() if t not in passed}, HUNDREDTHS - score
    )
    per_test = {t: (won[t], won[t]) if t in won else (0, lost[t]) for t in shares}
    return Points(score, per_test)


def as_points(hundredths: int) -> float:
    """Hundredths of a point as a number of points: ``4167 -> 41.67``."""
    return round(hundredths / 100, 2)


def format_points(hundredths: int) -> str:
    """``4167 -> '41.67'``, ``10000 -> '100'``, ``4150 -> '41.5'``."""
    return f"{hundredths / 100:.2f}".rstrip("0").rstrip(".")


def group_names(groups: Sequence[tuple[str, Sequence[object]]]) -> list[tuple[str, list[str]]]:
    """``(group, test names)`` from ``(group, specs)`` pairs (anything with a ``name``)."""
    return [(name, [getattr(t, "name", t) for t in tests]) for name, tests in groups]


def score_tests(
    groups: Sequence[tuple[str, Sequence[str]]], tests: list[dict], weights: Weights | None = None
) -> float:
    """Give each test record its ``points`` and ``max_points``; return the score (0-100).

    Parameters
    ----------
    groups : sequence of (group name, test names)
    tests : list of dict
        Test records with ``name`` and ``passed``; updated in place.
    weights : Weights, optional
    """
    result = points(groups, {t["name"] for t in tests if t["passed"]}, weights)
    for test in tests:
        earned, possible = result.per_test.get(test["name"], (0, 0))
        test["points"], test["max_points"] = as_points(earned), as_points(possible)
    return as_points(result.score)
