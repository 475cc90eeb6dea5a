"""The ConvNet kit: its starter asks for the convolution, pooling and spatial norms, its
solution is barenet's, and its regions are the parts ``barenet grade --exercise convnet``
grades (the batch-norm kit's are checked against its grade here too)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import textwrap
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from kit_notebooks import PER_CLASS, run_notebook, small_cifar10_zip
from test_exercise_batchnorm_kit import LEARNER_SOLUTION as BATCHNORM_SOLUTION
from test_exercise_kit import TODO_BLOCK, kit_module, kit_on_path, run_in_kit

import barenet
import barenet.layers
from barenet.app.cli import main
from barenet.exercise import catalog, write_kit
from barenet.exercise.includes import expand
from barenet.exercise.kit import render_regions, templates_root
from barenet.exercise.regions import find_regions
from barenet.grading.local.check import check_paths
from barenet.grading.sandboxed.exercise_names import GRADED_EXERCISES
from barenet.layers import conv

EXERCISE = "convnet"
NOTEBOOK = "4_convnet.ipynb"
TITLES = [
    "conv_forward",
    "conv_param_grads",
    "conv_input_grad",
    "max_pool_forward",
    "max_pool_backward",
    "batchnorm_forward",
    "batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "spatial_groupnorm_forward",
    "spatial_groupnorm_backward",
]
HIDDEN = ("def _patch_products", "def normalize", "def _group_mean")  # the solution's helpers
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


@pytest.fixture(scope="module")
def kits(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("convnet-kits")
    return {
        "starter": write_kit(root / "starter", exercise=EXERCISE),
        "solution": write_kit(root / "solution", solutions=True, exercise=EXERCISE),
    }


def barenet_regions() -> dict[str, str]:
    """Each region marked in barenet's layers: its code, markers left out, as in the source."""
    found = {}
    for path in sorted(Path(barenet.layers.__file__).parent.glob("*.py")):
        lines = path.read_text().splitlines(keepends=True)
        for region in find_regions(lines):
            found[region.name] = "".join(lines[region.begin + 1 : region.end])
    return found


def test_the_starter_asks_for_each_region_and_hides_its_code(kits):
    layers = (kits["starter"] / "exercise_code/layers.py").read_text()
    assert re.findall(r"# TODO: (\w+)\.", layers) == TITLES
    assert not any(helper in layers for helper in HIDDEN) and "# >>> exercise" not in layers
    solution = (kits["solution"] / "exercise_code/layers.py").read_text()
    assert "# TODO:" not in solution and all(helper in solution for helper in HIDDEN)
    # The solution's regions are barenet's code, line for line; the starter has a TODO
    # block in each (batchnorm_backward's one line also returns spatial batch norm's).
    code = barenet_regions()
    assert set(TITLES) <= set(code)
    for name in TITLES:
        assert solution.count(code[name]) == layers.count(code[name]) + 1, name


def test_the_starter_raises_where_the_learner_writes(kits):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3)), np.zeros(4)
    gamma, beta = np.ones(3), np.zeros(3)
    cache = barenet.layers.conv_forward(x, w, b, {"stride": 1, "pad": 1})[1]
    dout = np.ones((2, 4, 6, 6))
    with kit_on_path(kits["starter"]):
        layers, networks = kit_module("layers"), kit_module("networks")
        for call, title in [
            (lambda: layers.conv_forward(x, w, b, {"stride": 1, "pad": 1}), "conv_forward"),
            (lambda: layers.conv_param_grads(dout, cache), "conv_param_grads"),
            (lambda: layers.conv_input_grad(dout, cache), "conv_input_grad"),
            (lambda: layers.max_pool_forward(x, POOL), "max_pool_forward"),
            (
                lambda: layers.spatial_batchnorm_forward(x, gamma, beta, {}),
                "spatial_batchnorm_forward",
            ),
            (lambda: layers.batchnorm_forward(x[:, :, 0, 0], gamma, beta, {}), "batchnorm_forward"),
            (
                lambda: layers.spatial_groupnorm_forward(x, gamma, beta, 3, {}),
                "spatial_groupnorm_forward",
            ),
            (  # the network is built on the learner's layers
                lambda: networks.ThreeLayerConvNet((3, 6, 6), 4, 3, 5, seed=0).forward(x),
                "conv_forward",
            ),
        ]:
            with pytest.raises(NotImplementedError, match=f"{title} is not implemented yet"):
                call()


