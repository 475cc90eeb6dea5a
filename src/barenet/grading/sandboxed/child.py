"""The grader's child process: load a submission, call it on the grader's inputs, send back data.

Runs inside the sandbox, never in the grader: unpickling runs arbitrary code.
Usage (the grader starts it with this folder on ``sys.path``)::

    python -I -c "from barenet_sandboxed.child import main; main()" WORKDIR RESPONSE_FD DROP_UID

In order, before any of the submission's code runs: read the request (the
calls to make) from stdin, drop to ``DROP_UID`` when started as root (exit
status 71 when that fails), read the pickles' bytes (so that nothing of the
submission is ever read with root's privileges), and make barenet
unimportable. Then unpickle, make the calls, and write one message (see
:mod:`.wire`) to the file descriptor ``RESPONSE_FD``: the keys found, a load
error if any, and the records of each plan. No verdict is computed here.
"""

from __future__ import annotations

import importlib.abc
import os
import pickle
import sys
from pathlib import Path

import numpy as np

from .exercise_names import EXERCISE_KEYS
from .learner_calls import error_data, run_plans
from .wire import decode, encode

PICKLE_SUFFIXES = (".p", ".pkl", ".pickle")
MAX_PICKLE_BYTES = 50 * 1024 * 1024
EXIT_NO_DROP = 71  # could not give up root: nothing of the submission was run


class BlockBarenet(importlib.abc.MetaPathFinder):
    """Refuses ``import barenet``: a submission must not run barenet's reference code."""

    def find_spec(self, name, path=None, target=None):
        if name == "barenet" or name.startswith("barenet."):
            raise ModuleNotFoundError(
                f"No module named {name!r} (barenet is not available to submissions)", name=name
            )
        return None


def read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def pickle_bytes(workdir: Path) -> list[tuple[str, bytes]]:
    """The submission's pickles under ``workdir/models``, by name, as bytes."""
    models = workdir / "models"
    files = sorted(
        p
        for p in models.glob("*")
        if p.suffix in PICKLE_SUFFIXES and p.is_file() and not p.is_symlink()
    )
    return [(p.name, p.read_bytes()[:MAX_PICKLE_BYTES]) for p in files]


def drop_privileges(uid: int) -> None:
    """Become ``uid`` (group likewise, no supplementary groups) when running as root."""
    if os.geteuid() != 0 or uid < 0:
        return
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    except OSError:
        os._exit(EXIT_NO_DROP)
    if os.geteuid() == 0 or os.getuid() == 0:
        os._exit(EXIT_NO_DROP)


def load_namespace(files: list[tuple[str, bytes]]) -> dict:
    """Unpickle and merge the submission's dicts (this runs the submission's code)."""
    if not files:
        raise FileNotFoundError("no models/*.p file in the submission")
    namespace: dict = {}
    for name, data in files:
        value = pickle.loads(data)
        if not isinstance(value, dict):
            raise TypeError(f"models/{name} holds a {type(value).__name__}, not a dict")
        namespace.update(value)
    return namespace


def respond(
    workdir: Path, plans: list, files: list[tuple[str, bytes]], mode: str = "record"
) -> dict:
    """The response: keys found, load error, and one list of records per plan."""
    try:
        namespace = load_namespace(files)
    except BaseException as exc:  # whatever the pickle does, report it
        error = error_data(exc)
        error["module"] = str(getattr(exc, "name", "") or "")[:100]
        return {"keys": [], "load_error": error, "records": []}
    keys = [str(k)[:100] for k in list(namespace)[:200]]
    implementations = dict.fromkeys(EXERCISE_KEYS, namespace)
    records = run_plans(plans, implementations, mode)
    return {"keys": keys, "load_error": None, "records": records}


def main(argv: list[str] | None = None) -> None:
    """Serve one request (see the module's docstring)."""
    argv = sys.argv[1:] if argv is None else argv
    workdir, response_fd, drop_uid = Path(argv[0]), int(argv[1]), int(argv[2])
    request = decode(read_all(0))
    try:  # unpickling learner code needs it; import it while its files are still readable
        import cloudpickle  # noqa: F401
    except ImportError:
        pass
    drop_privileges(drop_uid)
    files = pickle_bytes(workdir)  # read without root's privileges, never with them
    sys.meta_path.insert(0, BlockBarenet())
    for name in [m for m in sys.modules if m == "barenet" or m.startswith("barenet.")]:
        del sys.modules[name]
    sys.stdout = sys.stderr  # what the submission prints goes nowhere that matters
    np.seterr(all="warn")
    response = respond(workdir, request["plans"], files, str(request.get("mode", "record")))
    message = encode(response)
    view = memoryview(message)
    while view:
        view = view[os.write(response_fd, view) :]
    os.close(response_fd)
    os._exit(0)  # no atexit handlers of the submission: the response is complete
