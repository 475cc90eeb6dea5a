"""The class at a glance, as data: pass rates, misconceptions, statuses, a leaderboard.

Every function takes the submissions' JSON records (``GradeReport.to_dict()``:
``student``, ``status``, ``score``, ``reason``, ``tests`` with ``name``,
``passed`` and ``diagnosis``; for a model exercise also ``accuracy`` and
``passed_mark``) and returns plain data for the class report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ItemStatistic:
    """One test across the class: how many graded submissions passed it.

    Attributes
    ----------
    test : str
    passed : int
    graded : int
        Graded submissions that ran the test.
    """

    test: str
    passed: int
    graded: int

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class Misconception:
    """A diagnosis and the submissions it was made for.

    Attributes
    ----------
    diagnosis : str
        The plain-words explanation, as the learners read it.
    tests : list of str
        The tests in which it was recognised.
    rows : list of int
        Indices of the submissions it hit (each once).
    """

    diagnosis: str
    tests: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def graded(records: Sequence[dict]) -> list[dict]:
    return [r for r in records if r.get("status") == "graded"]


def item_analysis(records: Sequence[dict]) -> list[ItemStatistic]:
    """Each test's pass count over the graded submissions, in the tests' order."""
    counts: dict[str, list[int]] = {}
    for record in graded(records):
        for test in record.get("tests", []):
            entry = counts.setdefault(test["name"], [0, 0])
            entry[0] += bool(test["passed"])
            entry[1] += 1
    return [ItemStatistic(name, p, g) for name, (p, g) in counts.items()]


def ranked_misconceptions(records: Sequence[dict]) -> list[Misconception]:
    """The diagnoses made, most submissions hit first (ties: in order of appearance)."""
    found: dict[str, Misconception] = {}
    for row, record in enumerate(records):
        for test in record.get("tests", []):
            text = test.get("diagnosis")
            if not text or test.get("passed"):
                continue
            entry = found.setdefault(text, Misconception(text))
            if test["name"] not in entry.tests:
                entry.tests.append(test["name"])
            if row not in entry.rows:
                entry.rows.append(row)
    return sorted(found.values(), key=lambda m: -len(m.rows))


def not_graded(records: Sequence[dict]) -> list[int]:
    """Indices of the submissions whose status is not ``graded``."""
    return [i for i, r in enumerate(records) if r.get("status") != "graded"]


def scores(records: Sequence[dict]) -> list[float]:
    """The graded submissions' scores (0-100)."""
    return [float(r["score"]) for r in graded(records)]


def leaderboard(records: Sequence[dict]) -> list[tuple[int, int]]:
    """``(rank, row)`` of the graded model submissions, the highest accuracy first.

    Equal accuracies share a rank (1, 2, 2, 4) and are listed by student name.
    """
    rows = [i for i, r in enumerate(records) if r.get("status") == "graded" and "accuracy" in r]
    rows.sort(key=lambda i: (-float(records[i]["accuracy"]), str(records[i].get("student", ""))))
    ranked, previous, rank = [], None, 0
    for position, row in enumerate(rows, start=1):
        accuracy = float(records[row]["accuracy"])
        if accuracy != previous:
            rank, previous = position, accuracy
        ranked.append((rank, row))
    return ranked