def test_the_solution_kit_computes_what_barenet_does(kits):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 7, 7))
    w, b = rng.normal(size=(5, 4, 3, 3)), rng.normal(size=5)
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    ours = barenet.layers
    with kit_on_path(kits["solution"]):
        mine = kit_module("layers")
        for conv_param in ({"stride": 1, "pad": 1}, {"stride": 2, "pad": 0}):  # both dx routes
            out, cache = mine.conv_forward(x, w, b, conv_param)
            expected, our_cache = ours.conv_forward(x, w, b, conv_param)
            np.testing.assert_array_equal(out, expected)
            dout = rng.normal(size=out.shape)
            for a, e in zip(
                mine.conv_backward(dout, cache), ours.conv_backward(dout, our_cache), strict=True
            ):
                np.testing.assert_array_equal(a, e)
        pool = {"pool_height": 3, "pool_width": 3, "stride": 2}  # overlapping windows
        out, cache = mine.max_pool_forward(x, pool)
        expected, our_cache = ours.max_pool_forward(x, pool)
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(
            mine.max_pool_backward(out, cache), ours.max_pool_backward(out, our_cache)
        )
        dout = rng.normal(size=x.shape)
        for mode in ("train", "test"):
            mine_param, our_param = {"mode": mode}, {"mode": mode}
            out, cache = mine.spatial_batchnorm_forward(x, gamma, beta, mine_param)
            expected, our_cache = ours.spatial_batchnorm_forward(x, gamma, beta, our_param)
            np.testing.assert_array_equal(out, expected)
            np.testing.assert_array_equal(mine_param["running_var"], our_param["running_var"])
            for a, e in zip(
                mine.spatial_batchnorm_backward(dout, cache),
                ours.spatial_batchnorm_backward(dout, our_cache),
                strict=True,
            ):
                np.testing.assert_array_equal(a, e)
        out, cache = mine.spatial_groupnorm_forward(x, gamma, beta, 2, {})
        expected, our_cache = ours.spatial_groupnorm_forward(x, gamma, beta, 2, {})
        np.testing.assert_array_equal(out, expected)
        for a, e in zip(
            mine.spatial_groupnorm_backward(dout, cache),
            ours.spatial_groupnorm_backward(dout, our_cache),
            strict=True,
        ):
            np.testing.assert_array_equal(a, e)


def save_cell_keys(kit: Path, notebook: str) -> list[str]:
    """The keys of the notebook's ``save_pickle`` cell, in order."""
    nb = nbformat.read(kit / notebook, as_version=4)
    (cell,) = [c.source for c in nb.cells if "save_pickle(" in c.source and c.cell_type == "code"]
    return re.findall(r'"(\w+)": \w+', cell)


def with_one_region_left(solution: Path, tmp_path: Path, exercise: str, name: str) -> Path:
    """A copy of the solution kit whose ``layers.py`` has only the region ``name`` a TODO."""
    full = catalog.EXERCISES[exercise]
    one = dataclasses.replace(full, tasks={name: full.tasks[name]})
    relative = "exercise_code/layers.py"
    template = (templates_root(full) / relative).read_text(encoding="utf-8")
    text = render_regions(expand(template, solutions=True), one, relative, False, set())
    kit = tmp_path / name
    shutil.copytree(solution / "exercise_code", kit / "exercise_code")
    (kit / relative).write_text(text)
    return kit


