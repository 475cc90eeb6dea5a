"""The decoded-image cache: memory-mapped reloads, invalidation, atomic writes, bad images."""

from __future__ import annotations

import os
import shutil
import zipfile

import numpy as np
import platformdirs
import pytest
from data_helpers import build_cifar_subset, make_image_folder, write_image

import barenet.data.decode as decode_module
import barenet.data.image_cache as image_cache
from barenet.data import BadImageError, ImageFolderDataset


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("BARENET_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def decodes(monkeypatch):
    """Counts how many times images are decoded into a new cache entry."""
    calls = []
    original = image_cache.decode_all

    def counting(*args, **kwargs):
        calls.append(len(args[1]))
        return original(*args, **kwargs)

    monkeypatch.setattr(image_cache, "decode_all", counting)
    return calls


@pytest.fixture
def root(tmp_path):
    return make_image_folder(tmp_path / "data")


def load(root, **kwargs):
    kwargs.setdefault("progress", False)
    kwargs.setdefault("split", None)
    return ImageFolderDataset(root, **kwargs)


def cache_files(tmp_path):
    folder = tmp_path / "cache"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_second_load_is_memory_mapped_and_equal(root, decodes):
    first = load(root)
    second = load(root)
    assert decodes == [12]
    assert isinstance(second.images, np.memmap)
    assert not second.images.flags.owndata and not second.images.flags.writeable
    np.testing.assert_array_equal(first.images, second.images)
    np.testing.assert_array_equal(first.labels, second.labels)


def test_touching_an_image_invalidates(root, decodes):
    load(root)
    stat = (root / "dog" / "01.png").stat()
    os.utime(root / "dog" / "01.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    load(root)
    assert decodes == [12, 12]


def test_replacing_adding_removing_images_invalidates(root, decodes):
    load(root)
    new_pixels = write_image(root / "cat" / "00.png", seed=999)
    np.testing.assert_array_equal(load(root)[0]["image"], new_pixels)
    write_image(root / "frog" / "99.png", seed=5)
    assert len(load(root)) == 13
    (root / "dog" / "00.png").unlink()
    assert len(load(root)) == 12
    assert decodes == [12, 12, 13, 12]


def test_truncated_cache_array_is_rebuilt(root, decodes, tmp_path):
    first = load(root).images.copy()
    (array_file,) = (tmp_path / "cache").glob("*.npy")
    with open(array_file, "r+b") as handle:
        handle.truncate(array_file.stat().st_size - 100)
    np.testing.assert_array_equal(load(root).images, first)
    assert decodes == [12, 12]


def test_corrupt_metadata_or_missing_array_is_rebuilt(root, decodes, tmp_path):
    load(root)
    (meta_file,) = (tmp_path / "cache").glob("*.json")
    meta_file.write_text("{not json")
    load(root)
    (array_file,) = (tmp_path / "cache").glob("*.npy")
    array_file.unlink()
    load(root)
    assert decodes == [12, 12, 12]


def test_interrupted_build_leaves_nothing_valid(root, tmp_path, monkeypatch):
    def interrupted(root, files, array_path, out, *args):
        out[:3] = 7  # part of the work done, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(image_cache, "decode_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load(root)
    assert cache_files(tmp_path) == []


def test_zip_rewrite_invalidates_but_a_copy_does_not(tmp_path, decodes):
    source = make_image_folder(tmp_path / "src")
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(source.rglob("*.png")):
            zipped.write(path, path.relative_to(source).as_posix())
    load(archive)
    load(archive)
    assert decodes == [12]
    stat = archive.stat()
    os.utime(archive, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # same members
    load(archive)
    assert decodes == [12]
    with zipfile.ZipFile(archive, "a") as zipped:
        zipped.write(source / "cat" / "00.png", "cat/extra.png")
    assert len(load(archive)) == 13
    assert decodes == [12, 13]


def test_corrupt_image_raises_naming_the_file(root):
    (root / "dog" / "02.png").write_bytes(b"this is not a png")
    with pytest.raises(BadImageError, match=r"dog/02\.png"):
        load(root)


def test_truncated_jpeg_raises_naming_the_file(root):
    write_image(root / "cat" / "photo.jpg", fmt="JPEG")
    data = (root / "cat" / "photo.jpg").read_bytes()
    (root / "cat" / "photo.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadImageError, match=r"cat/photo\.jpg"):
        load(root)


def test_image_of_another_size_raises_naming_the_file(root, tmp_path):
    write_image(root / "frog" / "big.png", size=(40, 30))
    with pytest.raises(BadImageError, match=r"frog/big\.png.*40x30"):
        load(root)
    assert cache_files(tmp_path) == []


def test_bad_images_can_be_skipped_with_a_warning(root):
    (root / "dog" / "02.png").write_bytes(b"garbage")
    write_image(root / "frog" / "big.png", size=(40, 30))
    with pytest.warns(UserWarning, match="skipped 2 image files"):
        dataset = load(root, on_bad_image="skip")
    assert len(dataset) == 12 - 1
    assert sorted(os.path.basename(file) for file in dataset.skipped_files) == ["02.png", "big.png"]
    assert "dog/02.png" not in dataset.files.tolist()
    with pytest.raises(BadImageError, match="02.png"):  # the cache remembers them
        load(root)


def test_parallel_decode_equals_serial(tmp_path, monkeypatch):
    subset = build_cifar_subset(tmp_path / "subset.zip", per_class=10)
    monkeypatch.setattr(decode_module, "CHUNK_SIZE", 16)
    serial = load(subset, num_workers=1, cache_dir=tmp_path / "serial")
    parallel = load(subset, num_workers=2, cache_dir=tmp_path / "parallel")
    np.testing.assert_array_equal(serial.images, parallel.images)
    np.testing.assert_array_equal(serial.labels, parallel.labels)


def test_cache_goes_next_to_the_data_when_writable(root, monkeypatch, tmp_path):
    monkeypatch.delenv("BARENET_CACHE_DIR")
    load(root)
    assert any((tmp_path / ".barenet-cache").glob("data-*.json"))


def test_cache_goes_to_the_user_cache_when_data_is_read_only(monkeypatch, tmp_path):
    monkeypatch.delenv("BARENET_CACHE_DIR")
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda name: str(tmp_path / "user"))
    read_only = tmp_path / "read-only"
    root = make_image_folder(read_only / "data")
    read_only.chmod(0o555)  # read-only for everyone (root included, by barenet's rule)
    try:
        load(root)
    finally:
        read_only.chmod(0o755)
    assert any((tmp_path / "user" / "images").glob("data-*.json"))
    assert not (read_only / ".barenet-cache").exists()


def test_cache_dir_argument_wins(root, tmp_path):
    load(root, cache_dir=tmp_path / "mine")
    assert any((tmp_path / "mine").glob("*.npy"))
    assert cache_files(tmp_path) == []


def test_rebuild_removes_the_old_array(root, tmp_path):
    load(root)
    write_image(root / "cat" / "new.png", seed=1)
    load(root)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1


def test_copied_folder_gets_its_own_entry(root, tmp_path, decodes):
    load(root)
    shutil.copytree(root, tmp_path / "copy")
    load(tmp_path / "copy")
    assert decodes == [12, 12]


def test_two_builds_of_one_entry_leave_a_valid_entry(tmp_path):
    from barenet.data.cache import CacheWriter, load_cache

    first = CacheWriter(tmp_path, "entry", (2, 1, 1, 3))
    second = CacheWriter(tmp_path, "entry", (2, 1, 1, 3))
    first.array[:] = 1
    second.array[:] = 2
    built_first = first.commit(np.zeros(2, int), {"key": "k"})
    built_second = second.commit(np.zeros(2, int), {"key": "k"})
    assert (built_first.images == 1).all() and (built_second.images == 2).all()
    assert (load_cache(tmp_path, "entry", lambda meta: True).images == 2).all()
    assert len(list(tmp_path.glob("*.npy"))) == 1
    assert not list(tmp_path.glob("*.tmp"))


def test_a_build_removes_temporary_arrays_of_killed_builds(root, tmp_path):
    """A process killed while decoding leaves its temporary array; the next build clears it."""
    import subprocess
    import sys

    load(root)
    (stem,) = [p.name[: -len(".json")] for p in (tmp_path / "cache").glob("*.json")]
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    orphan = tmp_path / "cache" / f".{stem}.npy.{killed.pid}.0123abcd.tmp"
    orphan.write_bytes(b"\x93NUMPY half an array")
    write_image(root / "cat" / "new.png", seed=1)  # the entry must be rebuilt
    load(root)
    assert not orphan.exists()
    assert not list((tmp_path / "cache").glob(".*.tmp"))
