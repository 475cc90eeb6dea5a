"""The course's test cells, names and conventions, on learner-style solutions.

Correct solutions score 100 under their course convention (with advice lines
where there is something to say); each real defect scores below 100 with its
diagnosis. The wrappers are called exactly as the course's notebook calls them.
"""

import contextlib
import io

import learner_solutions as learner
import numpy as np
import pytest

import barenet
from barenet.grading import Score
from barenet.grading.local.wrappers import (
    AffineTestWrapper,
    ReluTestWrapper,
    SGDMTestWrapper,
    SigmoidTestWrapper,
)

SEED = 5


def result_of(score):
    """The GroupResult behind a wrapper's returned score."""
    return score.result


def failed(score):
    return {r.name: r.message for r in score.result.results if not r.passed}


def advice(score):
    return [a for r in score.result.results for a in r.advice]


# ----------------------------------------------------------- printing as the course does


def test_print_of_a_wrapper_prints_the_course_block(capsys):
    print(SigmoidTestWrapper())
    assert capsys.readouterr().out.splitlines() == [
        "SigmoidForwardTest passed.",
        "SigmoidBackwardTest passed.",
        "Congratulations! You have passed all the unit tests!!! Tests passed: 2/2",
        "Score: 100/100",
        "You secured a score of: 100",
    ]


@pytest.mark.parametrize(
    ("wrapper", "names"),
    [
        (ReluTestWrapper, ["ReluForwardTest", "ReluBackwardTest"]),
        (
            AffineTestWrapper,
            [
                "AffineForwardTest",
                "AffineBackwardTestDx",
                "AffineBackwardTestDw",
                "AffineBackwardTestDb",
            ],
        ),
        (
            SGDMTestWrapper,
            [
                "SGDM_Weight_Test",
                "SGDM_Velocity_Test",
                "SGDMomentumFirstStepTest",
                "SGDMomentumCustomMomentumTest",
            ],
        ),
    ],
    ids=["relu", "affine", "sgdm"],
)
def test_course_names_first_then_barenet_extras(wrapper, names, capsys):
    score = wrapper()
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{n} passed." for n in names] + [
        f"Congratulations! You have passed all the unit tests!!! Tests passed: {len(names)}/{len(names)}",
        "Score: 100/100",
    ]
    assert isinstance(score, int) and isinstance(score, Score) and score == 100
    assert str(score) == "You secured a score of: 100"


def test_barenet_exports_the_wrappers():
    assert barenet.SigmoidTestWrapper is SigmoidTestWrapper
    assert barenet.SGDMTestWrapper is SGDMTestWrapper


# ----------------------------------------------------------- correct solutions: 100


def test_textbook_sigmoid_scores_100_with_overflow_advice(capsys):
    score = SigmoidTestWrapper(learner.TextbookSigmoid, seed=SEED)
    out = capsys.readouterr().out
    assert score == 100
    assert "  advice: NumPy warned 'overflow encountered in exp'" in out
    assert "measured" not in out


def test_strict_grading_turns_advice_into_a_failure():
    score = SigmoidTestWrapper(learner.TextbookSigmoid, strict=True, seed=SEED, verbose=False)
    assert score < 100
    message = failed(score)["SigmoidForwardTest"]
    assert "graded strictly" in message and "overflow" in message
    assert "measured 0" not in message


def test_in_place_relu_scores_100_with_advice():
    score = ReluTestWrapper(learner.InPlaceRelu, seed=SEED, verbose=False)
    assert score == 100
    remarks = " ".join(advice(score))
    assert "the input x modified in place by forward" in remarks
    assert "dout modified in place by backward" in remarks


def test_map_relu_scores_100_with_loop_advice():
    score = ReluTestWrapper(learner.MapRelu, seed=SEED, verbose=False)
    assert score == 100
    assert any("Python loop over the elements" in a for a in advice(score))


