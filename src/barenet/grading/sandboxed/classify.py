"""The model exercise's child: load a submitted classifier, score the images it is sent.

Runs inside the sandbox, like :mod:`.child`, and starts the same way (request on
stdin, pickles read and privileges dropped before any of the submission's code
runs, barenet unimportable). The request holds the test **images only**
(``uint8``, ``(N, H, W, C)``) with the exercise's normalisation; the labels
never leave the grader. The child normalises each batch as the exercise's kit
does (``(x / 255 - mean) / std``, flattened to ``(B, H*W*C)``), calls the
model's ``forward`` and sends back the class scores, ``(N, C)``. The grader
takes the argmax and computes the accuracy itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from .child import BlockBarenet, drop_privileges, load_namespace, pickle_bytes, read_all
from .learner_calls import error_data
from .wire import decode, encode


def find_model(namespace: dict, key: str) -> object:
    """The model under ``key``; ``KeyError`` naming the keys found when it is not there."""
    if key in namespace:
        return namespace[key]
    found = ", ".join(str(k)[:50] for k in list(namespace)[:20]) or "nothing"
    raise KeyError(f"no {key!r} in the pickle (it holds: {found})")


def class_scores(model: object, request: dict) -> np.ndarray:
    """The model's scores for every image of the request, batch by batch, ``(N, C)``."""
    images = request["images"]
    mean = np.asarray(request["mean"], dtype=np.float32)
    std = np.asarray(request["std"], dtype=np.float32)
    batch = int(request["batch"])
    outputs = []
    for start in range(0, len(images), batch):
        x = (images[start : start + batch].astype(np.float32) / 255.0 - mean) / std
        scores = np.asarray(model.forward(x.reshape(len(x), -1)), dtype=np.float64)
        outputs.append(scores)
    return np.concatenate(outputs) if outputs else np.zeros((0, 0))


def respond(request: dict, files: list[tuple[str, bytes]]) -> dict:
    """``{"scores": (N, C)}``, or a ``load_error`` / ``error`` as data."""
    try:
        namespace = load_namespace(files)
        model = find_model(namespace, str(request["key"]))
    except BaseException as exc:  # whatever the pickle does, report it
        error = error_data(exc)
        error["module"] = str(getattr(exc, "name", "") or "")[:100]
        return {"load_error": error}
    try:
        return {"scores": class_scores(model, request)}
    except BaseException as exc:
        return {"error": error_data(exc)}


def main(argv: list[str] | None = None) -> None:
    """Serve one request: ``WORKDIR RESPONSE_FD DROP_UID`` as for :mod:`.child`."""
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
    sys.stdout = sys.stderr
    np.seterr(all="ignore")
    message = encode(respond(request, files))
    view = memoryview(message)
    while view:
        view = view[os.write(response_fd, view) :]
    os.close(response_fd)
    os._exit(0)