@pytest.mark.parametrize("exercise", ["batchnorm-dropout", EXERCISE])
def test_the_graded_parts_and_the_kits_regions_are_in_step(exercise, tmp_path):
    entry, graded = catalog.EXERCISES[exercise], GRADED_EXERCISES[exercise]
    solution = write_kit(tmp_path / "solution", solutions=True, exercise=exercise)
    assert save_cell_keys(solution, entry.notebook) == list(graded)  # each part is saved
    with kit_on_path(solution):
        layers = kit_module("layers")
        assert all(callable(getattr(layers, part, None)) for part in graded)
    # Each region the learner writes is reached by the grade: left alone unwritten, the
    # check fails on it. A region that no graded part reaches would be work no grade sees.
    for name in entry.tasks:
        kit = with_one_region_left(solution, tmp_path, exercise, name)
        result = check_paths([kit], verbose=False, exercise=exercise)
        failed = [line for line in result.lines() if " failed: " in line]
        assert failed and all("is not implemented yet" in line for line in failed), name


@pytest.fixture(scope="module")
def small_cifar10(tmp_path_factory) -> Path:
    return small_cifar10_zip(tmp_path_factory.mktemp("data"))


def test_the_solution_notebook_runs_on_cifar10(kits, small_cifar10, tmp_path, monkeypatch):
    kit = kits["solution"]
    nb, text, error = run_notebook(kit, small_cifar10, monkeypatch, tmp_path / "cache", NOTEBOOK)
    assert error is None, error
    # The hand-worked convolution: the 3x3 sums of the 4x4 image 0..15, zeros outside.
    assert "[[10. 18. 24. 18.]\n [27. 45. 54. 39.]" in text
    assert "the image plus 0.5: True" in text
    errors = [float(e) for e in re.findall(r"error: ([\d.e+-]+)", text)]
    assert len(errors) == 6 and max(errors) < 1e-7, text
    assert "[[4. 5.]\n [7. 2.]]" in text  # the 2x2 maxima
    assert text.count("Score: 100/100") == 4
    for tests in ("5/5", "4/4", "6/6"):
        assert f"Tests passed: {tests}" in text
    assert f"{8 * PER_CLASS} training and {2 * PER_CLASS} validation images of" in text
    assert "automobile" in text  # CIFAR-10, not the digits
    loss = float(re.search(r"the loss of the fresh network: ([\d.]+)", text)[1])
    assert loss == pytest.approx(np.log(10), abs=0.01)
    losses = [float(v) for v in re.findall(r"train loss: ([\d.]+)", text)]
    assert len(losses) == 2 and losses[1] < losses[0] < loss + 0.01, text
    pictures = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert pictures == 1  # the first layer's filters
    with zipfile.ZipFile(kit / "convnet.zip") as archive:
        assert sorted(archive.namelist()) == [NOTEBOOK, "models/convnet.p"]


def test_the_starter_notebook_stops_at_the_first_unwritten_layer(kits, tmp_path, monkeypatch):
    monkeypatch.setenv("USE_DIGITS", "1")
    kit = kits["starter"]
    _, text, error = run_notebook(kit, tmp_path / "none", monkeypatch, tmp_path / "cache", NOTEBOOK)
    assert error is not None
    assert "conv_forward is not implemented yet: write it in exercise_code/layers.py" in str(error)