def test_tuple_caches_score_100_without_advice():
    for score in (
        SigmoidTestWrapper(learner.TupleCacheSigmoid, seed=SEED, verbose=False),
        AffineTestWrapper(learner, seed=SEED, verbose=False),
    ):
        assert score == 100
        assert advice(score) == []


def test_unbound_update_is_called_with_self_none():
    assert SGDMTestWrapper(learner.SGDMomentum._update, seed=SEED, verbose=False) == 100
    assert SGDMTestWrapper(learner.SGDMomentum, seed=SEED, verbose=False) == 100
    assert SGDMTestWrapper(learner.SGDMomentum(), seed=SEED, verbose=False) == 100


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_barenet_own_code_scores_100_on_fresh_inputs(seed):
    for wrapper in (SigmoidTestWrapper, ReluTestWrapper, AffineTestWrapper, SGDMTestWrapper):
        assert wrapper(seed=seed, verbose=False) == 100


def test_course_keys_in_a_dict_are_accepted():
    submission = {
        "SGD_Momentum_update": learner.SGDMomentum._update,
        "AffineForward": learner.affine_forward,
        "AffineBackward": learner.affine_backward,
        "Sigmoid": learner.TupleCacheSigmoid,
        "Relu": learner.InPlaceRelu,
    }
    for wrapper in (SigmoidTestWrapper, ReluTestWrapper, AffineTestWrapper, SGDMTestWrapper):
        assert wrapper(submission, seed=SEED, verbose=False) == 100


# ----------------------------------------------------------- conventions


def test_averaged_affine_backward_is_right_under_batch_mean():
    score = AffineTestWrapper(
        affine_forward=learner.affine_forward,
        affine_backward=learner.averaged_affine_backward,
        convention="batch-mean",
        seed=SEED,
        verbose=False,
    )
    assert score == 100


def test_averaged_affine_backward_under_exact_is_explained_without_a_flag():
    score = AffineTestWrapper(
        affine_forward=learner.affine_forward,
        affine_backward=learner.averaged_affine_backward,
        seed=SEED,
        verbose=False,
    )
    assert score == 50
    assert set(failed(score)) == {"AffineBackwardTestDw", "AffineBackwardTestDb"}
    for message in failed(score).values():
        assert "exactly 1/N" in message and "must not divide by N" in message
        assert "--convention" not in message  # the flag is in the teacher's report only


def test_exact_backward_under_batch_mean_asks_for_the_average():
    score = AffineTestWrapper(convention="batch-mean", seed=SEED, verbose=False)
    assert score == 50
    for message in failed(score).values():
        assert "N times" in message and "divide them by N" in message
        assert "--convention" not in message


def test_unknown_convention_is_refused_naming_the_argument():
    with pytest.raises(ValueError, match="convention must be one of 'exact', 'batch-mean'"):
        SigmoidTestWrapper(convention="mean")


# ----------------------------------------------------------- real defects: below 100


def test_hard_coded_momentum_is_caught():
    score = SGDMTestWrapper(learner.HardCodedMomentum, seed=SEED, verbose=False)
    assert score == 75
    assert "hard-coded to 0.9" in failed(score)["SGDMomentumCustomMomentumTest"]


def test_missing_velocity_key_error_is_caught():
    score = SGDMTestWrapper(learner.NoVelocityYetMomentum, seed=SEED, verbose=False)
    assert score == 75
    message = failed(score)["SGDMomentumFirstStepTest"]
    assert "KeyError" in message and "config.get('velocity'" in message


@pytest.mark.parametrize(
    ("implementation", "words"),
    [(learner.NoMaskRelu, "the mask is missing"), (learner.GreaterEqualRelu, "taken with >= 0")],
    ids=["no-mask", "greater-equal"],
)
def test_relu_mask_defects_are_named(implementation, words):
    score = ReluTestWrapper(implementation, seed=SEED, verbose=False)
    assert score == 50
    assert words in failed(score)["ReluBackwardTest"]


