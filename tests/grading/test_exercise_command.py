"""``barenet exercise``: its flags, and a next step that works on the machine it runs on."""

from __future__ import annotations

import re
import shlex
import stat
import sys
from pathlib import Path

import pytest

from barenet.app import exercise
from barenet.app.cli import main
from barenet.exercise.catalog import DEFAULT_EXERCISE, EXERCISES

ROOT = Path(__file__).resolve().parents[2]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def only_on_path(monkeypatch, folder: Path, *tools: str) -> None:
    """Make ``tools`` (empty executables in ``folder``) the only commands on PATH."""
    folder.mkdir(exist_ok=True)
    for tool in tools:
        path = folder / tool
        path.write_text("#!/bin/sh\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(folder))


def test_next_step_opens_the_notebook_when_jupyter_notebook_is_installed(tmp_path, monkeypatch):
    only_on_path(monkeypatch, tmp_path / "bin", "jupyter", "jupyter-notebook", "jupyter-lab")
    assert exercise.next_steps(Path("kit dir"), "1_neural_networks.ipynb") == [
        "Next: cd 'kit dir' && jupyter notebook 1_neural_networks.ipynb"
    ]


def test_next_step_uses_jupyterlab_when_only_it_is_installed(tmp_path, monkeypatch):
    only_on_path(monkeypatch, tmp_path / "bin", "jupyter", "jupyter-lab")
    assert exercise.next_steps(Path("kit"), "1_neural_networks.ipynb") == [
        "Next: cd kit && jupyter lab 1_neural_networks.ipynb"
    ]


@pytest.mark.parametrize("tools", [(), ("jupyter",)], ids=["nothing", "jupyter-core-only"])
def test_without_jupyter_the_install_command_comes_first(tmp_path, monkeypatch, tools):
    # ipykernel brings a bare `jupyter`, which then fails: "'jupyter-notebook' not found".
    only_on_path(monkeypatch, tmp_path / "bin", *tools)
    install, step = exercise.next_steps(Path("kit"), "1_neural_networks.ipynb")
    command = install.split("install it with: ", 1)[1]
    assert shlex.split(command) == [sys.executable, "-m", "pip", "install", "barenet[notebook]"]
    assert step == "Next: cd kit && jupyter notebook 1_neural_networks.ipynb"


def test_the_notebook_extra_installs_jupyter_and_the_readme_names_it():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    extra = re.fullmatch(r"barenet\[(\w+)\]", exercise.NOTEBOOK_EXTRA)[1]
    packages = [re.match(r"[\w-]+", requirement)[0] for requirement in extras[extra]]
    assert {"notebook", "jupyterlab"} & set(packages) and "ipykernel" in packages
    assert exercise.NOTEBOOK_EXTRA in (ROOT / "README.md").read_text()


def test_init_prints_the_kit_and_the_next_step(tmp_path, monkeypatch, capsys):
    only_on_path(monkeypatch, tmp_path / "bin", "jupyter", "jupyter-notebook")
    assert main(["exercise", "init", str(tmp_path / "kit")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"Wrote the starter kit to {(tmp_path / 'kit').resolve()}",
        f"Next: cd {tmp_path / 'kit'} && jupyter notebook 1_neural_networks.ipynb",
    ]


def test_every_init_flag_still_works(tmp_path, capsys):
    target = tmp_path / "kit"
    assert main(["exercise", "init", str(target), "--solutions"]) == 0
    assert main(["exercise", "init", str(target)]) == 1
    assert "not empty; choose a new folder (or pass --force)" in capsys.readouterr().err
    assert main(["exercise", "init", "--force", str(target)]) == 0
    assert "# TODO:" in (target / "exercise_code/networks/layer.py").read_text()
    with pytest.raises(SystemExit) as exit_:
        main(["exercise"])
    assert exit_.value.code == 2


def test_a_folder_that_cannot_be_made_is_an_error(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["exercise", "init", str(blocker / "kit")]) == 1
    assert "barenet exercise init: error:" in capsys.readouterr().err


def test_list_names_every_exercise_on_one_line(capsys):
    assert main(["exercise", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(EXERCISES)
    for line, (name, entry) in zip(lines, EXERCISES.items(), strict=True):
        assert line.startswith(f"{name} ") and entry.notebook in line and len(line) <= 100
    assert [line for line in lines if line.endswith("(default)")] == [lines[0]]
    assert lines[0].startswith(DEFAULT_EXERCISE + " ")


def test_init_takes_the_exercise_by_name(tmp_path, capsys):
    assert main(["exercise", "init", str(tmp_path / "a"), "--exercise", DEFAULT_EXERCISE]) == 0
    assert (tmp_path / "a" / EXERCISES[DEFAULT_EXERCISE].notebook).is_file()
    with pytest.raises(SystemExit) as exit_:
        main(["exercise", "init", str(tmp_path / "b"), "--exercise", "no-such-exercise"])
    assert exit_.value.code == 2 and "invalid choice: 'no-such-exercise'" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
