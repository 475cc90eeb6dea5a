"""Helpers shared by the test areas: the real CIFAR-10 zip and subsets of it, image
files, a local HTTP server."""

from __future__ import annotations

import contextlib
import http.server
import io
import pickle
import socket
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

#: The project's root folder.
REPO_ROOT = Path(__file__).resolve().parents[1]

#: Where the real CIFAR-10 JPEG zip lies, below a folder above the project.
SHARED_ZIP_PATH = Path("shared") / "data" / "cifar10-jpg.zip"


def find_cifar_zip() -> Path:
    """The real CIFAR-10 JPEG zip (read only: never written to), found in the nearest
    folder above the project that holds ``shared/data/cifar10-jpg.zip``; the path
    next to the project when none does."""
    for folder in REPO_ROOT.parents:
        if (folder / SHARED_ZIP_PATH).is_file():
            return folder / SHARED_ZIP_PATH
    return REPO_ROOT.parent / SHARED_ZIP_PATH


CIFAR_ZIP = find_cifar_zip()

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def require_cifar_zip() -> Path:
    if not CIFAR_ZIP.is_file():
        pytest.skip(f"the CIFAR-10 zip is not at {CIFAR_ZIP}")
    return CIFAR_ZIP


def build_cifar_subset(target: Path, per_class: int = 20, splits=("train",)) -> Path:
    """Copy the first ``per_class`` images of each class of ``splits`` into a new zip."""
    source = require_cifar_zip()
    with zipfile.ZipFile(source) as real, zipfile.ZipFile(target, "w") as subset:
        taken: dict[str, int] = {}
        for info in real.infolist():
            parts = info.filename.split("/")
            if len(parts) != 4 or parts[1] not in splits:
                continue
            folder = "/".join(parts[:3])
            if taken.get(folder, 0) < per_class:
                taken[folder] = taken.get(folder, 0) + 1
                subset.writestr(info.filename, real.read(info))
    return target


def write_image(path: Path, size=(32, 32), seed: int = 0, fmt: str | None = None) -> np.ndarray:
    """Write a random RGB image (PNG unless the suffix says otherwise); return its pixels."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format=fmt)
    return pixels


def make_image_folder(root: Path, classes=("cat", "dog", "frog"), per_class: int = 4) -> Path:
    """``root/<class>/<n>.png`` with random (lossless) images."""
    for label, name in enumerate(classes):
        for number in range(per_class):
            write_image(root / name / f"{number:02d}.png", seed=100 * label + number)
    return root


def png_bytes(seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files[path]``; paths under ``/cut/`` announce more bytes than they send."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        name = self.path.split("?")[0]
        cut = name.startswith("/cut/")
        body = self.server.files.get(name.removeprefix("/cut") if cut else name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) + (100_000 if cut else 0)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


@contextlib.contextmanager
def serve(files: dict[str, bytes]) -> Iterator[str]:
    """Serve ``files`` (``{'/name': bytes}``) on 127.0.0.1; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files = files
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url(name: str = "file.zip") -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


def batch_pickle(images: np.ndarray, labels: list[int]) -> bytes:
    """A batch like the official ones: rows of 3072 uint8, channel-first."""
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    return pickle.dumps({b"batch_label": b"tiny", b"labels": labels, b"data": rows}, protocol=2)


def tiny_cifar(per_batch: int = 3, test_size: int = 4, extra: dict | None = None):
    """The archive's bytes, the expected train/test images (N, 32, 32, 3) and labels."""
    rng = np.random.default_rng(0)
    members = {
        "batches.meta": pickle.dumps(
            {b"label_names": [c.encode() for c in CLASSES], b"num_vis": 3072}, protocol=2
        )
    }
    expected = {}
    for part, names, size in [
        ("train", [f"data_batch_{i}" for i in range(1, 6)], per_batch),
        ("test", ["test_batch"], test_size),
    ]:
        images = rng.integers(0, 256, (len(names) * size, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, len(images)).tolist()
        for k, name in enumerate(names):
            rows = slice(k * size, (k + 1) * size)
            members[name] = batch_pickle(images[rows], labels[rows])
        expected[part] = (images, np.array(labels))
    members.update(extra or {})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue(), expected
