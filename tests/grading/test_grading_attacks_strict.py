"""``--strict`` cannot be forged: the advice that costs points is verified by the grader.

A submission that rewrites the child's call runner (so that it reports no
warnings and no Python steps) used to turn its strict grade into 100. The
grader now drops what the child says about itself and re-runs the learner's
functions in fresh children: a Python loop shows in the CPU time it measures
from outside, an overflow in a call made with floating-point errors raised.
"""

import learner_solutions as learner
from test_grading_attacks import TIMEOUT, Runs, submission

from barenet.grading.submissions.grader import grade_submission

CLEAN = {
    "SGD_Momentum_update": learner.SGDMomentum._update,
    "AffineForward": learner.affine_forward,
    "AffineBackward": learner.affine_backward,
    "Sigmoid": learner.TupleCacheSigmoid,
    "Relu": learner.VectorRelu,
}
ADVISED = {**CLEAN, "Sigmoid": learner.TextbookSigmoid, "Relu": learner.MapRelu}
FORGER = (
    "import sys\n"
    "for name, module in list(sys.modules.items()):\n"
    "    if name.startswith('barenet_sandboxed') and hasattr(module, 'run_call'):\n"
    "        honest = module.run_call\n"
    "        def forged(plan, call, mode='record', honest=honest):\n"
    "            record = honest(plan, call, mode)\n"
    "            record['warnings'], record['steps'] = [], 0\n"
    "            return record\n"
    "        module.run_call = forged\n"
)


def failed_strictly(report):
    return {t["name"]: t["message"] for t in report.tests if not t["passed"]}


def test_a_clean_submission_scores_100_graded_strictly(tmp_path):
    report = grade_submission(
        submission(tmp_path / "clean.zip", CLEAN), timeout=TIMEOUT, strict=True
    )
    assert (report.status, report.score) == ("graded", 100), failed_strictly(report)


def test_a_forged_call_runner_does_not_hide_loops_or_overflow(tmp_path):
    honest = submission(tmp_path / "honest.zip", ADVISED)
    forged = submission(tmp_path / "forged.zip", {"attack": Runs(FORGER), **ADVISED})
    reports = [grade_submission(p, timeout=TIMEOUT, strict=True) for p in (honest, forged)]
    for report in reports:
        failed = failed_strictly(report)
        assert set(failed) == {"SigmoidForwardTest", "ReluForwardTest"}, failed
        assert "graded strictly" in failed["SigmoidForwardTest"]
        assert "overflow" in failed["SigmoidForwardTest"]
        assert "s of CPU time for 4000000 elements" in failed["ReluForwardTest"]
    # Not graded strictly, advice costs nothing, whoever reports it.
    assert grade_submission(forged, timeout=TIMEOUT).score == 100
