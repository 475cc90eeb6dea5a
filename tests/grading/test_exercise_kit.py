"""``barenet exercise init``: the starter and solution kits, their tests and submission."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import barenet
import barenet.layers
import barenet.optim
from barenet.app.cli import main
from barenet.exercise import catalog, includes, write_kit
from barenet.exercise.catalog import Exercise
from barenet.exercise.kit import render_regions
from barenet.exercise.regions import find_regions, keep_solutions, stub_regions

WRAPPERS = {
    "SigmoidTestWrapper": ("layer_tests", ["SigmoidForwardTest", "SigmoidBackwardTest"]),
    "ReluTestWrapper": ("layer_tests", ["ReluForwardTest", "ReluBackwardTest"]),
    "AffineTestWrapper": (
        "layer_tests",
        [
            "AffineForwardTest",
            "AffineBackwardTestDx",
            "AffineBackwardTestDw",
            "AffineBackwardTestDb",
        ],
    ),
    "SGDMTestWrapper": ("sgdm_tests", ["SGDM_Weight_Test", "SGDM_Velocity_Test"]),
}


def forget_kit_modules() -> None:
    """Drop every ``exercise_code`` module, so that the next import reads another kit."""
    for name in [n for n in sys.modules if n == "exercise_code" or n.startswith("exercise_code.")]:
        del sys.modules[name]


@contextlib.contextmanager
def kit_on_path(kit: Path) -> Iterator[None]:
    """Make ``exercise_code`` of ``kit`` importable, as it is from a notebook in ``kit``."""
    forget_kit_modules()
    sys.path.insert(0, str(kit))
    try:
        yield
    finally:
        sys.path.remove(str(kit))
        forget_kit_modules()


def kit_module(name: str):
    """Import ``exercise_code.<name>`` (call inside :func:`kit_on_path`)."""
    return importlib.import_module(f"exercise_code.{name}")


def print_wrapper(name: str) -> None:
    """Run the kit's wrapper ``name`` as a notebook cell does: ``print(Wrapper())``."""
    module, _ = WRAPPERS[name]
    print(getattr(kit_module(f"tests.{module}"), name)())


COURSE_LAYOUT = [
    "1_neural_networks.ipynb",
    "exercise_code/__init__.py",
    "exercise_code/networks/__init__.py",
    "exercise_code/networks/layer.py",
    "exercise_code/networks/optimizer.py",
    "exercise_code/networks/classification_net.py",
    "exercise_code/networks/compute_network_size.py",
    "exercise_code/data/__init__.py",
    "exercise_code/solver.py",
    "exercise_code/tests/__init__.py",
    "exercise_code/tests/layer_tests.py",
    "exercise_code/tests/sgdm_tests.py",
    "exercise_code/submit.py",
]

#: The import lines of the exercise's notebook, with the names the course uses.
COURSE_IMPORTS = """
from exercise_code.data import (DataLoader, ImageFolderDataset, MemoryImageFolderDataset,
    RescaleTransform, NormalizeTransform, FlattenTransform, ComposeTransform)
from exercise_code.networks import ClassificationNet, CrossEntropyFromLogits, L1, MSE, BCE
from exercise_code.networks.layer import *
from exercise_code.networks.optimizer import SGD, SGDMomentum, Adam
from exercise_code.networks.compute_network_size import *
from exercise_code.solver import Solver
from exercise_code.tests import save_pickle
from exercise_code.tests.layer_tests import *
from exercise_code.tests.sgdm_tests import *
from exercise_code.submit import submit_exercise
print(SigmoidTestWrapper, ReluTestWrapper, AffineTestWrapper, SGDMTestWrapper,
      Sigmoid, Relu, affine_forward, affine_backward, compute_network_size, GetHumanReadable)
"""