def test_code_that_recognises_the_course_input_gains_nothing():
    for seed in range(3):
        score = AffineTestWrapper(
            affine_forward=learner.affine_forward,
            affine_backward=learner.shape_detecting_affine_backward,
            seed=seed,
            verbose=False,
        )
        assert score == 50


def test_not_implemented_is_reported_as_such_and_scores_0(capsys):
    score = ReluTestWrapper(learner.UnfinishedRelu, seed=SEED)
    out = capsys.readouterr().out
    assert score == 0
    assert "ReluForwardTest failed: Relu.forward is not implemented yet" in out
    assert "Traceback" not in out


def test_no_failure_reads_measured_0():
    for wrapper, implementation in [
        (ReluTestWrapper, learner.NoMaskRelu),
        (SigmoidTestWrapper, learner.TextbookSigmoid),
        (SGDMTestWrapper, learner.HardCodedMomentum),
    ]:
        for strict in (False, True):
            score = wrapper(implementation, strict=strict, seed=SEED, verbose=False)
            for message in failed(score).values():
                assert "measured 0," not in message and not message.endswith("measured 0")


def test_fresh_inputs_differ_between_runs_and_repeat_with_a_seed():
    from barenet.grading.definitions.activation_tests import relu_specs
    from barenet.grading.engine.spec import build_probes

    spec = relu_specs()[1]
    first, again, other = (build_probes([spec], s)[0] for s in (1, 1, 2))
    assert np.array_equal(first.context["x"], again.context["x"])
    assert first.context["x"].shape != other.context["x"].shape or not np.array_equal(
        first.context["x"], other.context["x"]
    )


# ----------------------------------------------------------- the course's cells, verbatim

LAYER_PY = """
import numpy as np


class Sigmoid:
    def forward(self, x):
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0, e) / (1.0 + e)
        return out, out

    def backward(self, dout, cache):
        return dout * cache * (1 - cache)


class Relu:
    def forward(self, x):
        out = np.maximum(x, 0)
        return out, x

    def backward(self, dout, cache):
        return dout * (cache > 0)


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
"""

OPTIMIZER_PY = """
import numpy as np


class SGDMomentum:
    def __init__(self, model, loss_func, learning_rate=1e-4, **kwargs):
        self.model = model
        self.lr = learning_rate

    def _update(self, w, dw, config, lr):
        if config is None:
            config = {}
        config.setdefault("momentum", 0.9)
        v = config.get("velocity", np.zeros_like(w))
        v = config["momentum"] * v - lr * dw
        config["velocity"] = v
        return w + v, config
"""

# The import lines differ from the course's (they bind barenet's wrappers to the
# learner's code, as the course's exercise_code/tests does); the cells do not.
IMPORTS = """
from functools import partial
import barenet
from barenet import save_pickle, submit_exercise
from exercise_code.networks.layer import Sigmoid, Relu, affine_forward, affine_backward
from exercise_code.networks import layer
from exercise_code.networks.optimizer import SGDMomentum
SigmoidTestWrapper = partial(barenet.SigmoidTestWrapper, Sigmoid)
ReluTestWrapper = partial(barenet.ReluTestWrapper, Relu)
AffineTestWrapper = partial(barenet.AffineTestWrapper, layer)
SGDMTestWrapper = partial(barenet.SGDMTestWrapper, SGDMomentum._update)
"""

CELLS = {
    5: "print(SigmoidTestWrapper())",
    6: "print(ReluTestWrapper())",
    7: "print(AffineTestWrapper())",
    25: "print(SGDMTestWrapper())",
    27: 'save_pickle(data_dict={"SGD_Momentum_update": SGDMomentum._update, '
    '"AffineForward": affine_forward,\n'
    '                       "AffineBackward": affine_backward, "Sigmoid": Sigmoid, '
    '"Relu": Relu}, file_name="NN.p")',
    28: "submit_exercise('../output/exercise06')",
}


