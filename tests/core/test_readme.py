"""The README's code runs as shown: the front door stays true."""

import re

import pytest
from data_helpers import REPO_ROOT

README = REPO_ROOT / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    for block in blocks:
        if "save_pickle(" in block:  # the submission-keys example needs a learner's module
            continue
        exec(compile(block, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "(Epoch 1 / 20) train loss: " in out and "Score: 100/100" in out
    assert "Evaluating Config #20 [of 20]" in out and "Evaluating Config #6 [of 6]" in out


def test_readme_test_command_is_what_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python3 -m pytest" in README.read_text()
    assert ci.strip().splitlines()[-1] == "python3 -m pytest"


def test_readme_says_where_the_untrained_loss_check_applies():
    import numpy as np

    import barenet as bn

    text = " ".join(README.read_text().split())
    assert "With `std=1e-3`, a fresh net far from 2.30 has a bug." in text
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((512, 3072)).astype(np.float32), rng.integers(0, 10, 512)
    losses = {}
    for std in (1e-3, "he"):
        net = bn.ClassificationNet(num_layer=3, hidden_size=[1024, 512], std=std, seed=0)
        losses[std] = float(bn.CrossEntropyFromLogits()(net.forward(X), y)[0])
    assert losses[1e-3] == pytest.approx(np.log(10), abs=1e-3)
    assert f"about {losses['he']:.2f} for a fresh 3072-1024-512-10 net" in text
