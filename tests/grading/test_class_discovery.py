"""Finding submissions in course platforms' exports, generated here in each layout."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from barenet.grading.classroom.discovery import find_submissions


def write_zip(path: Path) -> Path:
    """A submission zip as submit_exercise writes it (the pickle's content does not matter here)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("models/NN.p", b"not read by discovery")
    return path


def students(export: Path) -> list[tuple[str, str, str | None]]:
    """(student, path relative to the export, problem) of every submission found."""
    return [
        (s.student, s.path.relative_to(export).as_posix(), s.problem)
        for s in find_submissions(export)
    ]


def test_moodle_export_in_folders_names_each_participant(tmp_path: Path):
    write_zip(tmp_path / "Alice Smith_1201_assignsubmission_file_" / "exercise05.zip")
    write_zip(tmp_path / "Bob Jones_1202_assignsubmission_file_" / "exercise05.zip")
    (tmp_path / "Bob Jones_1202_assignsubmission_onlinetext_").mkdir()
    (tmp_path / "Bob Jones_1202_assignsubmission_onlinetext_" / "onlinetext.html").write_text("hi")
    assert students(tmp_path) == [
        ("Alice Smith_1201", "Alice Smith_1201_assignsubmission_file_/exercise05.zip", None),
        ("Bob Jones_1202", "Bob Jones_1202_assignsubmission_file_/exercise05.zip", None),
    ]
    assert {s.layout for s in find_submissions(tmp_path)} == {"moodle"}


def test_moodle_export_without_folders(tmp_path: Path):
    write_zip(tmp_path / "Alice Smith_1201_assignsubmission_file_exercise05.zip")
    [found] = find_submissions(tmp_path)
    assert (found.student, found.layout) == ("Alice Smith_1201", "moodle")


def test_canvas_export_names_login_and_user_id(tmp_path: Path):
    write_zip(tmp_path / "smithalice_48213_9911032_exercise05.zip")
    write_zip(tmp_path / "jonesbob_late_48214_9911040_exercise05-1.zip")
    (tmp_path / "smithalice_48213_9911033_notes.pdf").write_bytes(b"%PDF")
    assert students(tmp_path) == [
        ("jonesbob_48214", "jonesbob_late_48214_9911040_exercise05-1.zip", None),
        ("smithalice_48213", "smithalice_48213_9911032_exercise05.zip", None),
    ]


def test_gradescope_export_reads_submitters_from_metadata(tmp_path: Path):
    export = tmp_path / "assignment_4242_export"
    write_zip(export / "submission_101" / "exercise05.zip")
    (export / "submission_102" / "models").mkdir(parents=True)  # Gradescope unpacked the zip
    (export / "submission_102" / "models" / "NN.p").write_bytes(b"x")
    (export / "submission_103").mkdir()
    write_zip(export / "submission_103" / "exercise05" / "exercise05.zip")
    (export / "submission_metadata.yml").write_text(
        "submission_101:\n  :submitters:\n  - :name: Alice Smith\n    :sid: '1201'\n"
        "    :email: alice@example.org\n  :created_at: 2026-11-30 10:00:00\n"
        "submission_102:\n  :submitters:\n  - :name: Bob Jones\n    :sid: '1202'\n"
        "  - :name: Carol White\n    :sid: '1203'\n"
    )
    assert students(export) == [
        ("Alice Smith (1201)", "submission_101/exercise05.zip", None),
        ("Bob Jones (1202), Carol White (1203)", "submission_102", None),
        ("submission_103", "submission_103/exercise05/exercise05.zip", None),
    ]


def test_generic_folders_and_flat_zips_together(tmp_path: Path):
    write_zip(tmp_path / "alice" / "exercise05.zip")
    (tmp_path / "bob" / "models").mkdir(parents=True)
    write_zip(tmp_path / "carol.zip")
    (tmp_path / "grades.csv").write_text("not a submission")
    (tmp_path / "__MACOSX").mkdir()
    assert students(tmp_path) == [
        ("alice", "alice/exercise05.zip", None),
        ("bob", "bob", None),
        ("carol", "carol.zip", None),
    ]


def test_a_folder_without_or_with_several_submissions_keeps_its_row(tmp_path: Path):
    (tmp_path / "dave").mkdir()
    (tmp_path / "dave" / "readme.txt").write_text("forgot")
    write_zip(tmp_path / "erin" / "first.zip")
    write_zip(tmp_path / "erin" / "second.zip")
    found = {s.student: s.problem for s in find_submissions(tmp_path)}
    assert found["dave"] == "no .zip and no models/ folder in dave/"
    assert found["erin"] == "2 submissions in erin/ (first.zip, second.zip); keep one"


def test_symlinks_are_not_followed(tmp_path: Path):
    outside = write_zip(tmp_path / "outside" / "secret.zip")
    export = tmp_path / "export"
    export.mkdir()
    (export / "mallory.zip").symlink_to(outside)
    (export / "trudy").symlink_to(outside.parent)
    assert find_submissions(export) == []


def test_not_a_folder_is_refused(tmp_path: Path):
    with pytest.raises(NotADirectoryError, match="not a folder"):
        find_submissions(tmp_path / "missing")
