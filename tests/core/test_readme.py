"""The README's code runs as written, and its figures are what the code gives.

Every ```python block of the README is run, each in a fresh namespace and an empty
folder, and what its comments promise (a shape, a printed line, a result) is checked
on what it left behind. A block that is not listed in ``CHECKS`` fails the test: a
new example gets a check when it is written.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from data_helpers import REPO_ROOT

import barenet as bn

README = REPO_ROOT / "README.md"


def python_blocks() -> list[tuple[int, str]]:
    """``(line number, code)`` of every ```python block in the README."""
    text = README.read_text()
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)
    ]


def check_tour(namespace: dict, out: str) -> None:
    assert namespace["out"].shape == (4, 10)
    assert "(Epoch 1 / 20) train loss: " in out and "; val loss: " in out
    assert "Score: 100/100" in out and "You secured a score of: 100" in out
    assert namespace["solver"].val_acc_history[-1] > 0.9  # the digits are easy


def check_search(namespace: dict, out: str) -> None:
    assert "Evaluating Config #20 [of 20]" in out and "Evaluating Config #6 [of 6]" in out
    config, stats = namespace["results"][0]
    assert config == {"learning_rate": 0.0001, "reg": 0.0001}
    assert "val_loss" in stats


def check_submission(namespace: dict, out: str) -> None:
    from pathlib import Path

    assert Path("models/NN.p").is_file() and Path("exercise06.zip").is_file()


def check_convnet(namespace: dict, out: str) -> None:
    import math

    assert namespace["out"].shape == (2, 4, 8, 8) and namespace["pooled"].shape == (2, 4, 4, 4)
    assert namespace["bn_param"]["running_mean"].shape == (4,)
    assert abs(namespace["loss"] - math.log(10)) < 1e-3
    assert sorted(namespace["grads"]) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert list(namespace["model"].params)[:4] == ["W1", "b1", "gamma2", "beta2"]
    restored, model = namespace["restored"], namespace["model"]
    np.testing.assert_array_equal(restored.buffers["running_var2"], model.buffers["running_var2"])


def check_whitened_convnet(namespace: dict, out: str) -> None:
    net = namespace["net"]
    assert namespace["logits"].shape == (64, 10)
    assert net.buffers["filters1"].shape == (8, 1, 2, 2) and "filters1" not in net.params
    assert namespace["layer"].out_channels == 24


#: What each block, known by the first line that tells it apart, must leave behind.
CHECKS = {
    "import numpy as np": check_tour,
    "from functools import partial": check_search,
    "save_pickle(": check_submission,
    "from barenet.layers import (": check_convnet,
    "from barenet.layers import PatchWhitening": check_whitened_convnet,
}

#: The names the submission block takes from the course's own files.
COURSE_NAMES = (
    *("save_pickle", "submit_exercise", "SGDMomentum"),
    *("affine_forward", "affine_backward", "Sigmoid", "Relu"),
)


def check_for(code: str):
    first = code.lstrip().splitlines()[0]
    matches = [check for start, check in CHECKS.items() if first.startswith(start)]
    assert len(matches) == 1, f"README block starting {first!r} has no check in CHECKS"
    return matches[0]


@pytest.mark.parametrize(
    "line,code",
    [pytest.param(line, code, id=f"line{line}") for line, code in python_blocks()],
)
def test_readme_python_block_runs_and_does_what_it_says(line, code, tmp_path, monkeypatch, capsys):
    check = check_for(code)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    if check is check_submission:  # in the course, these come from its own modules
        namespace = {name: getattr(bn, name) for name in COURSE_NAMES}
    exec(compile(code, f"{README}:{line}", "exec"), namespace)
    check(namespace, capsys.readouterr().out)


def test_every_check_has_its_block():
    assert {check_for(code) for _, code in python_blocks()} == set(CHECKS.values())


def test_readme_test_command_is_what_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python3 -m pytest" in README.read_text()
    assert ci.strip().splitlines()[-1] == "python3 -m pytest"


def test_the_untrained_loss_figures_are_what_a_fresh_net_gives():
    text = " ".join(README.read_text().split())
    he_loss = re.search(r"about (\d+\.\d+) for a fresh 3072-1024-512-10 net", text)
    assert he_loss, "the README no longer gives the untrained loss with He init"
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((512, 3072)).astype(np.float32), rng.integers(0, 10, 512)
    losses = {}
    for std in (1e-3, "he"):
        net = bn.ClassificationNet(num_layer=3, hidden_size=[1024, 512], std=std, seed=0)
        losses[std] = float(bn.CrossEntropyFromLogits()(net.forward(X), y)[0])
    ln10 = re.search(r"ln 10 ≈ (\d\.\d+)", text)
    assert ln10 and float(ln10.group(1)) == pytest.approx(np.log(10), abs=1e-4)
    assert losses[1e-3] == pytest.approx(np.log(10), abs=1e-3)
    assert float(he_loss.group(1)) == pytest.approx(losses["he"], abs=0.005)
