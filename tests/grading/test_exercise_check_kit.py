"""``barenet check`` on an exercise kit: the kit is imported as the package it is.

Its files import each other relatively (``from .layer import Relu``), as the
notebook imports them; a note is printed only for a real problem in them.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from barenet.app.cli import main
from barenet.exercise import write_kit
from barenet.grading.local.check import check_paths


@pytest.fixture(scope="module")
def solution_kit(tmp_path_factory) -> Path:
    return write_kit(tmp_path_factory.mktemp("check") / "solution", solutions=True)


@pytest.mark.parametrize("inside", ["", "exercise_code"], ids=["kit", "exercise_code"])
def test_the_solution_kit_checks_without_a_note(solution_kit, inside, capsys):
    assert main(["check", str(solution_kit / inside)]) == 0
    out = capsys.readouterr().out
    assert "Note:" not in out and out.splitlines()[-1] == "Score: 100/100"


def test_a_file_of_the_kit_given_by_name_imports_its_siblings(solution_kit):
    files = ["networks/classification_net.py", "networks/optimizer.py"]
    result = check_paths([solution_kit / "exercise_code" / f for f in files], verbose=False)
    assert not result.notes and not result.missing  # the layers come through .layer


def test_the_starter_kit_imports_cleanly_and_scores_0(tmp_path):
    result = check_paths([write_kit(tmp_path / "starter")], verbose=False)
    assert result.notes == ()
    assert result.score == 0


def test_a_broken_layer_file_gives_one_note_that_names_it(tmp_path):
    kit = write_kit(tmp_path / "starter")
    layer = kit / "exercise_code/networks/layer.py"
    layer.write_text(layer.read_text() + "\ndef broken(:\n")
    result = check_paths([kit], verbose=False)
    # networks/__init__.py, classification_net.py, solver.py, ... all stop at it: one note.
    assert len(result.notes) == 1, result.notes
    assert result.notes[0].startswith(
        "could not import exercise_code/networks/layer.py: SyntaxError: invalid syntax"
    )


def test_an_error_while_importing_is_named_where_it_happens(tmp_path):
    kit = write_kit(tmp_path / "starter")
    optimizer = kit / "exercise_code/networks/optimizer.py"
    optimizer.write_text(optimizer.read_text() + "\nundefined_name_here\n")
    notes = check_paths([kit / "exercise_code"], verbose=False).notes
    assert notes == (
        "could not import networks/optimizer.py: NameError: name 'undefined_name_here' "
        "is not defined",
    )


def test_another_exercise_code_in_this_process_is_neither_checked_nor_replaced(
    solution_kit, tmp_path
):
    other = types.ModuleType("exercise_code")
    sys.modules["exercise_code"] = other
    try:
        result = check_paths([solution_kit], verbose=False)
        assert result.score == 100 and not result.notes
        assert sys.modules["exercise_code"] is other
        assert not [n for n in sys.modules if n.startswith("exercise_code.")]
    finally:
        del sys.modules["exercise_code"]


def test_barenet_objects_of_another_exercise_give_no_note(tmp_path):
    # The batch-norm kit's networks.py imports barenet's Relu for its Sequential: the
    # batch-norm exercise does not test Relu, so nothing is said about it.
    kit = write_kit(tmp_path / "bn", solutions=True, exercise="batchnorm-dropout")
    assert check_paths([kit], verbose=False).notes == ()
    mixed = tmp_path / "mixed.py"
    mixed.write_text("from barenet.layers import Relu, dropout_forward\n")
    notes = check_paths([mixed], verbose=False, exercise="batchnorm-dropout").notes
    assert len(notes) == 1 and notes[0].startswith("dropout_forward is barenet's own")
