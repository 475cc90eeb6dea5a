"""Downloads against a real HTTP server on 127.0.0.1: success, bad hash, cut transfer, no server."""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
import tarfile
import zipfile

import numpy as np
import pytest
from data_helpers import closed_port_url, png_bytes, serve, tiny_cifar

from barenet.archives import unpack
from barenet.data import CIFAR10, DownloadError, ImageFolderDataset, download


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("BARENET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("BARENET_CIFAR10_URL", raising=False)
    monkeypatch.delenv("BARENET_CIFAR10_SHA256", raising=False)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def image_zip():
    members = {
        f"shapes/{name}/{n}.png": png_bytes(10 * k + n)
        for k, name in enumerate("ab")
        for n in range(3)
    }
    return zip_bytes(members)


def files_in(folder):
    return (
        sorted(path.name for path in folder.rglob("*") if path.is_file()) if folder.exists() else []
    )


def test_download_checks_hash_and_shows_progress(tmp_path, image_zip, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bar is drawn
    with serve({"/data.zip": image_zip}) as base:
        path = download(f"{base}/data.zip", tmp_path / "dl", sha256=sha256(image_zip))
    assert path == tmp_path / "dl" / "data.zip"
    assert path.read_bytes() == image_zip
    assert "100%" in capsys.readouterr().err  # tqdm's bar


def test_a_download_draws_no_bar_into_a_log_file(tmp_path, image_zip, capsys):
    with serve({"/data.zip": image_zip}) as base:
        download(f"{base}/data.zip", tmp_path / "dl", sha256=sha256(image_zip))
    assert "\r" not in capsys.readouterr().err  # stderr is no terminal here


def test_wrong_hash_raises_and_leaves_nothing(tmp_path, image_zip):
    url_path = "/data.zip"
    with serve({url_path: image_zip}) as base:
        with pytest.raises(DownloadError, match=f"{base}/data.zip") as error:
            download(f"{base}/data.zip", tmp_path / "dl", sha256="0" * 64, progress=False)
    assert "by hand" in str(error.value)
    assert files_in(tmp_path / "dl") == []


@pytest.mark.parametrize("with_hash", [True, False])
def test_cut_transfer_raises_and_leaves_nothing(tmp_path, image_zip, with_hash):
    checksum = sha256(image_zip) if with_hash else None
    with serve({"/data.zip": image_zip}) as base:
        with pytest.raises(DownloadError, match="/cut/data.zip"):
            download(f"{base}/cut/data.zip", tmp_path / "dl", sha256=checksum, progress=False)
    assert files_in(tmp_path / "dl") == []


def test_no_server_names_the_url(tmp_path):
    url = closed_port_url("data.zip")
    with pytest.raises(DownloadError, match=url) as error:
        download(url, tmp_path / "dl", progress=False)
    assert str(tmp_path / "dl" / "data.zip") in str(error.value)
    assert files_in(tmp_path / "dl") == []


def test_missing_file_on_the_server(tmp_path):
    with serve({}) as base, pytest.raises(DownloadError, match="404"):
        download(f"{base}/absent.zip", tmp_path / "dl", progress=False)


def test_a_file_placed_by_hand_needs_no_network(tmp_path, image_zip):
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "data.zip").write_bytes(image_zip)
    path = download(closed_port_url("data.zip"), tmp_path / "dl", sha256=sha256(image_zip))
    assert path.read_bytes() == image_zip


def test_bad_sha256_argument():
    with pytest.raises(ValueError, match="sha256"):
        download("http://127.0.0.1/x.zip", sha256="abc")


def test_download_goes_to_the_cache_dir_by_default(tmp_path, image_zip):
    with serve({"/data.zip": image_zip}) as base:
        path = download(f"{base}/data.zip", progress=False)
    assert path.parent.parent == tmp_path / "cache" / "downloads" and path.name == "data.zip"


def test_image_folder_downloads_a_missing_zip_root(tmp_path, image_zip):
    with serve({"/data.zip": image_zip}) as base:
        dataset = ImageFolderDataset(
            tmp_path / "data.zip",
            split=None,
            download_url=f"{base}/data.zip",
            download_sha256=sha256(image_zip),
            progress=False,
        )
    assert dataset.classes == ["a", "b"] and len(dataset) == 6
    assert (tmp_path / "data.zip").read_bytes() == image_zip


def test_image_folder_downloads_and_unpacks_a_missing_folder(tmp_path, image_zip):
    with serve({"/data.zip": image_zip}) as base:
        dataset = ImageFolderDataset(
            tmp_path / "shapes", mode="all", download_url=f"{base}/data.zip", progress=False
        )
    assert len(dataset) == 6
    assert (tmp_path / "shapes" / "shapes" / "a" / "0.png").is_file()


def test_unpack_refuses_members_that_escape(tmp_path):
    evil = tmp_path / "evil.zip"
    evil.write_bytes(zip_bytes({"ok/a.png": png_bytes(), "../escaped.png": png_bytes()}))
    with pytest.raises(ValueError, match="escapes|leaves the target folder"):
        unpack(evil, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "escaped.png").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["evil.zip"]


def test_unpack_tar_gz(tmp_path):
    archive = tmp_path / "data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = png_bytes()
        info = tarfile.TarInfo("top/cls/0.png")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    unpack(archive, tmp_path / "out")
    assert (tmp_path / "out" / "top" / "cls" / "0.png").read_bytes() == data


# --- CIFAR-10 on a tiny archive of the official format ---------------------------------


def test_cifar10_from_a_mirror(tmp_path, monkeypatch, capsys):
    archive, expected = tiny_cifar()
    with serve({"/cifar-10-python.tar.gz": archive}) as base:
        monkeypatch.setenv("BARENET_CIFAR10_URL", f"{base}/cifar-10-python.tar.gz")
        monkeypatch.setenv("BARENET_CIFAR10_SHA256", sha256(archive))
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: a bar
        train = CIFAR10(tmp_path / "c10", train=True)
        assert "100%" in capsys.readouterr().err
    test = CIFAR10(tmp_path / "c10", train=False)  # server gone: archive and cache are local
    for dataset, part in [(train, "train"), (test, "test")]:
        images, labels = expected[part]
        np.testing.assert_array_equal(dataset.images, images)
        np.testing.assert_array_equal(dataset.labels, labels)
        assert dataset.classes[0] == "airplane" and len(dataset.classes) == 10
        assert isinstance(dataset.images, np.memmap)
    assert len(train) == 15 and len(test) == 4
    assert train[4]["image"].shape == (32, 32, 3)
    again = CIFAR10(tmp_path / "c10", train=True, download=False)
    np.testing.assert_array_equal(again.images, train.images)


def test_cifar10_offline_fails_clearly(tmp_path, monkeypatch):
    url = closed_port_url("cifar-10-python.tar.gz")
    monkeypatch.setenv("BARENET_CIFAR10_URL", url)
    with pytest.raises(DownloadError, match=url) as error:
        CIFAR10(tmp_path / "c10", progress=False)
    assert "BARENET_CIFAR10_URL" in str(error.value)
    assert files_in(tmp_path / "c10") == []


def test_cifar10_without_download_and_archive(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        CIFAR10(tmp_path / "c10", download=False)


def test_cifar10_wrong_hash_reads_nothing(tmp_path, monkeypatch):
    archive, _ = tiny_cifar()
    with serve({"/cifar-10-python.tar.gz": archive}) as base:
        with pytest.raises(DownloadError, match="SHA256|hash"):
            CIFAR10(
                tmp_path / "c10",
                url=f"{base}/cifar-10-python.tar.gz",
                sha256="1" * 64,
                progress=False,
            )
    assert files_in(tmp_path / "c10") == []


class Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_cifar10_batches_cannot_run_code(tmp_path, capsys):
    evil = pickle.dumps({b"labels": [0], b"data": Exploit()}, protocol=2)
    archive, _ = tiny_cifar(extra={"data_batch_3": evil})
    with serve({"/cifar-10-python.tar.gz": archive}) as base:
        with pytest.raises(ValueError, match="refusing to load .*print"):
            CIFAR10(
                tmp_path / "c10",
                url=f"{base}/cifar-10-python.tar.gz",
                sha256=sha256(archive),
                progress=False,
            )
    assert "must never run" not in capsys.readouterr().out
