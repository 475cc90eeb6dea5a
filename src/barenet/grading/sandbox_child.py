"""The grader's child process: unpickle a submission and run the exercise suite on it.

Run only inside the limits of :mod:`barenet.grading.sandbox`, never in the
grader's own process: unpickling runs arbitrary code. Usage::

    python -m barenet.grading.sandbox_child WORKDIR CONVENTION (strict|lenient)

It loads every ``WORKDIR/models/*.p`` (a dict each, merged in file-name order),
runs the suite on the exercise names found, and writes one line
``BARENET_RESULT {json}`` as the last line of stdout. Anything the submission
prints goes to stderr.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

from barenet.grading.sandboxed.exercise_names import ALL_KEYS
from barenet.grading.suite import run_exercise_suite

RESULT_MARKER = "BARENET_RESULT "
PICKLE_PATTERNS = ("*.p", "*.pkl", "*.pickle")


def pickle_files(workdir: Path) -> list[Path]:
    """The submission's pickles under ``workdir/models``, sorted by name."""
    models = workdir / "models"
    return sorted({p for pattern in PICKLE_PATTERNS for p in models.glob(pattern) if p.is_file()})


def load_submission(workdir: Path) -> dict:
    """Unpickle and merge every pickle of the submission.

    Raises
    ------
    FileNotFoundError
        When there is no pickle.
    TypeError
        When a pickle holds something other than a dict.
    """
    files = pickle_files(workdir)
    if not files:
        raise FileNotFoundError("no models/*.p file in the submission")
    namespace: dict = {}
    for file in files:
        with open(file, "rb") as handle:
            data = pickle.load(handle)
        if not isinstance(data, dict):
            raise TypeError(f"models/{file.name} holds a {type(data).__name__}, not a dict")
        namespace.update(data)
    return namespace


def grade_workdir(workdir: Path, convention: str = "exact", strict: bool = False) -> dict:
    """The JSON-ready result: the suite's, or ``{"error": ...}`` with a reason."""
    try:
        namespace = load_submission(workdir)
    except BaseException as exc:  # whatever the pickle does, report it
        return {"error": f"could not load the submission: {type(exc).__name__}: {exc}"}
    expected = sorted(ALL_KEYS)
    if not any(name in namespace for name in expected):
        found = ", ".join(map(repr, sorted(map(str, namespace)))) or "nothing"
        return {
            "error": f"no exercise callables in the pickle (found {found}); expected keys "
            f"among {', '.join(expected)}"
        }
    result = run_exercise_suite(namespace, verbose=False, convention=convention, strict=strict)
    return result.to_dict()


def main(argv: list[str]) -> int:
    """Grade ``argv[0]`` (the working folder) and print the result line."""
    result_stream = sys.stdout
    sys.stdout = sys.stderr  # the submission's prints must not mix with the result
    try:
        result = grade_workdir(Path(argv[0]), argv[1], argv[2] == "strict")
    except BaseException as exc:  # the suite never should; report it anyway
        result = {"error": f"grading failed: {type(exc).__name__}: {exc}"}
    result_stream.write(RESULT_MARKER + json.dumps(result, default=str) + "\n")
    result_stream.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
