"""The tests' own references: right (numerically checked) and never failing correct code."""

import numpy as np
import pytest

from barenet.gradcheck import eval_numerical_gradient_array, rel_error
from barenet.grading.definitions.affine_tests import (
    affine_inputs,
    exact_gradients,
    reference_affine,
)
from barenet.grading.local.wrappers import (
    AffineTestWrapper,
    ReluTestWrapper,
    SGDMTestWrapper,
    SigmoidTestWrapper,
)


@pytest.mark.parametrize("seed", range(5))
def test_exact_affine_gradients_match_the_numerical_ones(seed):
    inputs = affine_inputs(np.random.default_rng(seed))
    x, w, b, dout = (inputs[k] for k in ("x", "w", "b", "dout"))
    numerical = {
        "dx": eval_numerical_gradient_array(lambda v: reference_affine(v, w, b), x.copy(), dout),
        "dw": eval_numerical_gradient_array(lambda v: reference_affine(x, v, b), w.copy(), dout),
        "db": eval_numerical_gradient_array(lambda v: reference_affine(x, w, v), b.copy(), dout),
    }
    exact = exact_gradients(inputs)
    for name in ("dx", "dw", "db"):
        # Absolute: finite differences of a linear map are off by rounding only.
        assert np.max(np.abs(exact[name] - numerical[name])) < 1e-8
        assert rel_error(exact[name], numerical[name]) < 1e-4


def test_correct_code_never_fails_on_fresh_inputs():
    for seed in range(300):
        for wrapper in (SigmoidTestWrapper, ReluTestWrapper, AffineTestWrapper, SGDMTestWrapper):
            score = wrapper(seed=seed, verbose=False)
            assert score == 100, (seed, [r.message for r in score.result.results if not r.passed])
