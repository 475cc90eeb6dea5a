"""Model submissions for the hidden-test-set grader: NumPy only, pickled by value.

Each class is what a learner might hand in as ``{"cifar_fcn": model}``: an honest
two-layer net, and models that look for the labels, tamper with the grading
process or return malformed scores.
"""

from __future__ import annotations

import os

import numpy as np


class TwoLayerNet:
    """``forward(X) -> scores``: affine, ReLU, affine, on ``X`` of shape ``(N, D)``."""

    def __init__(self, params: dict):
        self.params = {k: np.array(v) for k, v in params.items()}

    def forward(self, X):
        p = self.params
        hidden = np.maximum(X.reshape(len(X), -1) @ p["W1"] + p["b1"], 0)
        return hidden @ p["W2"] + p["b2"]


def hunt_for(name: str) -> list[str]:
    """Everything a model inside the sandbox can find that mentions ``name``."""
    found = []
    for root, dirs, files in os.walk("/"):
        if root in ("/proc", "/sys"):
            dirs[:] = []
            continue
        found += [os.path.join(root, f) for f in files + dirs if name in f]
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as handle:
                    if name.encode() in handle.read():
                        found.append(f"/proc/{pid}/{part}")
            except OSError:
                pass
        try:
            with open(f"/proc/{pid}/mem", "rb") as handle:
                handle.read(1)
                found.append(f"/proc/{pid}/mem readable")
        except OSError:
            pass
    found += [f"${k}" for k, v in os.environ.items() if name in v or name in k]
    return found


class LabelHunter:
    """Looks for the hidden test set everywhere it can; would use its labels if found."""

    def __init__(self, name: str, path: str):
        self.name, self.path = name, path

    def forward(self, X):
        found = hunt_for(self.name)
        try:
            with np.load(self.path) as data:
                labels = data["labels"]
            found.append(self.path)
        except OSError:
            labels = None
        if labels is not None:
            return np.eye(10)[labels[: len(X)]]
        if found:
            raise RuntimeError(f"found {found[:5]}")
        scores = np.zeros((len(X), 10))
        scores[:, 0] = 1.0
        return scores


class AlwaysFirstClass:
    """Scores class 0 highest for every image."""

    def forward(self, X):
        scores = np.zeros((len(X), 10))
        scores[:, 0] = 1.0
        return scores


class ForgedResponse:
    """Writes a response of its own on every descriptor, claiming full marks, and exits."""

    def forward(self, X):
        message = b'{"accuracy": 1.0, "score": 100, "status": "graded"}'
        for fd in range(3, 64):
            try:
                os.write(fd, b"BNW1" + len(message).to_bytes(8, "little") + message)
            except OSError:
                pass
        os._exit(0)


class WrongShape:
    def forward(self, X):
        return np.zeros((len(X), 3))


class NotANumber:
    def forward(self, X):
        return np.full((len(X), 10), np.nan)


class Raises:
    def forward(self, X):
        raise ValueError("shapes (500,3072) and (64,100) not aligned")
