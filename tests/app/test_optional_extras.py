"""The command without the optional ``tune`` extra: every other subcommand works, and
``barenet tune`` names the extra to install."""

import subprocess
import sys
import textwrap

# Run the command in a child whose imports of optuna fail, as on a machine without it.
WITHOUT_OPTUNA = textwrap.dedent(
    """
    import sys
    sys.modules["optuna"] = None  # 'import optuna' raises ModuleNotFoundError
    from barenet.app.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def barenet_without_optuna(*args, cwd):
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_OPTUNA, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_train_runs_without_optuna(tmp_path):
    done = barenet_without_optuna("train", "--epochs", 1, "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "model.npz").is_file()


def test_tune_without_optuna_names_the_extra(tmp_path):
    listed = barenet_without_optuna("--help", cwd=tmp_path)
    assert listed.returncode == 0 and "tune" in listed.stdout
    done = barenet_without_optuna("tune", "--trials", 2, cwd=tmp_path)
    assert done.returncode == 1
    assert "needs optuna" in done.stderr and "pip install 'barenet[tune]'" in done.stderr
    assert "Traceback" not in done.stderr
