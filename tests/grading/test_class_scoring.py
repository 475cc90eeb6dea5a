"""Points per group and test, the rounding rule, and weights from a TOML file."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from barenet.grading.classroom.scoring import (
    Weights,
    as_points,
    exact_shares,
    format_points,
    largest_remainder,
    points,
    weights_from_toml,
)

# The exercise's groups as the suite runs them (names from the README's table).
GROUPS = [
    ("SigmoidTestWrapper", ["SigmoidForwardTest", "SigmoidBackwardTest"]),
    ("ReluTestWrapper", ["ReluForwardTest", "ReluBackwardTest"]),
    (
        "AffineTestWrapper",
        [
            "AffineForwardTest",
            "AffineBackwardTestDx",
            "AffineBackwardTestDw",
            "AffineBackwardTestDb",
        ],
    ),
    (
        "SGDMTestWrapper",
        [
            "SGDM_Weight_Test",
            "SGDM_Velocity_Test",
            "SGDMomentumFirstStepTest",
            "SGDMomentumCustomMomentumTest",
        ],
    ),
]
ALL_TESTS = [t for _, tests in GROUPS for t in tests]


def test_each_group_is_worth_its_share_by_default():
    shares = exact_shares(GROUPS, Weights())
    assert shares["SigmoidForwardTest"] == Fraction(25, 2)
    assert shares["AffineBackwardTestDw"] == Fraction(25, 4)
    # barenet's extra tests share the momentum group's 25 points with the course's two
    assert shares["SGDMomentumFirstStepTest"] == Fraction(25, 4)
    assert sum(shares.values()) == 100


def test_score_is_rounded_half_up_never_floored():
    twelve_equal = [("all", ALL_TESTS)]
    result = points(twelve_equal, set(ALL_TESTS[:5]))
    assert result.score == 4167  # 41.666... rounds to 41.67 (floored it was 41)
    assert format_points(result.score) == "41.67"
    # a share ending in exactly 5 thousandths rounds up: 1 of 8 tests is 12.5 points
    eight = [("g", [f"t{i}" for i in range(8)])]
    assert points(eight, {"t0"}).score == 1250
    three = [("g", ["a", "b", "c"])]
    assert points(three, {"a", "b"}).score == 6667  # 66.666... -> 66.67


@pytest.mark.parametrize("passed_count", range(13))
def test_per_test_points_add_up_exactly_to_the_score_and_to_100(passed_count):
    passed = set(ALL_TESTS[::-1][:passed_count])
    result = points(GROUPS, passed)
    earned = sum(Decimal(str(as_points(e))) for e, _ in result.per_test.values())
    possible = sum(Decimal(str(as_points(p))) for _, p in result.per_test.values())
    assert earned == Decimal(str(as_points(result.score)))
    assert possible == Decimal(100)
    for test, (e, p) in result.per_test.items():
        assert (e == p) if test in passed else (e == 0)
        exact = exact_shares(GROUPS, Weights())[test] * 100
        assert abs(p - exact) < 1  # each test within a hundredth of its exact share


def test_largest_remainder_adds_up_and_stays_close():
    shares = {"a": Fraction(1, 3), "b": Fraction(1, 3), "c": Fraction(1, 3)}
    assert largest_remainder(shares, 100) == {"a": 34, "b": 33, "c": 33}
    assert largest_remainder({}, 0) == {}


def test_weights_file_sets_groups_tests_and_the_extra_tests(tmp_path: Path):
    path = tmp_path / "weights.toml"
    path.write_text(
        "extra = 0\n[groups]\nAffineTestWrapper = 2\n[tests]\nAffineBackwardTestDx = 2\n"
    )
    weights = weights_from_toml(path)
    weights.check_names(GROUPS)
    shares = exact_shares(GROUPS, weights)
    assert shares["SGDMomentumFirstStepTest"] == 0  # extras count nothing
    assert shares["SGDM_Weight_Test"] == 10  # 20 points for the group, shared by 2
    assert shares["AffineBackwardTestDx"] == 16  # 40 points, Dx weighs 2 of 5
    assert shares["AffineForwardTest"] == 8
    assert sum(shares.values()) == 100
    full = points(GROUPS, set(ALL_TESTS) - {"SGDMomentumFirstStepTest"}, weights)
    assert full.score == 10000  # failing a test worth nothing costs nothing


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extra = -1\n", "extra must be a finite number >= 0"),
        ("[groups]\nSigmoidTestWrapper = 'a lot'\n", "groups.SigmoidTestWrapper must be a number"),
        ("bonus = 1\n", "unknown key 'bonus'"),
        ("[groups\n", "not valid TOML"),
    ],
)
def test_bad_weights_files_are_named(tmp_path: Path, text: str, message: str):
    path = tmp_path / "weights.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        weights_from_toml(path)


def test_unknown_names_and_all_zero_weights_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown test 'SigmoidForwardTset'"):
        Weights(tests={"SigmoidForwardTset": 2}, source="w.toml").check_names(GROUPS)
    with pytest.raises(ValueError, match="every test weighs 0"):
        exact_shares(GROUPS, Weights(tests=dict.fromkeys(ALL_TESTS, 0.0)))
    with pytest.raises(ValueError, match="cannot read"):
        weights_from_toml(tmp_path / "missing.toml")
