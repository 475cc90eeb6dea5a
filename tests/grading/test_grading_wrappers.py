"""The exercise wrappers: barenet's own code scores 100, and learners' code can be plugged in."""

import types

import numpy as np
import pytest

import barenet.layers
import barenet.optim
from barenet.grading.local.wrappers import (
    AffineTestWrapper,
    ReluTestWrapper,
    SGDMTestWrapper,
    SigmoidTestWrapper,
)

WRAPPERS = {
    SigmoidTestWrapper: ["SigmoidForwardTest", "SigmoidBackwardTest"],
    ReluTestWrapper: ["ReluForwardTest", "ReluBackwardTest"],
    AffineTestWrapper: [
        "AffineForwardTest",
        "AffineBackwardTestDx",
        "AffineBackwardTestDw",
        "AffineBackwardTestDb",
    ],
    SGDMTestWrapper: [
        "SGDM_Weight_Test",
        "SGDM_Velocity_Test",
        "SGDMomentumFirstStepTest",
        "SGDMomentumCustomMomentumTest",
    ],
}


@pytest.mark.parametrize("wrapper", list(WRAPPERS), ids=lambda w: w.__name__)
def test_barenet_scores_100_and_prints_every_line(wrapper, capsys):
    assert wrapper() == 100
    lines = capsys.readouterr().out.splitlines()
    names = WRAPPERS[wrapper]
    assert lines[: len(names)] == [f"{name} passed." for name in names]
    assert lines[len(names)].endswith(f"Tests passed: {len(names)}/{len(names)}")
    assert lines[-1] == "Score: 100/100"


def test_sigmoid_wrapper_prints_the_documented_lines(capsys):
    SigmoidTestWrapper()
    assert capsys.readouterr().out.splitlines() == [
        "SigmoidForwardTest passed.",
        "SigmoidBackwardTest passed.",
        "Congratulations! You have passed all the unit tests!!! Tests passed: 2/2",
        "Score: 100/100",
    ]


class CachesInputRelu:
    """A correct ReLU that keeps the input (barenet's keeps the output): both are fine."""

    def forward(self, x):
        return np.maximum(x, 0), x

    def backward(self, dout, cache):
        return np.where(cache > 0, dout, 0.0)


@pytest.mark.parametrize(
    "implementation",
    [
        barenet.layers.Relu,
        barenet.layers.Relu(),
        CachesInputRelu,
        CachesInputRelu(),
        barenet.layers,
    ],
    ids=["class", "instance", "learner-class", "learner-instance", "module"],
)
def test_relu_wrapper_accepts_a_class_an_instance_or_a_module(implementation):
    assert ReluTestWrapper(implementation, verbose=False) == 100


def test_sigmoid_wrapper_accepts_a_dict_source():
    assert SigmoidTestWrapper({"Sigmoid": barenet.layers.Sigmoid}, verbose=False) == 100


def test_affine_wrapper_accepts_functions_or_a_module():
    functions = {
        "affine_forward": barenet.layers.affine_forward,
        "affine_backward": barenet.layers.affine_backward,
    }
    assert AffineTestWrapper(**functions, verbose=False) == 100
    assert AffineTestWrapper(barenet.layers, verbose=False) == 100
    assert AffineTestWrapper(functions, verbose=False) == 100


@pytest.mark.parametrize(
    "implementation",
    [barenet.optim.sgd_momentum, barenet.optim.SGDMomentum, barenet.optim],
    ids=["function", "class", "module"],
)
def test_sgdm_wrapper_accepts_a_function_a_class_or_a_module(implementation):
    assert SGDMTestWrapper(implementation, verbose=False) == 100


def test_sgdm_wrapper_calls_update_of_an_instance():
    class Recording(barenet.optim.SGDMomentum):
        calls = 0

        def _update(self, w, dw, config, lr):
            type(self).calls += 1
            return super()._update(w, dw, config, lr)

    instance = Recording.__new__(Recording)
    assert SGDMTestWrapper(instance, verbose=False) == 100
    assert Recording.calls >= 4


def test_same_implementation_same_results():
    first = ReluTestWrapper(CachesInputRelu, seed=3, verbose=False).result
    second = ReluTestWrapper(CachesInputRelu, seed=3, verbose=False).result
    assert first == second


def test_missing_name_in_a_module_fails_every_test_with_a_clear_message():
    empty = types.ModuleType("learner_code")
    result = SigmoidTestWrapper(empty, verbose=False).result
    assert result.score == 0
    assert all("defines no 'Sigmoid'" in r.message for r in result.results)


def test_a_constructor_that_raises_is_reported_not_raised():
    class Broken:
        def __init__(self):
            raise RuntimeError("forgot something")

    result = SigmoidTestWrapper(Broken, verbose=False).result
    assert result.score == 0
    assert "RuntimeError: forgot something" in result.results[0].message
