"""RunConfig: defaults stated once, parsed from the command line, saved and read back."""

import dataclasses
import json
from pathlib import Path

import pytest

import barenet.layers
import barenet.optim
from barenet.app.cli import build_parser
from barenet.app.compare import COMPARE_SETTINGS
from barenet.app.config import ACTIVATIONS, OPTIMIZERS, RECIPES, RunConfig
from barenet.optim import Adam, SGDMomentum


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


def test_json_round_trip_keeps_every_setting():
    config = RunConfig.recipe(
        "cifar10", hidden_size=[64, 32], std=0.01, patience=None, norm_mean=[0.5, 0.4, 0.3]
    )
    again = RunConfig.from_json(config.to_json())
    assert again == config
    assert again.hidden_size == [64, 32] and again.patience is None and again.std == 0.01


def test_from_json_fills_missing_settings_and_refuses_unknown_ones():
    assert RunConfig.from_json('{"epochs": 3}') == RunConfig(epochs=3)
    with pytest.raises(ValueError, match="unknown settings: colour"):
        RunConfig.from_json('{"epochs": 3, "colour": "red"}')
    with pytest.raises(ValueError, match="not valid JSON"):
        RunConfig.from_json("{epochs")


def test_options_left_out_take_the_recipe_of_the_dataset():
    config = RunConfig.from_args(parse("train", "--dataset", "cifar10", "--epochs", "3"))
    assert config == RunConfig.recipe("cifar10", epochs=3)
    assert config.batch_size == RECIPES["cifar10"]["batch_size"]
    assert RunConfig.from_args(parse("train")) == RunConfig()


def test_given_options_win_over_the_recipe():
    args = parse("train", "--lr", "0.05", "--no-patience", "--no-flip", "--hidden-size", "7", "5")
    config = RunConfig.from_args(args)
    assert (config.learning_rate, config.patience, config.flip) == (0.05, None, False)
    assert config.hidden_size == [7, 5]


def test_data_path_implies_an_image_folder_run():
    config = RunConfig.from_args(parse("train", "--data", "some.zip"))
    # Stored resolved, so that the run folder names its data from any folder.
    assert config.data == str(Path("some.zip").resolve()) and config.dataset == "cifar10"
    with pytest.raises(ValueError, match="give --dataset or --data, not both"):
        RunConfig.from_args(parse("train", "--data", "x.zip", "--dataset", "digits"))


def test_num_layer_repeats_one_hidden_size():
    assert RunConfig.from_args(
        parse("train", "--num-layer", "4", "--hidden-size", "9")
    ).hidden_size == [9, 9, 9]
    assert RunConfig.from_args(parse("train", "--num-layer", "1")).hidden_size == []
    with pytest.raises(ValueError, match="--num-layer 4 needs 3 hidden sizes"):
        RunConfig.from_args(parse("train", "--num-layer", "4", "--hidden-size", "9", "8"))


def test_optimizer_defaults_come_from_the_optimizers():
    config = RunConfig()
    assert config.momentum == SGDMomentum.defaults["momentum"]
    assert (config.beta1, config.beta2, config.epsilon) == (
        Adam.defaults["beta1"],
        Adam.defaults["beta2"],
        Adam.defaults["epsilon"],
    )
    assert config.learning_rate == barenet.optim.LEARNING_RATE


def test_every_registered_optimizer_and_activation_is_a_run_setting():
    from barenet.app.factories import solver_settings

    assert OPTIMIZERS == tuple(barenet.optim.OPTIMIZERS)
    assert ACTIVATIONS == tuple(barenet.layers.ACTIVATIONS)
    for name, cls in barenet.optim.OPTIMIZERS.items():
        settings = solver_settings(RunConfig(optimizer=name))
        assert settings["optimizer"] is cls
        assert settings["optim_config"] == cls.defaults  # each hyperparameter a field


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"dropout": 1.0}, "--dropout must be in [0, 1)"),
        ({"momentum": 1.0}, "--momentum must be in [0, 1)"),
        ({"learning_rate": -0.1}, "--lr must be >= 0"),
        ({"optimizer": "rmsprop"}, "--optimizer must be one of adam, sgd_momentum, sgd"),
        ({"std": "large"}, "--std must be a positive float, 'he' or 'xavier'"),
        ({"epochs": 0}, "--epochs must be >= 1"),
    ],
)
def test_bad_settings_name_their_option(changes, message):
    with pytest.raises(ValueError) as error:
        RunConfig(**changes)
    assert message in str(error.value)


def test_a_learning_rate_of_zero_is_accepted_as_by_the_optimizers():
    assert RunConfig.from_args(parse("train", "--lr", "0")).learning_rate == 0.0


def test_help_shows_the_defaults_of_run_config(capsys):
    with pytest.raises(SystemExit):
        parse("train", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "SGD momentum (default 0.9)" in text
    assert "(default digits 32, cifar10 512; convnet: digits 64, cifar10 256)" in text


def test_compare_defaults_are_the_exercise_settings():
    config = RunConfig.from_args(parse("compare", "--dataset", "digits"), **COMPARE_SETTINGS)
    assert (config.batch_size, config.limit, config.learning_rate, config.epochs) == (
        8,
        500,
        1e-3,
        20,
    )
    assert (config.lr_decay, config.patience, config.std) == (1.0, None, 1e-3)


def test_every_setting_but_the_recorded_ones_has_an_option():
    args = vars(parse("train"))
    parser_dests = {
        a.dest for a in build_parser()._subparsers._group_actions[0].choices["train"]._actions
    }
    recorded = {"norm_mean", "norm_std", "input_size", "classes"}
    for field in dataclasses.fields(RunConfig):
        assert (field.name in parser_dests) != (field.name in recorded), field.name
    assert not set(args) & {f.name for f in dataclasses.fields(RunConfig)}  # all SUPPRESSed


def test_config_json_of_earlier_runs_still_loads():
    """Runs saved before RunConfig stored only the optimizer settings given."""
    earlier = {
        "hidden_size": [128],
        "epochs": 30,
        "batch_size": 32,
        "learning_rate": 0.001,
        "lr_decay": 0.95,
        "dropout": 0.0,
        "flip": False,
        "crop": 0,
        "patience": 10,
        "dataset": "digits",
        "data": None,
        "val_fraction": 0.1,
        "seed": 0,
        "activation": "relu",
        "dtype": "float32",
        "reg": 0.0,
        "optimizer": "adam",
        "std": "he",
        "norm_mean": [0.3],
        "norm_std": [0.4],
        "input_size": 64,
        "classes": [str(d) for d in range(10)],
    }
    config = RunConfig.from_json(json.dumps(earlier))
    assert config.beta2 == Adam.defaults["beta2"] and config.on_bad_image == "raise"
    assert config.input_size == 64