#: A correct solution written independently of barenet's, patched into the starter kit.
LEARNER_SOLUTION = {
    "Sigmoid.forward": """
        out = 0.5 * (1.0 + np.tanh(0.5 * x))  # the same function; tanh cannot overflow
        return out, out
    """,
    "Sigmoid.backward": """
        return dout * cache * (1.0 - cache)
    """,
    "Relu.forward": """
        return np.where(x > 0, x, 0), x
    """,
    "Relu.backward": """
        return np.where(cache > 0, dout, 0)
    """,
    "affine_forward": """
        out = x.reshape(len(x), -1).dot(w) + b
        return out, (x, w, b)
    """,
    "affine_backward": """
        x, w, b = cache
        dx = dout.dot(w.T).reshape(x.shape)
        dw = x.reshape(len(x), -1).T.dot(dout)
        return dx, dw, dout.sum(axis=0)
    """,
    "SGDMomentum._update": """
        momentum = config.get("momentum", 0.9)
        velocity = momentum * config.get("velocity", np.zeros_like(w)) - lr * dw
        config["velocity"] = velocity
        next_w = w + velocity
        if out is not None:
            out[...] = next_w
            next_w = out
        return next_w, config
    """,
}

TODO_BLOCK = re.compile(
    r"^(?P<indent> *)# TODO: (?P<title>[\w.]+)\.\n(?:(?P=indent)#.*\n)*"
    r"(?P=indent)raise NotImplementedError\(\n.*\n(?P=indent)\)\n",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def kits(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("kits")
    return {
        "starter": write_kit(root / "starter"),
        "solution": write_kit(root / "solution", solutions=True),
    }


def fill_todos(kit: Path) -> list[str]:
    """Replace every TODO block of the kit with :data:`LEARNER_SOLUTION`; return the titles."""
    filled = []
    for file in (kit / "exercise_code").rglob("*.py"):

        def solve(match: re.Match) -> str:
            filled.append(match["title"])
            return textwrap.indent(
                textwrap.dedent(LEARNER_SOLUTION[match["title"]]).strip() + "\n", match["indent"]
            )

        text = file.read_text()
        file.write_text(TODO_BLOCK.sub(solve, text))
    return filled


def test_kit_has_the_course_layout(kits):
    for kit in kits.values():
        for relative in COURSE_LAYOUT:
            assert (kit / relative).is_file(), relative


def test_starter_kit_hides_every_solution(kits):
    starter = kits["starter"]
    layer = (starter / "exercise_code/networks/layer.py").read_text()
    optimizer = (starter / "exercise_code/networks/optimizer.py").read_text()
    assert layer.count("# TODO:") == 6 and optimizer.count("# TODO:") == 1
    assert "np.exp(-np.abs(x))" not in layer and "def affine_param_grads" not in layer
    assert "def sgd_momentum" not in optimizer and "velocity = " not in optimizer
    assert "# >>> exercise" not in layer + optimizer  # no marker left in either kit
    solution = (kits["solution"] / "exercise_code/networks/layer.py").read_text()
    assert "# TODO:" not in solution and "# >>> exercise" not in solution


@pytest.mark.parametrize("solutions", [False, True], ids=["starter", "solution"])
@pytest.mark.parametrize("exercise", list(catalog.EXERCISES))
def test_kits_pass_ruff(tmp_path, exercise, solutions):
    ruff = pytest.importorskip("ruff")  # installed with the test extras
    del ruff
    for kit in [write_kit(tmp_path / "kit", solutions=solutions, exercise=exercise)]:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "ruff",
                "check",
                "--isolated",
                "--no-cache",
                "--line-length",
                "100",
                "--select",
                "E,F,W,B",
                "--ignore",
                # A starter's TODO may leave values the given code prepared unused.
                "E501,E741" if solutions else "E501,E741,F841",
                str(kit / "exercise_code"),
            ],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_course_import_lines_work_in_the_solution_kit(kits):
    run = subprocess.run(
        [sys.executable, "-c", COURSE_IMPORTS], cwd=kits["solution"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


def test_solution_kit_gives_barenet_results(kits):
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((2, 4, 3, 5)) * 10
    w, b = rng.standard_normal((15, 6)), rng.standard_normal(6)
    dout_affine = rng.standard_normal((4, 6))
    with kit_on_path(kits["solution"]):
        layer, optimizer = kit_module("networks.layer"), kit_module("networks.optimizer")
        for name in ("Sigmoid", "Relu"):
            mine, ours = getattr(layer, name)(), getattr(barenet.layers, name)()
            out, cache = mine.forward(x)
            np.testing.assert_array_equal(out, ours.forward(x)[0])
            np.testing.assert_array_equal(
                mine.backward(dout, cache), ours.backward(dout, ours.forward(x)[1])
            )
        out, cache = layer.affine_forward(x, w, b)
        np.testing.assert_array_equal(out, barenet.layers.affine_forward(x, w, b)[0])
        for mine, ours in zip(
            layer.affine_backward(dout_affine, cache),
            barenet.layers.affine_backward(dout_affine, (x, w, b)),
            strict=True,
        ):
            np.testing.assert_array_equal(mine, ours)
        config = {"momentum": 0.8}
        next_w, config = optimizer.SGDMomentum._update(None, w, w * 0.5, config, 0.1)
        expected, _ = barenet.optim.sgd_momentum(w, w * 0.5, {"momentum": 0.8}, 0.1)
        np.testing.assert_array_equal(next_w, expected)


def test_a_change_to_barenet_changes_the_solution_kit(tmp_path, monkeypatch):
    source = includes.module_source
    changed = "e = np.exp(-np.abs(x))  # changed in barenet"

    def patched(module_name: str) -> str:
        text = source(module_name)
        return (
            text.replace("e = np.exp(-np.abs(x))", changed)
            if module_name == "barenet.layers.activations"
            else text
        )

    monkeypatch.setattr(includes, "module_source", patched)
    kit = write_kit(tmp_path / "kit", solutions=True)
    assert changed in (kit / "exercise_code/networks/layer.py").read_text()


def test_solution_kit_wrappers_score_100(kits, capsys):
    with kit_on_path(kits["solution"]):
        for name, (_, test_names) in WRAPPERS.items():
            print_wrapper(name)
            out = capsys.readouterr().out
            assert "Score: 100/100" in out and "Tests passed:" in out, out
            for test_name in test_names:
                assert f"{test_name} passed." in out
            assert "You secured a score of: 100" in out


def test_starter_kit_wrappers_say_not_implemented(kits, capsys):
    with kit_on_path(kits["starter"]):
        for name in WRAPPERS:
            print_wrapper(name)
            out = capsys.readouterr().out
            assert "Score: 0/100" in out, out
            assert "Traceback" not in out
            test_lines = [
                line for line in out.splitlines() if re.match(r"\w+ (passed|failed)", line)
            ]
            assert test_lines and all("not implemented yet" in line for line in test_lines), out


def test_starter_network_runs_on_the_learners_layers(kits):
    with kit_on_path(kits["starter"]):
        net = kit_module("networks").ClassificationNet(input_size=12, num_classes=3, seed=0)
        with pytest.raises(NotImplementedError, match="affine_forward is not implemented yet"):
            net.forward(np.zeros((2, 12)))


def test_filled_starter_kit_scores_100_and_trains(tmp_path, capsys):
    kit = write_kit(tmp_path / "learner")
    assert sorted(fill_todos(kit)) == sorted(LEARNER_SOLUTION)
    with kit_on_path(kit):
        for name in WRAPPERS:
            print_wrapper(name)
            out = capsys.readouterr().out
            assert "Score: 100/100" in out, out
        # The given network and solver run on the learner's layers and optimizer.
        networks, solver = kit_module("networks"), kit_module("solver")
        optimizer = kit_module("networks.optimizer")
        rng = np.random.default_rng(0)
        centers = rng.standard_normal((3, 20)) * 3
        labels = rng.integers(0, 3, 150)
        batches = [
            {
                "image": centers[labels[i : i + 30]] + rng.standard_normal((30, 20)),
                "label": labels[i : i + 30],
            }
            for i in range(0, 150, 30)
        ]
        net = networks.ClassificationNet(
            input_size=20, hidden_size=16, num_classes=3, std=0.1, seed=0
        )
        trainer = solver.Solver(
            net,
            batches,
            batches,
            learning_rate=0.05,
            optimizer=optimizer.SGDMomentum,
            verbose=False,
        )
        trainer.train(epochs=15)
        assert trainer.train_loss_history[-1] < 0.5 * trainer.train_loss_history[0]
        assert trainer.val_acc_history[-1] > 0.9


def run_in_kit(kit: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=kit, capture_output=True, text=True
    )


SUBMIT = """
    from exercise_code.networks.layer import Relu, Sigmoid, affine_backward, affine_forward
    from exercise_code.networks.optimizer import SGDMomentum
    from exercise_code.submit import submit_exercise
    from exercise_code.tests import save_pickle

    save_pickle(data_dict={"SGD_Momentum_update": SGDMomentum._update, "AffineForward": affine_forward,
                           "AffineBackward": affine_backward, "Sigmoid": Sigmoid, "Relu": Relu},
                file_name="NN.p")
    submit_exercise("exercise05")
"""


@pytest.fixture(scope="module")
def submissions(kits) -> dict[str, Path]:
    zips = {}
    for kind, kit in kits.items():
        run = run_in_kit(kit, SUBMIT)
        assert run.returncode == 0, run.stderr
        assert "Adding folder models/ (1 file)" in run.stdout
        assert "Adding notebook 1_neural_networks.ipynb" in run.stdout
        zips[kind] = kit / "exercise05.zip"
    return zips


def test_submit_zips_models_and_notebook(submissions):
    for path in submissions.values():
        with zipfile.ZipFile(path) as archive:
            assert sorted(archive.namelist()) == ["1_neural_networks.ipynb", "models/NN.p"]


def test_barenet_grade_scores_the_submissions(submissions, capsys):
    main(["grade", str(submissions["solution"])])
    assert "100/100" in capsys.readouterr().out
    main(["grade", str(submissions["starter"])])
    out = capsys.readouterr().out
    assert "0/100" in out and "not implemented" in out


def test_cli_writes_both_kits(tmp_path, capsys):
    assert main(["exercise", "init", str(tmp_path / "a")]) == 0
    assert main(["exercise", "init", str(tmp_path / "b"), "--solutions"]) == 0
    out = capsys.readouterr().out
    assert "starter kit" in out and "solution kit" in out
    assert "# TODO:" in (tmp_path / "a/exercise_code/networks/layer.py").read_text()
    assert "# TODO:" not in (tmp_path / "b/exercise_code/networks/layer.py").read_text()
    assert main(["exercise", "init", str(tmp_path / "a")]) == 1  # never overwrites silently
    assert "not empty" in capsys.readouterr().err
    assert main(["exercise", "init", str(tmp_path / "a"), "--solutions", "--force"]) == 0
    assert "# TODO:" not in (tmp_path / "a/exercise_code/networks/layer.py").read_text()


def test_regions_are_checked():
    with pytest.raises(ValueError, match="never closed"):
        find_regions(["    # >>> exercise: a\n", "    x = 1\n"])
    with pytest.raises(ValueError, match="closes no region"):
        find_regions(["    # <<< exercise\n"])
    text = "def f(x):\n    # >>> exercise: f\n    return x\n    # <<< exercise\n"
    assert keep_solutions(text) == "def f(x):\n    return x\n"
    stub = stub_regions(text, {"f": ("f", "Return x.")}, "write it here")
    assert "return x" not in stub and "# TODO: f." in stub and "#   Return x." in stub
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError, match="f is not implemented yet: write it here"):
        namespace["f"](1)


def test_every_marked_region_has_a_task_and_every_task_a_region():
    # Every region marked anywhere in barenet's source belongs to exactly one exercise.
    names = []
    for path in sorted(Path(barenet.__file__).parent.rglob("*.py")):
        if "exercise" not in path.parts:  # the generator's own docs show markers too
            names += [region.name for region in find_regions(path.read_text().splitlines())]
    assert sorted(names) == sorted(catalog.all_tasks())
    # A region two exercises ask for (spatial batch norm in a ConvNet kit, say) is
    # described the same in both.
    for e in catalog.EXERCISES.values():
        for name, task in e.tasks.items():
            assert task == catalog.all_tasks()[name], (e.name, name)


def test_includes_name_what_is_missing():
    with pytest.raises(KeyError, match="not_there"):
        includes.definitions("x = 1\n", ["x", "not_there"])
    assert includes.definitions("a = 1\nb = 2\n\n\ndef f():\n    pass\n", ["f", "a"]) == (
        "def f():\n    pass\n\n\na = 1\n"
    )


def test_starter_optimizer_steps_run_the_learners_update(kits):
    # barenet's compiled one-pass steps are left out of the kit: step() must reach
    # the learner's (here unwritten) _update, not go around it.
    with kit_on_path(kits["starter"]):
        networks, optimizer = kit_module("networks"), kit_module("networks.optimizer")
        net = networks.ClassificationNet(num_layer=1, input_size=4, num_classes=2, seed=0)
        net.grads = {name: np.ones_like(value) for name, value in net.params.items()}
        with pytest.raises(NotImplementedError, match="SGDMomentum._update is not implemented"):
            optimizer.SGDMomentum(net, None, 0.1).step()
        before = net.params["W1"].copy()
        optimizer.SGD(net, None, 0.5).step()  # given, and runs on its own
        np.testing.assert_allclose(net.params["W1"], before - 0.5)


def test_kit_network_takes_barenets_arguments(kits):
    with kit_on_path(kits["solution"]):
        kit_net = kit_module("networks").ClassificationNet
        assert list(inspect.signature(kit_net).parameters) == list(
            inspect.signature(barenet.ClassificationNet).parameters
        )
        net = kit_net(input_size=6, num_classes=3, reg=0.1, dtype=np.float64, seed=1)
        ours = barenet.ClassificationNet(
            input_size=6, num_classes=3, reg=0.1, dtype=np.float64, seed=1
        )
        for name, value in ours.params.items():
            np.testing.assert_array_equal(net.params[name], value)
        assert type(net.activation).__module__ == "exercise_code.networks.layer"


def test_the_zip_goes_into_the_current_folder_as_barenets_does(kits, tmp_path):
    # The course's submit_exercise writes "<name>.zip" relative to where it runs;
    # the kit's is barenet's own, so the two cannot disagree.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    kit = kits["solution"]
    code = f"""
        import sys
        sys.path.insert(0, {str(kit)!r})
        from exercise_code.submit import submit_exercise
        from exercise_code.tests import save_pickle
        import barenet
        assert submit_exercise is barenet.submit_exercise
        import os
        os.chdir({str(kit)!r})
        save_pickle({{"Sigmoid": None}}, "NN.p")
        os.chdir({str(elsewhere)!r})
        submit_exercise("handed-in", data_path={str(kit)!r})
    """
    run = run_in_kit(elsewhere, code)
    assert run.returncode == 0, run.stderr
    assert (elsewhere / "handed-in.zip").is_file() and not (kit / "handed-in.zip").exists()


def test_regions_of_another_exercise_stay_written(monkeypatch):
    text = (
        "def mine(x):\n    # >>> exercise: mine\n    return x\n    # <<< exercise\n\n\n"
        "def given(x):\n    # >>> exercise: given\n    return -x\n    # <<< exercise\n"
    )
    this = Exercise("this", "", "", "", {"mine": ("mine", "Return x.")})
    other = Exercise("other", "", "", "", {"given": ("given", "Return -x.")})
    monkeypatch.setattr(catalog, "EXERCISES", {"this": this, "other": other})
    seen = set()
    starter = render_regions(text, this, "here.py", solutions=False, seen=seen)
    assert "# TODO: mine." in starter and "return x\n" not in starter
    assert "    return -x\n" in starter and "# TODO: given" not in starter
    assert seen == {"mine", "given"}
    with pytest.raises(KeyError, match="no task text for the region 'stray'"):
        render_regions(text.replace("given", "stray"), this, "here.py", False, set())


def test_an_exercise_whose_region_no_template_holds_fails_before_writing(tmp_path, monkeypatch):
    first = catalog.EXERCISES[catalog.DEFAULT_EXERCISE]
    broken = dataclasses.replace(first, tasks={**first.tasks, "not_marked": ("x", "y")})
    monkeypatch.setattr(catalog, "EXERCISES", {first.name: broken})
    with pytest.raises(ValueError, match="no kit file holds the region\\(s\\) not_marked"):
        write_kit(tmp_path / "kit")
    assert not (tmp_path / "kit").exists()
