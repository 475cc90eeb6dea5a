"""Every diagnosis of the new layers fires: its bug, injected into barenet's reference
(a mutated copy, see ``mutants.py``), fails the named test and is named in plain words.

Each row: the wrapper, the reference function and the exact edit of its source, the
test that must fail and the diagnosis it must print. A row of no edit grades barenet's
own code under another setting (``p_means="drop"``), where barenet's reading of ``p``
is the bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from mutants import text_mutant

import barenet.layers
import barenet.layers.batchnorm as batchnorm
import barenet.layers.conv as conv
import barenet.layers.dropout as dropout
import barenet.layers.norm as norm
import barenet.layers.pool as pool
from barenet.grading.definitions import (
    batchnorm_diagnoses,
    conv_diagnoses,
    dropout_diagnoses,
    groupnorm_tests,
    layernorm_tests,
    norm_diagnoses,
    pool_diagnoses,
)
from barenet.grading.local import layer_wrappers

SEED = 20261202  # the rows hold for any seed; a fixed one keeps a failure reproducible


@dataclass(frozen=True)
class Bug:
    wrapper: str
    module: object
    function: str
    edits: tuple[tuple[str, str], ...]
    test: str
    diagnosis: str
    options: dict = field(default_factory=dict)


BN_SPATIAL_RESHAPE = (
    "    return _batchnorm(x, gamma, beta, bn_param, (0, 2, 3), (1, x.shape[1], 1, 1))",
    "    c = x.shape[1]\n"
    "    out, cache = _batchnorm(x.reshape(-1, c), gamma, beta, bn_param, (0,), (1, c))\n"
    "    return out.reshape(x.shape), cache",
)
NOT_PER_IMAGE = (  # one (HH*WW*C, F) product per image, not their sum
    (
        "    dw_mat = _patch_products(cols, dmat)  # (HH*WW*C, F)\n",
        "    n = dout.shape[0]\n"
        "    dw_mat = np.einsum('npk,npf->nkf', cols.reshape(n, -1, cols.shape[1]), "
        "dmat.reshape(n, -1, f))\n",
    ),
    (
        "dw_mat.reshape(kh, kw, c, f).transpose(3, 2, 0, 1)",
        "dw_mat.reshape(n, kh, kw, c, f).transpose(0, 4, 3, 1, 2)",
    ),
)
TIED = "x[window] == np.max([x[o] for o in offsets], axis=0)"

BUGS = {
    "batchnorm: backward misses the path through the variance": Bug(
        "BatchNormTestWrapper",
        batchnorm,
        "_batchnorm_backward",
        (("        dx -= xhat * (dgamma / m)\n", ""),),
        "BatchNormBackwardTestDx",
        norm_diagnoses.MISSING_VARIANCE_PATH,
    ),
    "batchnorm: backward misses the path through the mean": Bug(
        "BatchNormTestWrapper",
        batchnorm,
        "_batchnorm_backward",
        (("dx = dout - dbeta / m", "dx = dout.copy()"),),
        "BatchNormBackwardTestDx",
        norm_diagnoses.MISSING_MEAN_PATH,
    ),
    "batchnorm: unbiased variance": Bug(
        "BatchNormTestWrapper",
        batchnorm,
        "normalize",
        (
            (
                "var = np.square(xhat).mean(axis=axes, keepdims=True)",
                "var = np.square(xhat).sum(axis=axes, keepdims=True) / "
                "(np.prod([x.shape[a] for a in axes]) - 1)",
            ),
        ),
        "BatchNormForwardTrainTest",
        norm_diagnoses.UNBIASED_VARIANCE,
    ),
    "batchnorm: running statistics not updated in train mode": Bug(
        "BatchNormTestWrapper",
        batchnorm,
        "_batchnorm",
        (
            (
                '        bn_param["running_mean"] = keep * running_mean + (1 - keep) * '
                "mean.reshape(features)\n",
                "",
            ),
            (
                '        bn_param["running_var"] = keep * running_var + (1 - keep) * '
                "var.reshape(features)\n",
                "",
            ),
        ),
        "BatchNormRunningStatsTest",
        batchnorm_diagnoses.NOT_UPDATED,
    ),
    "batchnorm: running statistics updated in test mode": Bug(
        "BatchNormTestWrapper",
        batchnorm,
        "_batchnorm",
        (
            (
                "    else:\n",
                "    else:\n        bn_param['running_mean'] = momentum * "
                "running_mean + (1 - momentum) * x.mean(axis=axes).reshape(features)\n",
            ),
        ),
        "BatchNormForwardTestModeTest",
        batchnorm_diagnoses.UPDATED_IN_TEST_MODE,
    ),
    "batchnorm: momentum the wrong way round": Bug(
        "BatchNormTestWrapper",
        batchnorm,
        "_batchnorm",
        (("keep = dtype.type(momentum)", "keep = dtype.type(1 - momentum)"),),
        "BatchNormRunningStatsTest",
        batchnorm_diagnoses.MOMENTUM_REVERSED,
    ),
    "batchnorm: eps outside the square root": Bug(
        "BatchNormTestWrapper",
        batchnorm,
        "normalize",
        (("1.0 / np.sqrt(var + x.dtype.type(eps))", "1.0 / (np.sqrt(var) + x.dtype.type(eps))"),),
        "BatchNormForwardTrainTest",
        norm_diagnoses.EPS_OUTSIDE_SQRT,
    ),
    "spatial batchnorm: over the wrong axes (channels mixed by a reshape)": Bug(
        "SpatialBatchNormTestWrapper",
        batchnorm,
        "spatial_batchnorm_forward",
        (BN_SPATIAL_RESHAPE,),
        "SpatialBatchNormForwardTrainTest",
        batchnorm_diagnoses.RESHAPED_WITHOUT_TRANSPOSE,
    ),
    "conv: kernel flipped": Bug(
        "ConvTestWrapper",
        conv,
        "conv_forward",
        (("w_mat = w.transpose(2, 3, 1, 0)", "w_mat = w[:, :, ::-1, ::-1].transpose(2, 3, 1, 0)"),),
        "ConvForwardTest",
        conv_diagnoses.FLIPPED,
    ),
    "conv: padding not applied": Bug(
        "ConvTestWrapper",
        conv,
        "conv_forward",
        (
            (
                "stride, pad = _conv_params(conv_param)",
                "stride, pad = _conv_params(conv_param)[0], 0",
            ),
        ),
        "ConvForwardTest",
        conv_diagnoses.NOT_PADDED,
    ),
    "conv: padding on the wrong axes (rows only)": Bug(
        "ConvTestWrapper",
        conv,
        "conv_forward",
        (
            (
                "pad_channels_last(x, pad, workspace=workspace)",
                "pad_channels_last(x, pad, 0, workspace=workspace)",
            ),
            (
                'conv_output_size(wd, kw, stride, pad, "width")',
                'conv_output_size(wd, kw, stride, 0, "width")',
            ),
        ),
        "ConvForwardTest",
        conv_diagnoses.ROWS_ONLY,
    ),
    "conv: output size off by one for a stride": Bug(
        "ConvTestWrapper",
        conv,
        "conv_output_size",
        (("return 1 + span // stride", "return (span + 1) // stride"),),
        "ConvForwardStrideTest",
        conv_diagnoses.SIZE_TOO_SMALL,
    ),
    "conv: dw summed over the wrong axes (not over the batch)": Bug(
        "ConvTestWrapper",
        conv,
        "conv_param_grads",
        NOT_PER_IMAGE,
        "ConvBackwardTestDw",
        conv_diagnoses.DW_NOT_OVER_BATCH,
    ),
    "conv: db not summed over space": Bug(
        "ConvTestWrapper",
        conv,
        "conv_param_grads",
        (("db = dmat.sum(axis=0)", "db = dout.sum(axis=0)"),),
        "ConvBackwardTestDb",
        conv_diagnoses.DB_NOT_OVER_SPACE,
    ),
    "pool: gradient spread over the window": Bug(
        "MaxPoolTestWrapper",
        pool,
        "max_pool_backward",
        (
            (
                "np.multiply(dout, argmax == k, out=dx[window])",
                "np.multiply(dout, 1.0 / (ph * pw), out=dx[window])",
            ),
            ("dx[window] += dout * (argmax == k)", "dx[window] += dout / (ph * pw)"),
        ),
        "MaxPoolBackwardTest",
        pool_diagnoses.SPREAD_EVENLY,
    ),
    "pool: gradient to every tied maximum": Bug(
        "MaxPoolTestWrapper",
        pool,
        "max_pool_backward",
        (
            (
                "np.multiply(dout, argmax == k, out=dx[window])",
                f"np.multiply(dout, {TIED}, out=dx[window])",
            ),
            ("dx[window] += dout * (argmax == k)", f"dx[window] += dout * ({TIED})"),
        ),
        "MaxPoolBackwardTiesTest",
        pool_diagnoses.EVERY_TIED_MAX,
    ),
    "pool: stride ignored": Bug(
        "MaxPoolTestWrapper",
        pool,
        "max_pool_forward",
        (("    _, offsets = _windows(", "    stride = 1\n    _, offsets = _windows("),),
        "MaxPoolForwardStrideTest",
        pool_diagnoses.STRIDE_IGNORED,
    ),
    "dropout: no inverted scaling": Bug(
        "DropoutTestWrapper",
        dropout,
        "dropout_forward",
        (("    out *= out.dtype.type(1.0 / keep)\n", ""),),
        "DropoutInvertedScalingTest",
        dropout_diagnoses.NOT_SCALED,
    ),
    "dropout: active in test mode": Bug(
        "DropoutTestWrapper",
        dropout,
        "dropout_forward",
        (('if mode == "test" or keep == 1.0:', "if keep == 1.0:"),),
        "DropoutTestModeTest",
        dropout_diagnoses.ACTIVE_IN_TEST,
    ),
    "dropout: mask not reused in backward": Bug(
        "DropoutTestWrapper",
        dropout,
        "dropout_backward",
        (
            (
                "dx = dout * mask",
                "dx = dout * (np.random.default_rng().random(dout.shape) < 1 / scale)",
            ),
        ),
        "DropoutBackwardTest",
        dropout_diagnoses.NEW_MASK,
    ),
    "dropout: p (keep) read as drop": Bug(
        "DropoutTestWrapper",
        dropout,
        "_keep_probability",
        (('keep = 1.0 - value if given[0] == "drop_prob" else value', "keep = 1.0 - value"),),
        "DropoutTrainStatisticsTest",
        "reads p as the probability of dropping one",
    ),
    "dropout: p (drop) read as keep": Bug(
        "DropoutTestWrapper",
        dropout,
        "dropout_forward",
        (),
        "DropoutTrainStatisticsTest",
        "reads p as the probability of keeping one",
        {"p_means": "drop"},
    ),
    "layernorm: over the batch axis": Bug(
        "LayerNormTestWrapper",
        norm,
        "layernorm_forward",
        (("normalize(x, tuple(range(1, x.ndim)), eps)", "normalize(x, (0,), eps)"),),
        "LayerNormForwardTest",
        layernorm_tests.OVER_THE_BATCH,
    ),
    "layernorm: dgamma summed over the features": Bug(
        "LayerNormTestWrapper",
        norm,
        "layernorm_backward",
        (("dgamma = (dout * xhat).sum(axis=0)", "dgamma = (dout * xhat).sum(axis=1)"),),
        "LayerNormBackwardTestDgamma",
        layernorm_tests.DPARAM_OVER_FEATURES.format(name="dgamma"),
    ),
    "groupnorm: groups of every G-th channel": Bug(
        "GroupNormTestWrapper",
        norm,
        "_group_mean",
        (
            (".reshape(n, G, c // G).sum(axis=2)", ".reshape(n, c // G, G).sum(axis=1)"),
            ("np.repeat(sums, c // G, axis=1)", "np.tile(sums, (1, c // G))"),
        ),
        "GroupNormForwardTest",
        groupnorm_tests.INTERLEAVED,
    ),
}


@pytest.mark.parametrize("bug", list(BUGS.values()), ids=list(BUGS))
def test_the_injected_bug_fails_its_test_and_is_named(bug: Bug):
    source = text_mutant(bug.module, bug.function, bug.edits) if bug.edits else barenet.layers
    wrapper = getattr(layer_wrappers, bug.wrapper)
    score = wrapper(source, seed=SEED, verbose=False, **bug.options)
    result = next(r for r in score.result.results if r.name == bug.test)
    assert not result.passed, result.message
    assert result.diagnosis is not None and bug.diagnosis in result.diagnosis, result.message
    assert bug.diagnosis in result.message  # the printed line says it


def test_the_unmutated_namespace_scores_100():
    """The mutant machinery itself changes nothing when there is no edit."""
    for name in ("BatchNormTestWrapper", "ConvTestWrapper", "MaxPoolTestWrapper"):
        module = {"BatchNormTestWrapper": batchnorm, "ConvTestWrapper": conv}.get(name, pool)
        function = {"BatchNormTestWrapper": "_batchnorm", "ConvTestWrapper": "conv_forward"}
        source = text_mutant(module, function.get(name, "max_pool_forward"), ())
        assert getattr(layer_wrappers, name)(source, seed=SEED, verbose=False) == 100


def test_the_mechanical_mutation_run_kills_every_mutant_of_the_first_exercise(capsys):
    """benchmarks/mutation_score.py on the small families: no survivor left unexplained."""
    import importlib.util
    import sys

    from data_helpers import REPO_ROOT

    path = REPO_ROOT / "benchmarks" / "mutation_score.py"
    spec = importlib.util.spec_from_file_location("mutation_score", path)
    script = importlib.util.module_from_spec(spec)
    sys.modules["mutation_score"] = script  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(script)
    finally:
        del sys.modules["mutation_score"]
    families = ["--family", "ReLU", "--family", "affine", "--family", "momentum"]
    assert script.main([*families, "--seeds", "1"]) == 0
    out = capsys.readouterr().out
    assert "| ReLU | 4 | 4 | 0 | 4/4 |" in out and "| momentum | 7 | 7 | 0 | 7/7 |" in out
