"""Finding the submissions in a course platform's export, and whose each one is.

A class arrives as a folder: the platform's download, unzipped. What is in it:

* **Moodle** (assignment, "Download all submissions", with "Download submissions
  in folders"): one folder per participant, ``<Full Name>_<participant id>_
  assignsubmission_file_/``, holding the files as uploaded (``exercise05.zip``);
  ``..._onlinetext_/`` folders hold online text and are skipped. Without folders,
  the files lie side by side as ``<Full Name>_<id>_assignsubmission_file_<file>``.
* **Canvas** (assignment, "Download Submissions"): the files side by side, each
  renamed ``<login>[_late]_<user id>_<submission id>_<original name>``.
* **Gradescope** ("Export Submissions"): ``submission_<id>/`` folders holding the
  uploaded files (a zip or its unpacked content), and ``submission_metadata.yml``
  naming each folder's submitters.
* Anything else laid out the same way: ``FOLDER/<student>/<any>.zip``,
  ``FOLDER/<student>/models/``, or zips directly in ``FOLDER``.

The student is named by the folder (or, for a zip directly in ``FOLDER``, by the
zip's name), less the platform's decorations. A folder that holds no submission,
or more than one, still gets a row: its ``problem`` says why it was not graded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MOODLE_FOLDER = re.compile(r"^(?P<student>.+_\d+)_assignsubmission_file_?$")
MOODLE_FILE = re.compile(r"^(?P<student>.+_\d+)_assignsubmission_file_(?P<file>.+)$")
MOODLE_SKIPPED = re.compile(r"_onlinetext_?$")
CANVAS_FILE = re.compile(
    r"^(?P<login>[A-Za-z0-9]+?)(?:_late)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$",
    re.IGNORECASE,
)
GRADESCOPE_FOLDER = re.compile(r"^submission_\d+$")
GRADESCOPE_METADATA = "submission_metadata.yml"
IGNORED_NAMES = {"__MACOSX", ".DS_Store", "__pycache__"}
MAX_DEPTH = 3  # how deep below a student's folder models/ or a zip is looked for


@dataclass(frozen=True)
class Submission:
    """One student's submission as found in an export.

    Attributes
    ----------
    student : str
        Who handed it in, from the folder's or the zip's name.
    path : Path
        The zip, or the folder that holds ``models/``; for a row with a
        ``problem``, the student's folder.
    layout : str
        ``"moodle"``, ``"canvas"``, ``"gradescope"``, ``"folder"`` (a student's
        folder) or ``"flat"`` (a zip directly in the export folder).
    problem : str or None
        Why no submission could be taken from the student's folder.
    """

    student: str
    path: Path
    layout: str
    problem: str | None = None


def is_submission_folder(path: Path) -> bool:
    """True for an unpacked submission: a folder holding ``models/``."""
    return path.is_dir() and (path / "models").is_dir()


def visible_entries(folder: Path) -> list[Path]:
    """The folder's entries, sorted, without hidden files, macOS leftovers or symlinks."""
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and p.name not in IGNORED_NAMES and not p.is_symlink()
    )


def is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip" and path.is_file() and not path.is_symlink()


def flat_student(zip_path: Path) -> tuple[str, str]:
    """``(student, layout)`` of a zip directly in the export folder, from its name."""
    stem = zip_path.name[: -len(zip_path.suffix)]
    moodle = MOODLE_FILE.match(zip_path.name)
    if moodle:
        return moodle["student"], "moodle"
    canvas = CANVAS_FILE.match(zip_path.name)
    if canvas:
        return f"{canvas['login']}_{canvas['user']}", "canvas"
    return stem, "flat"


def gradescope_submitters(export: Path) -> dict[str, str]:
    """Folder name -> submitters' names (with student ids) from ``submission_metadata.yml``.

    Reads only what is needed, line by line: a top-level ``submission_<id>:`` key
    starts a folder, and its ``:name:`` and ``:sid:`` entries name the submitters.
    An unreadable file gives no names (the folder names are used instead).
    """
    try:
        text = (export / GRADESCOPE_METADATA).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    people: dict[str, list[list[str]]] = {}
    folder = None
    for line in text.splitlines():
        top = re.match(r"^(submission_\d+):\s*$", line)
        if top:
            folder = top[1]
            people[folder] = []
            continue
        entry = re.match(r"^\s*-?\s*:(name|sid):\s*(.*?)\s*$", line)
        if folder is None or entry is None:
            continue
        value = entry[2].strip("'\"")
        if entry[1] == "name" or not people[folder]:
            people[folder].append([value, ""] if entry[1] == "name" else ["", value])
        else:
            people[folder][-1][1] = value
    return {
        name: ", ".join(f"{n} ({sid})" if n and sid else n or sid for n, sid in group)
        for name, group in people.items()
        if group
    }


def folder_student(folder: Path, submitters: dict[str, str]) -> tuple[str, str]:
    """``(student, layout)`` of a student's folder, from its name."""
    moodle = MOODLE_FOLDER.match(folder.name)
    if moodle:
        return moodle["student"], "moodle"
    if GRADESCOPE_FOLDER.match(folder.name):
        return submitters.get(folder.name, folder.name), "gradescope"
    return folder.name, "folder"


def candidates_in(folder: Path, depth: int = 0) -> list[Path]:
    """Submissions inside a student's folder: ``models/`` folders and zips, shallowest first."""
    if is_submission_folder(folder):
        return [folder]
    entries = visible_entries(folder)
    found = [p for p in entries if is_zip(p)]
    if found or depth >= MAX_DEPTH:
        return found
    for sub in (p for p in entries if p.is_dir()):
        found += candidates_in(sub, depth + 1)
    return found


def in_student_folder(folder: Path, submitters: dict[str, str]) -> Submission:
    """The one submission in a student's folder, or a row saying why there is none."""
    student, layout = folder_student(folder, submitters)
    found = candidates_in(folder)
    if len(found) == 1:
        return Submission(student, found[0], layout)
    if not found:
        problem = f"no .zip and no models/ folder in {folder.name}/"
    else:
        names = ", ".join(p.relative_to(folder).as_posix() for p in found[:5])
        problem = f"{len(found)} submissions in {folder.name}/ ({names}); keep one"
    return Submission(student, folder, layout, problem)


def find_submissions(export: str | Path) -> list[Submission]:
    """Every submission in an export folder, in the order of the folder's entries.

    Parameters
    ----------
    export : path-like
        The platform's download, unzipped (see the module's docstring).

    Returns
    -------
    list of Submission
        One per zip directly in ``export`` and one per student folder (with a
        ``problem`` when the folder holds no submission or several). Moodle's
        online-text folders and files that are not zips are left out.
    """
    export = Path(export)
    if not export.is_dir():
        raise NotADirectoryError(f"the export folder {export} is not a folder")
    submitters = gradescope_submitters(export)
    found = []
    for entry in visible_entries(export):
        if is_zip(entry):
            student, layout = flat_student(entry)
            found.append(Submission(student, entry, layout))
        elif entry.is_dir() and not MOODLE_SKIPPED.search(entry.name):
            found.append(in_student_folder(entry, submitters))
    return found
