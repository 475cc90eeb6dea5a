"""The next exercises' wrappers: barenet's layers score 100, and a learner's code plugs in."""

import types

import numpy as np
import pytest

import barenet
import barenet.layers
from barenet.grading.local.in_process import run_exercise_suite
from barenet.grading.local.layer_wrappers import (
    BatchNormTestWrapper,
    ConvTestWrapper,
    DropoutTestWrapper,
    GroupNormTestWrapper,
    LayerNormTestWrapper,
    MaxPoolTestWrapper,
    SpatialBatchNormTestWrapper,
)

WRAPPERS = {
    ConvTestWrapper: [
        "ConvForwardTest",
        "ConvForwardStrideTest",
        "ConvBackwardTestDx",
        "ConvBackwardTestDw",
        "ConvBackwardTestDb",
    ],
    MaxPoolTestWrapper: [
        "MaxPoolForwardTest",
        "MaxPoolForwardStrideTest",
        "MaxPoolBackwardTest",
        "MaxPoolBackwardTiesTest",
    ],
    BatchNormTestWrapper: [
        "BatchNormForwardTrainTest",
        "BatchNormRunningStatsTest",
        "BatchNormForwardTestModeTest",
        "BatchNormBackwardTestDx",
        "BatchNormBackwardTestDgamma",
        "BatchNormBackwardTestDbeta",
    ],
    SpatialBatchNormTestWrapper: [
        "SpatialBatchNormForwardTrainTest",
        "SpatialBatchNormRunningStatsTest",
        "SpatialBatchNormForwardTestModeTest",
        "SpatialBatchNormBackwardTestDx",
        "SpatialBatchNormBackwardTestDgamma",
        "SpatialBatchNormBackwardTestDbeta",
    ],
    LayerNormTestWrapper: [
        "LayerNormForwardTest",
        "LayerNormBackwardTestDx",
        "LayerNormBackwardTestDgamma",
        "LayerNormBackwardTestDbeta",
    ],
    GroupNormTestWrapper: [
        "GroupNormForwardTest",
        "GroupNormBackwardTestDx",
        "GroupNormBackwardTestDgamma",
        "GroupNormBackwardTestDbeta",
    ],
    DropoutTestWrapper: [
        "DropoutTrainStatisticsTest",
        "DropoutInvertedScalingTest",
        "DropoutTestModeTest",
        "DropoutBackwardTest",
    ],
}


@pytest.mark.parametrize("wrapper", list(WRAPPERS), ids=lambda w: w.__name__)
def test_barenet_scores_100_and_prints_one_line_per_test(wrapper, capsys):
    score = wrapper()
    assert score == 100 and str(score) == "You secured a score of: 100"
    lines = capsys.readouterr().out.splitlines()
    names = WRAPPERS[wrapper]
    assert lines == [f"{name} passed." for name in names] + [
        f"Congratulations! You have passed all the unit tests!!! Tests passed: {len(names)}/{len(names)}",
        "Score: 100/100",
    ]


@pytest.mark.parametrize("wrapper", list(WRAPPERS), ids=lambda w: w.__name__)
def test_the_wrappers_are_exported_lazily_from_barenet(wrapper):
    assert getattr(barenet, wrapper.__name__) is wrapper
    assert wrapper.__name__ in barenet.__all__


def test_inputs_are_fresh_and_a_seed_repeats_them():
    errors = [
        tuple(r.error for r in BatchNormTestWrapper(seed=seed, verbose=False).result.results)
        for seed in (3, 3, 4)
    ]
    assert errors[0] == errors[1] != errors[2]
    fresh = {BatchNormTestWrapper(verbose=False).result.results[3].error for _ in range(3)}
    assert len(fresh) == 3


