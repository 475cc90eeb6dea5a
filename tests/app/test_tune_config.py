"""A trial's sampled values as RunConfig settings."""

import pytest

from barenet.app.config import RunConfig
from barenet.app.tune.config import check_space, trial_config, tunable_names
from barenet.search_space import space_from_flags

CIFAR = RunConfig.recipe("cifar10")


def test_one_sampled_width_sets_every_hidden_layer_and_a_list_sets_each_one():
    assert trial_config(CIFAR, {"hidden_size": 256}).hidden_size == [256, 256]
    assert trial_config(CIFAR, {"hidden_size": [64, 32, 16]}).hidden_size == [64, 32, 16]
    assert trial_config(RunConfig(hidden_size=[]), {"hidden_size": 8}).hidden_size == [8]


def test_values_take_the_type_of_their_setting():
    config = trial_config(CIFAR, {"flip": "false", "crop": 2.0, "reg": 0, "std": "xavier"})
    assert (config.flip, config.crop, config.reg, config.std) == (False, 2, 0.0, "xavier")
    assert isinstance(config.reg, float) and isinstance(config.crop, int)
    assert trial_config(CIFAR, {"flip": True}).flip is True
    with pytest.raises(ValueError, match="--batch-size takes a whole number"):
        trial_config(CIFAR, {"batch_size": 12.5})
    with pytest.raises(ValueError, match="--lr takes a number"):
        trial_config(CIFAR, {"learning_rate": "fast"})


def test_settings_that_fix_the_data_or_budget_are_not_tunable():
    names = tunable_names()
    assert {"learning_rate", "hidden_size", "optimizer", "batch_size", "flip"} <= set(names)
    assert not {"seed", "data", "epochs", "patience", "input_size"} & set(names)


@pytest.mark.parametrize(
    "param,message",
    [
        ("optimizer=choice:adam,rmsprop", "--param optimizer: --optimizer must be one of"),
        ("std=choice:he,0", "--param std: --std must be > 0"),
        ("epochs=int:2:9", "--param epochs: --epochs is fixed"),
        ("momentum=float:0.5:1", "--param momentum: --momentum must be in [0, 1)"),
    ],
)
def test_a_space_with_a_value_its_setting_refuses_fails_before_any_trial(param, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)")):
        check_space(space_from_flags([param]), CIFAR)


def test_the_whitening_is_fixed_for_a_study():
    with pytest.raises(ValueError, match="--param zca: --zca is fixed for the whole study"):
        check_space(space_from_flags(["zca=float:0.1:1"]), RunConfig.recipe("cifar10"))