def course_block(names):
    n = len(names)
    return [f"{name} passed." for name in names] + [
        f"Congratulations! You have passed all the unit tests!!! Tests passed: {n}/{n}",
        "Score: 100/100",
        "You secured a score of: 100",
    ]


@pytest.fixture
def course_folder(tmp_path, monkeypatch):
    """A learner's folder: exercise_code/networks/{layer,optimizer}.py, run from the notebook's folder."""
    networks = tmp_path / "exercise" / "exercise_code" / "networks"
    networks.mkdir(parents=True)
    for package in (networks.parent, networks):
        (package / "__init__.py").write_text("")
    (networks / "layer.py").write_text(LAYER_PY)
    (networks / "optimizer.py").write_text(OPTIMIZER_PY)
    monkeypatch.chdir(tmp_path / "exercise")
    monkeypatch.syspath_prepend(str(tmp_path / "exercise"))
    forget_exercise_code()  # another test's exercise_code may have been imported
    yield tmp_path / "exercise"
    forget_exercise_code()


def forget_exercise_code():
    import sys

    for name in [m for m in sys.modules if m.split(".")[0] == "exercise_code"]:
        del sys.modules[name]


def run_cells(namespace, numbers):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for number in numbers:
            exec(CELLS[number], namespace)
    return out.getvalue().splitlines()


def test_course_cells_run_verbatim_and_print_what_the_course_shows(course_folder):
    namespace = {}
    exec(IMPORTS, namespace)
    assert run_cells(namespace, [5]) == course_block(["SigmoidForwardTest", "SigmoidBackwardTest"])
    assert run_cells(namespace, [6]) == course_block(["ReluForwardTest", "ReluBackwardTest"])
    assert run_cells(namespace, [7]) == course_block(
        [
            "AffineForwardTest",
            "AffineBackwardTestDx",
            "AffineBackwardTestDw",
            "AffineBackwardTestDb",
        ]
    )
    assert run_cells(namespace, [25]) == course_block(
        [
            "SGDM_Weight_Test",
            "SGDM_Velocity_Test",
            "SGDMomentumFirstStepTest",
            "SGDMomentumCustomMomentumTest",
        ]
    )
    saved = run_cells(namespace, [27])
    assert saved == [
        "models/NN.p holds: SGD_Momentum_update, AffineForward, AffineBackward, Sigmoid, Relu"
    ]
    submitted = run_cells(namespace, [28])
    assert submitted[:2] == [
        "Adding folder models/ (1 file)",
        "models/NN.p holds: SGD_Momentum_update, AffineForward, AffineBackward, Sigmoid, Relu",
    ]
    assert submitted[-1].startswith("Zipped submission written to ")
    zip_path = course_folder.parent / "output" / "exercise06.zip"
    assert zip_path.is_file()

    from barenet.grading import grade_submission

    report = grade_submission(zip_path, timeout=120)
    assert report.reason is None, report.reason
    assert report.score == 100
    assert [t["name"] for t in report.tests][:2] == ["SigmoidForwardTest", "SigmoidBackwardTest"]


def test_save_pickle_warns_about_missing_and_unknown_keys(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = barenet.save_pickle({"Sigmoid": learner.TupleCacheSigmoid, "relu": 1}, "NN.p")
    out = capsys.readouterr().out
    assert path.is_file()  # a warning, never a refusal
    assert "models/NN.p holds: Sigmoid" in out
    assert "Warning: models/NN.p has no Relu, affine_forward, affine_backward, SGDMomentum" in out
    assert "keys the grader does not use: relu" in out


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_saved_files_respect_the_umask(tmp_path, monkeypatch, umask):
    import os

    monkeypatch.chdir(tmp_path)
    previous = os.umask(umask)
    try:
        pickle_path = barenet.save_pickle({"Sigmoid": learner.TupleCacheSigmoid}, "NN.p")
        with contextlib.redirect_stdout(io.StringIO()):
            zip_path = barenet.submit_exercise("exercise06")
    finally:
        os.umask(previous)
    for path in (pickle_path, zip_path):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask
