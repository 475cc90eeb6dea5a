"""Fixtures shared by every test area (tests/core, tests/data, tests/grading, tests/app)."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import CIFAR_ZIP


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh barenet cache folder (``BARENET_CACHE_DIR``) for one test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("BARENET_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def cifar_zip() -> Path:
    """The real CIFAR-10 JPEG zip (read only); the test is skipped without it."""
    if not CIFAR_ZIP.is_file():
        pytest.skip(f"the CIFAR-10 zip is not at {CIFAR_ZIP}")
    return CIFAR_ZIP
