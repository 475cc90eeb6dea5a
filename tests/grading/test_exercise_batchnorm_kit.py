"""The batch-norm-and-dropout kit: its starter asks for batch norm, layer norm and dropout, its
solution is barenet's, and ``barenet grade --exercise batchnorm-dropout`` grades all three."""

from __future__ import annotations

import re
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from kit_notebooks import PER_CLASS, run_notebook, small_cifar10_zip
from test_exercise_kit import TODO_BLOCK, kit_module, kit_on_path, run_in_kit

import barenet.layers
from barenet.app.cli import main
from barenet.exercise import write_kit
from barenet.grading.local.check import check_paths

EXERCISE = "batchnorm-dropout"
NOTEBOOK = "2_batchnorm_dropout.ipynb"
TITLES = [
    "batchnorm_forward",
    "batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
    "dropout_forward",
    "dropout_backward",
]


@pytest.fixture(scope="module")
def kits(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bn-kits")
    return {
        "starter": write_kit(root / "starter", exercise=EXERCISE),
        "solution": write_kit(root / "solution", solutions=True, exercise=EXERCISE),
    }


def test_the_starter_asks_for_the_six_passes_and_hides_them(kits):
    layers = (kits["starter"] / "exercise_code/layers.py").read_text()
    assert re.findall(r"# TODO: (\w+)\.", layers) == TITLES
    assert "def normalize" not in layers and "# >>> exercise" not in layers
    solution = (kits["solution"] / "exercise_code/layers.py").read_text()
    assert "# TODO:" not in solution and "def normalize" in solution


def test_the_starter_raises_where_the_learner_writes(kits):
    x, gamma, beta = np.ones((4, 3)), np.ones(3), np.zeros(3)
    with kit_on_path(kits["starter"]):
        layers, networks = kit_module("layers"), kit_module("networks")
        for call, title in [
            (
                lambda: layers.batchnorm_forward(x, gamma, beta, {"mode": "train"}),
                "batchnorm_forward",
            ),
            (
                lambda: layers.spatial_batchnorm_forward(x[:, :, None, None], gamma, beta, {}),
                "batchnorm_forward",
            ),
            (lambda: layers.layernorm_forward(x, gamma, beta, {}), "layernorm_forward"),
            (lambda: layers.dropout_forward(x, {"mode": "train", "p": 0.8}), "dropout_forward"),
            (
                lambda: networks.BatchNorm1d(3).forward(x),
                "batchnorm_forward",
            ),  # built on the learner's
        ]:
            with pytest.raises(NotImplementedError, match=f"{title} is not implemented yet"):
                call()


def test_the_solution_kit_computes_what_barenet_does(kits):
    rng = np.random.default_rng(0)
    x, dout = rng.normal(2.0, 3.0, (2, 16, 5))
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    with kit_on_path(kits["solution"]):
        layers = kit_module("layers")
        for mode in ("train", "test"):
            mine, ours = {"mode": mode}, {"mode": mode}
            out, cache = layers.batchnorm_forward(x, gamma, beta, mine)
            expected, our_cache = barenet.layers.batchnorm_forward(x, gamma, beta, ours)
            np.testing.assert_array_equal(out, expected)
            np.testing.assert_array_equal(mine["running_var"], ours["running_var"])
            for a, b in zip(
                layers.batchnorm_backward(dout, cache),
                barenet.layers.batchnorm_backward(dout, our_cache),
                strict=True,
            ):
                np.testing.assert_array_equal(a, b)
        param = {"mode": "train", "p": 0.7, "seed": 3}
        out, cache = layers.dropout_forward(x, param)
        np.testing.assert_array_equal(out, barenet.layers.dropout_forward(x, param)[0])
        np.testing.assert_allclose(layers.dropout_backward(dout, cache), dout * cache[0] / 0.7)


@pytest.fixture(scope="module")
def small_cifar10(tmp_path_factory) -> Path:
    return small_cifar10_zip(tmp_path_factory.mktemp("data"))


def test_the_solution_notebook_runs_on_cifar10(kits, small_cifar10, tmp_path, monkeypatch):
    kit = kits["solution"]
    _, text, error = run_notebook(kit, small_cifar10, monkeypatch, tmp_path / "cache", NOTEBOOK)
    assert error is None, error
    assert f"{8 * PER_CLASS} training and {2 * PER_CLASS} validation images of" in text
    errors = [float(e) for e in re.findall(r"error: ([\d.e+-]+)", text)]
    assert len(errors) == 10 and max(errors) < 1e-6, text
    assert text.count("test mode is the identity: True") == 3
    # The test cells: batch norm's six tests, layer norm's four, dropout's four.
    for tests in ("6/6", "4/4"):
        assert f"Tests passed: {tests}" in text
    assert text.count("Score: 100/100") == 3 and "LayerNormBackwardTestDx passed." in text
    std = float(re.search(r"test mode, running statistics: mean -?[\d.]+, std ([\d.]+)", text)[1])
    assert std == pytest.approx(1.0, abs=0.05)
    for name in ("without batch norm", "with batch norm"):
        assert re.search(rf"^{name}\s+final training loss \d", text, re.MULTILINE)
    with zipfile.ZipFile(kit / "batchnorm_dropout.zip") as archive:
        assert sorted(archive.namelist()) == [NOTEBOOK, "models/batchnorm_dropout.p"]


def test_the_starter_notebook_stops_at_the_first_unwritten_pass(kits, tmp_path, monkeypatch):
    monkeypatch.setenv("USE_DIGITS", "1")
    kit = kits["starter"]
    _, text, error = run_notebook(kit, tmp_path / "none", monkeypatch, tmp_path / "cache", NOTEBOOK)
    assert error is not None
    assert "batchnorm_forward is not implemented yet: write it in exercise_code/layers.py" in str(
        error
    )


def test_barenet_check_scores_the_solution_100_and_the_starter_0(kits, capsys):
    assert main(["check", str(kits["solution"])]) == 0  # the exercise is found by its names
    out = capsys.readouterr().out
    assert "Note:" not in out and out.splitlines()[-1] == "Score: 100/100"
    assert main(["check", str(kits["starter"]), "--exercise", EXERCISE]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "Score: 0/100"
    test_lines = [
        line for line in out.splitlines() if re.match(r"\w+Test\w* (passed|failed)", line)
    ]
    assert len(test_lines) == 14 and all("not implemented yet" in line for line in test_lines)
    assert sum(line.startswith("LayerNorm") for line in test_lines) == 4


SUBMIT = """
    from exercise_code.layers import (batchnorm_backward, batchnorm_forward, dropout_backward,
        dropout_forward, layernorm_backward, layernorm_forward)
    from exercise_code.submit import submit_exercise
    from exercise_code.tests import save_pickle

    save_pickle(data_dict={"batchnorm_forward": batchnorm_forward,
        "batchnorm_backward": batchnorm_backward, "layernorm_forward": layernorm_forward,
        "layernorm_backward": layernorm_backward, "dropout_forward": dropout_forward,
        "dropout_backward": dropout_backward}, file_name="batchnorm_dropout.p")
    submit_exercise("batchnorm_dropout")
"""


def test_barenet_grade_scores_the_kits_submissions_100_and_0(kits, capsys):
    for kind, expected in (("solution", "100/100"), ("starter", "0/100")):
        run = run_in_kit(kits[kind], SUBMIT)
        assert run.returncode == 0, run.stderr
        assert "Warning" not in run.stdout  # the pickle holds the whole exercise
        main(["grade", str(kits[kind] / "batchnorm_dropout.zip"), "--exercise", EXERCISE])
        out = capsys.readouterr().out
        assert expected in out and "LayerNormForwardTest" in out, out
        if kind == "starter":
            assert "not implemented yet" in out


#: A correct solution written independently of barenet's, for the starter's TODO blocks.
LEARNER_SOLUTION = {
    "batchnorm_forward": """
        if mode == "train":
            mu = x.mean(axis=axes, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
            bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu.ravel()
            bn_param["running_var"] = momentum * running_var + (1 - momentum) * var.ravel()
        else:
            mu, var = running_mean.reshape(shape), running_var.reshape(shape)
            bn_param.setdefault("running_mean", running_mean)
            bn_param.setdefault("running_var", running_var)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x - mu) * inv_std
        out = gamma.reshape(shape) * xhat + beta.reshape(shape)
        return out, (xhat, gamma, inv_std, axes, mode == "train")
    """,
    "batchnorm_backward": """
        dbeta = dout.sum(axis=axes, keepdims=True)
        dgamma = (dout * xhat).sum(axis=axes, keepdims=True)
        g = gamma.reshape(inv_std.shape)
        if train:
            m = dout.size // dbeta.size
            dx = g * inv_std / m * (m * dout - dbeta - xhat * dgamma)
        else:
            dx = g * inv_std * dout
        return dx, dgamma.reshape(gamma.shape), dbeta.reshape(gamma.shape)
    """,
    "layernorm_forward": """
        features = tuple(range(1, x.ndim))
        mu, var = x.mean(axis=features, keepdims=True), x.var(axis=features, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x - mu) * inv_std
        return gamma * xhat + beta, (xhat, gamma, inv_std)
    """,
    "layernorm_backward": """
        xhat, gamma, inv_std = cache
        features = tuple(range(1, dout.ndim))
        g = dout * gamma
        mean_g = g.mean(axis=features, keepdims=True)
        dx = inv_std * (g - mean_g - xhat * (g * xhat).mean(axis=features, keepdims=True))
        return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
    """,
    "dropout_forward": """
        if mode == "test" or keep == 1.0:
            return x, (None, 1.0)
        rng = np.random.default_rng(dropout_param.get("seed"))
        mask = rng.random(x.shape) < keep
        return x * mask / keep, (mask, 1.0 / keep)
    """,
    "dropout_backward": """
        mask, scale = cache
        if mask is None:
            return dout.copy()
        return dout * mask * scale
    """,
}


def test_a_starter_filled_in_by_a_learner_scores_100(tmp_path):
    # The TODO texts say enough: an implementation of one's own, written to them, passes.
    kit = write_kit(tmp_path / "learner", exercise=EXERCISE)
    layers = kit / "exercise_code/layers.py"

    def solve(match: re.Match) -> str:
        code = textwrap.dedent(LEARNER_SOLUTION[match["title"]]).strip() + "\n"
        return textwrap.indent(code, match["indent"])

    layers.write_text(TODO_BLOCK.sub(solve, layers.read_text()))
    assert "# TODO" not in layers.read_text().split('"""', 2)[2]
    result = check_paths([kit], verbose=False)
    assert result.score == 100, "\n".join(result.lines())