def test_barenet_check_scores_the_solution_100_and_the_starter_0(kits, capsys):
    assert main(["check", str(kits["solution"])]) == 0  # the exercise is found by its names
    out = capsys.readouterr().out
    assert "ConvForwardTest passed." in out and out.splitlines()[-1] == "Score: 100/100"
    assert main(["check", str(kits["starter"]), "--exercise", EXERCISE]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "Score: 0/100"
    test_lines = [
        line for line in out.splitlines() if re.match(r"\w+Test\w* (passed|failed)", line)
    ]
    assert len(test_lines) == 19 and all("not implemented yet" in line for line in test_lines)


SUBMIT = """
    from exercise_code.layers import (conv_backward, conv_forward, max_pool_backward,
        max_pool_forward, spatial_batchnorm_backward, spatial_batchnorm_forward,
        spatial_groupnorm_backward, spatial_groupnorm_forward)
    from exercise_code.submit import submit_exercise
    from exercise_code.tests import save_pickle

    save_pickle(data_dict={"conv_forward": conv_forward, "conv_backward": conv_backward,
        "max_pool_forward": max_pool_forward, "max_pool_backward": max_pool_backward,
        "spatial_batchnorm_forward": spatial_batchnorm_forward,
        "spatial_batchnorm_backward": spatial_batchnorm_backward,
        "spatial_groupnorm_forward": spatial_groupnorm_forward,
        "spatial_groupnorm_backward": spatial_groupnorm_backward}, file_name="convnet.p")
    submit_exercise("convnet")
"""


def test_barenet_grade_scores_the_kits_submissions_100_and_0(kits, capsys):
    for kind, expected in (("solution", "100/100"), ("starter", "0/100")):
        run = run_in_kit(kits[kind], SUBMIT)
        assert run.returncode == 0, run.stderr
        assert "Warning" not in run.stdout  # the pickle holds the whole exercise
        main(["grade", str(kits[kind] / "convnet.zip"), "--exercise", EXERCISE])
        out = capsys.readouterr().out
        assert expected in out, out
        if kind == "starter":
            assert "not implemented" in out


#: A correct solution written to the TODO texts, independently of barenet's.
LEARNER_SOLUTION = {
    "conv_forward": """
        xp = pad_channels_last(x, pad)
        cols = im2col(xp, kh, kw, stride, (ho, wo))
        w_mat = w.transpose(2, 3, 1, 0).reshape(kh * kw * x.shape[1], f).astype(x.dtype)
        out = (cols @ w_mat + b.astype(x.dtype)).reshape(n, ho, wo, f)
        return out.transpose(0, 3, 1, 2), (cols, w, x.shape, stride, pad)
    """,
    "conv_param_grads": """
        cols, w, _, _, _ = cache
        f, c, kh, kw = w.shape
        dmat = _dout_matrix(dout)
        dw = (cols.T @ dmat).T.reshape(f, kh, kw, c).transpose(0, 3, 1, 2)
        return dw.astype(w.dtype), dmat.sum(axis=0).astype(w.dtype)
    """,
    "conv_input_grad": """
        cols, w, (n, c, h, wd), stride, pad = cache
        f, _, kh, kw = w.shape
        w_mat = w.transpose(2, 3, 1, 0).reshape(-1, f).astype(cols.dtype)
        dcols = _dout_matrix(dout).astype(cols.dtype) @ w_mat.T
        shape = (n, h + 2 * pad, wd + 2 * pad, c)
        dxp = col2im(dcols, shape, kh, kw, stride, dout.shape[2:])
        return dxp[:, pad : pad + h, pad : pad + wd].transpose(0, 3, 1, 2)
    """,
    "max_pool_forward": """
        _, offsets = _windows(x.shape, ph, pw, stride)
        values = np.stack([x[o] for o in offsets])
        return values.max(axis=0), (values.argmax(axis=0), x, (ph, pw, stride))
    """,
    "max_pool_backward": """
        argmax, x, (ph, pw, stride) = cache
        _, offsets = _windows(x.shape, ph, pw, stride)
        dx = np.zeros(x.shape, dtype=dout.dtype)
        for k, o in enumerate(offsets):
            dx[o] += np.where(argmax == k, dout, 0)
        return dx
    """,
    "batchnorm_forward": BATCHNORM_SOLUTION["batchnorm_forward"],
    "batchnorm_backward": BATCHNORM_SOLUTION["batchnorm_backward"],
    "spatial_batchnorm_forward": """
        n, c, h, w = x.shape
        flat = x.transpose(0, 2, 3, 1).reshape(-1, c)
        out, cache = batchnorm_forward(flat, gamma, beta, bn_param)
        return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache
    """,
    "spatial_batchnorm_backward": """
        n, c, h, w = dout.shape
        flat = dout.transpose(0, 2, 3, 1).reshape(-1, c)
        dx, dgamma, dbeta = batchnorm_backward(flat, cache)
        return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta
    """,
    "spatial_groupnorm_forward": """
        groups = x.reshape(x.shape[0], G, -1)
        mu, var = groups.mean(axis=2, keepdims=True), groups.var(axis=2, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = ((groups - mu) * inv_std).reshape(x.shape)
        out = gamma.reshape(1, c, 1, 1) * xhat + beta.reshape(1, c, 1, 1)
        return out.astype(x.dtype), (xhat, gamma, inv_std, G)
    """,
    "spatial_groupnorm_backward": """
        xhat, gamma, inv_std, G = cache
        n, c = dout.shape[:2]
        dgamma = (dout * xhat).sum(axis=(0, 2, 3)).reshape(gamma.shape)
        dbeta = dout.sum(axis=(0, 2, 3)).reshape(gamma.shape)
        g = (dout * gamma.reshape(1, c, 1, 1)).reshape(n, G, -1)
        xh = xhat.reshape(n, G, -1)
        dx = inv_std * (g - g.mean(axis=2, keepdims=True) - xh * (g * xh).mean(axis=2, keepdims=True))
        return dx.reshape(dout.shape), dgamma, dbeta
    """,
}


def test_a_starter_filled_in_by_a_learner_scores_100_and_trains_as_barenets(tmp_path):
    # The TODO texts say enough: an implementation of one's own, written to them, passes.
    kit = write_kit(tmp_path / "learner", exercise=EXERCISE)
    layers = kit / "exercise_code/layers.py"
    filled = []

    def solve(match: re.Match) -> str:
        filled.append(match["title"])
        code = textwrap.dedent(LEARNER_SOLUTION[match["title"]]).strip() + "\n"
        return textwrap.indent(code, match["indent"])

    layers.write_text(TODO_BLOCK.sub(solve, layers.read_text()))
    assert filled == TITLES
    result = check_paths([kit], verbose=False, exercise=EXERCISE)
    assert result.score == 100, "\n".join(result.lines())
    # The given network runs on the learner's layers: the same loss and gradients.
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(4, 3, 8, 8)), rng.integers(0, 3, 4)
    settings = {"input_dim": (3, 8, 8), "num_filters": 4, "filter_size": 3, "hidden_dim": 6}
    settings.update(num_classes=3, weight_scale=0.1, dtype=np.float64, seed=0)
    ours = barenet.ThreeLayerConvNet(**settings)
    with kit_on_path(kit):
        net = kit_module("networks").ThreeLayerConvNet(**settings)
        assert type(net.layers[0]).__module__ == "exercise_code.networks"
        loss, grads = net.loss(x, y)
    expected, our_grads = ours.loss(x, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    for key, value in our_grads.items():
        np.testing.assert_allclose(grads[key], value, rtol=1e-10, atol=1e-12)


def test_the_kits_conv_layer_is_barenets_with_the_learners_passes(kits):
    # The layer object keeps barenet's weight init and its workspace, calling the kit's
    # functions: the solution kit's Conv2d gives barenet's results bit for bit.
    x = np.random.default_rng(3).normal(size=(2, 3, 6, 6)).astype(np.float32)
    ours = conv.Conv2d(3, 4, 3, padding=1, seed=0)
    with kit_on_path(kits["solution"]):
        mine = kit_module("networks").Conv2d(3, 4, 3, padding=1, seed=0)
        out, cache = mine.forward(x)
        dx = mine.backward(out, cache)
    expected, our_cache = ours.forward(x)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(dx, ours.backward(expected, our_cache))
    np.testing.assert_array_equal(mine.grads["W"], ours.grads["W"])
