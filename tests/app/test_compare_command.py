"""``barenet compare`` in this process: the plot path is checked before any training."""

import pytest

from barenet.app.cli import main


@pytest.fixture
def workdir(tmp_path, monkeypatch, cache_dir):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "out,message",
    [
        ("plot.txt", "--out: plot.txt must end in an image type matplotlib writes"),
        (".", "--out: . must end in"),
        ("folder.png", "--out: folder.png is a folder"),
        ("notes.md/plot.png", "--out: cannot write in notes.md"),
    ],
)
def test_a_bad_out_is_refused_before_training(workdir, capsys, out, message):
    (workdir / "folder.png").mkdir()
    (workdir / "notes.md").write_text("a file, not a folder")
    assert main(["compare", "--dataset", "digits", "--out", out]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Epoch" not in captured.out  # nothing was trained


def test_compare_offers_no_optimizer_choice(workdir, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["compare", "--optimizer", "sgd"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --optimizer" in capsys.readouterr().err


def test_compare_into_a_new_folder(workdir, capsys):
    args = ["--dataset", "digits", "--epochs", "2", "--limit", "64", "--quiet"]
    assert main(["compare", *args, "--out", "plots/opt.png"]) == 0
    assert (workdir / "plots" / "opt.png").stat().st_size > 0
    table = capsys.readouterr().out
    assert "SGD + momentum" in table and "Adam" in table