def learner_conv(x, w, b, conv_param):
    """A learner's naive convolution (loops over output pixels), correct."""
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    f, _, hh, ww = w.shape
    ho, wo = 1 + (xp.shape[2] - hh) // s, 1 + (xp.shape[3] - ww) // s
    out = np.zeros((x.shape[0], f, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * s : i * s + hh, j * s : j * s + ww]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def test_a_function_a_dict_an_object_and_camel_case_keys_are_accepted():
    assert ConvTestWrapper(learner_conv, verbose=False).result.results[0].passed
    layers = barenet.layers
    pair = {"ConvForward": layers.conv_forward, "ConvBackward": layers.conv_backward}
    assert ConvTestWrapper(pair, verbose=False) == 100
    holder = types.SimpleNamespace(
        dropout_forward=layers.dropout_forward, dropout_backward=layers.dropout_backward
    )
    assert DropoutTestWrapper(holder, verbose=False) == 100
    score = ConvTestWrapper(conv_forward=learner_conv, verbose=False)
    assert [r.passed for r in score.result.results][:2] == [True, True]


def test_a_missing_function_fails_its_tests_with_a_clear_line():
    score = MaxPoolTestWrapper({"max_pool_forward": barenet.layers.max_pool_forward}, verbose=False)
    assert int(score) == 50
    assert "defines no 'max_pool_backward' or 'MaxPoolBackward'" in score.result.results[2].message


def test_not_implemented_scores_0_with_the_usual_line():
    def batchnorm_forward(x, gamma, beta, bn_param):
        raise NotImplementedError

    def batchnorm_backward(dout, cache):
        raise NotImplementedError

    score = BatchNormTestWrapper(
        batchnorm_forward=batchnorm_forward, batchnorm_backward=batchnorm_backward, verbose=False
    )
    assert score == 0
    assert "batchnorm_forward is not implemented yet" in score.result.results[0].message


def test_dropout_with_p_meaning_drop_grades_pytorch_style_code():
    def dropout_forward(x, dropout_param):  # PyTorch's meaning: p drops
        keep = 1 - dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        rng = np.random.default_rng(dropout_param.get("seed"))
        mask = rng.random(x.shape) < keep
        return x * mask / keep, (mask, keep)

    def dropout_backward(dout, cache):
        mask, keep = cache
        return dout * mask / keep

    functions = {"dropout_forward": dropout_forward, "dropout_backward": dropout_backward}
    assert DropoutTestWrapper(functions, p_means="drop", verbose=False) == 100
    keep_score = DropoutTestWrapper(functions, verbose=False)
    assert not keep_score.result.results[0].passed
    assert "reads p as the probability of dropping" in keep_score.result.results[0].diagnosis


@pytest.mark.parametrize("exercise", ["batchnorm-dropout", "convnet"])
def test_the_new_exercises_suites_score_barenet_100(exercise):
    result = run_exercise_suite(barenet.layers, verbose=False, exercise=exercise)
    assert result.score == 100 and not result.missing


def test_the_batchnorm_dropout_suite_grades_layer_norm_too():
    result = run_exercise_suite(barenet.layers, verbose=False, exercise="batchnorm-dropout")
    assert [g.name for g in result.groups] == [
        "BatchNormTestWrapper",
        "LayerNormTestWrapper",
        "DropoutTestWrapper",
    ]
    assert [r.name for r in result.groups[1].results] == WRAPPERS[LayerNormTestWrapper]
    parts = ("batchnorm_forward", "batchnorm_backward", "dropout_forward", "dropout_backward")
    without = {part: getattr(barenet.layers, part) for part in parts}
    result = run_exercise_suite(without, verbose=False, exercise="batchnorm-dropout")
    assert result.missing == ("layernorm_forward", "layernorm_backward")
    assert [r.name for r in result.results if not r.passed] == WRAPPERS[LayerNormTestWrapper]
    assert result.score == pytest.approx(200 / 3, abs=0.01)


def test_a_suite_names_the_missing_parts_of_its_exercise_only():
    source = {"conv_forward": barenet.layers.conv_forward}
    result = run_exercise_suite(source, verbose=False, exercise="convnet")
    assert "conv_backward" in result.missing and "Sigmoid" not in result.missing
    assert "conv_forward" not in result.missing
