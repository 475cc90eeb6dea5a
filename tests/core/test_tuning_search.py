"""Grid and random search as the course calls them, on the 8x8 digits."""

from __future__ import annotations

import numpy as np
import pytest

from barenet import (
    ClassificationNet,
    ComposeTransform,
    DataLoader,
    DigitsDataset,
    FlattenTransform,
    LeakyRelu,
    Relu,
    RescaleTransform,
    SGDMomentum,
    Solver,
    findBestConfig,
    grid_search,
    random_search,
)
from barenet.search_space import space_from_flags
from barenet.tuning import grid_configs, random_space, sample_config, split_config

DIGITS = {"input_size": 64, "num_classes": 10}


def make_loaders():
    transform = ComposeTransform([RescaleTransform(), FlattenTransform()])
    train = DigitsDataset("train", transform=transform, limit_files=400)
    val = DigitsDataset("val", transform=transform, limit_files=200)
    return DataLoader(train, batch_size=64, shuffle=True, seed=0), DataLoader(val, batch_size=200)


@pytest.fixture
def loaders():
    return make_loaders()


def test_grid_search_tries_every_combination_and_returns_the_lowest_val_loss(loaders, capsys):
    spaces = {
        "learning_rate": [1e-5, 1e-2],
        "reg": [0.0, 1e-4],
        **{k: [v] for k, v in DIGITS.items()},
    }
    best_model, results, best_config = grid_search(*loaders, spaces, epochs=3, patience=2)
    out = capsys.readouterr().out
    assert [f"Evaluating Config #{i} [of 4]" in out for i in range(1, 5)] == [True] * 4
    assert len(results) == 4
    assert [c["learning_rate"] for c, _ in results] == [1e-5, 1e-5, 1e-2, 1e-2]
    losses = [stats["val_loss"] for _, stats in results]
    assert best_config is results[int(np.argmin(losses))][0]
    assert best_config["learning_rate"] == 1e-2  # 1e-5 barely moves in 3 epochs
    assert isinstance(best_model, ClassificationNet) and best_model.reg == best_config["reg"]
    assert set(results[0][1]) >= {"val_loss", "train_loss"}


def test_random_search_draws_typed_values_and_is_seeded(loaders, capsys):
    spaces = {
        "learning_rate": ([1e-4, 1e-2], "log"),
        "hidden_size": ([8, 32], "int"),
        "dropout": ([0.0, 0.3], "float"),
        "activation": ([Relu(), LeakyRelu()], "item"),
        "input_size": ([64], "item"),
    }
    first = random_search(*loaders, spaces, num_search=3, epochs=2, patience=1, seed=5)
    # Fresh loaders: the shuffling generator is the loader's own, and it has moved on.
    second = random_search(*make_loaders(), spaces, num_search=3, epochs=2, patience=1, seed=5)
    assert "Evaluating Config #3 [of 3]" in capsys.readouterr().out
    configs = [c for c, _ in first[1]]
    for config in configs:
        assert 1e-4 <= config["learning_rate"] <= 1e-2
        assert isinstance(config["hidden_size"], int) and 8 <= config["hidden_size"] <= 32
        assert 0.0 <= config["dropout"] <= 0.3
        assert isinstance(config["activation"], (Relu, LeakyRelu))
    assert [c["learning_rate"] for c in configs] == [c["learning_rate"] for c, _ in second[1]]
    assert [s["val_loss"] for _, s in first[1]] == [s["val_loss"] for _, s in second[1]]


def test_log_samples_spread_over_decades():
    rng = np.random.default_rng(0)
    draws = [sample_config({"lr": ([1e-6, 1e-2], "log")}, rng)["lr"] for _ in range(2000)]
    decades = np.floor(np.log10(draws))
    # Log-uniform: each of the 4 decades gets about a quarter (uniform would put 99% in the last).
    assert all(350 < np.count_nonzero(decades == d) < 650 for d in (-6, -5, -4, -3))


def test_int_range_includes_both_ends():
    rng = np.random.default_rng(1)
    seen = {sample_config({"h": ([1, 3], "int")}, rng)["h"] for _ in range(200)}
    assert seen == {1, 2, 3}


@pytest.mark.parametrize(
    "space, message",
    [
        (([1e-4, 1e-2], "exp"), "kind must be one of"),
        (([0.0, 1e-2], "log"), "log needs LOW > 0"),
        (([-1.0, 1e-2], "log"), "log needs LOW > 0"),
        (([5, 2], "int"), "needs LOW <= HIGH"),
        (([1.5, 4], "int"), "int needs whole numbers"),
        (([1, 2, 3], "float"), "float needs two finite numbers"),
        (([], "item"), "a choice needs at least one value"),
        (("ab", "item"), "needs a list of values"),
        ((["a", 2], "float"), "finite numbers"),
        ([1e-4, 1e-2], r"pair \(values, kind\)"),
    ],
)
def test_bad_random_space_raises_naming_the_key(loaders, space, message):
    with pytest.raises(ValueError, match=message) as caught:
        random_search(*loaders, {"learning_rate": space}, num_search=1, epochs=1)
    assert "'learning_rate'" in str(caught.value)


def test_the_course_spaces_and_the_command_line_share_one_grammar():
    pairs = random_space(
        {"lr": ([1e-4, 1e-2], "log"), "h": ([8, 64], "logint"), "act": (["relu", "tanh"], "item")}
    )
    flags = space_from_flags(["lr=log:1e-4:1e-2", "h=logint:8:64", "act=choice:relu,tanh"])
    assert pairs == flags
    rng = np.random.default_rng(0)
    draws = [pairs.draw(rng) for _ in range(200)]
    assert all(8 <= d["h"] <= 64 and isinstance(d["h"], int) for d in draws)
    assert {d["act"] for d in draws} == {"relu", "tanh"}


def test_a_range_of_one_value_is_that_value():
    rng = np.random.default_rng(0)
    assert sample_config({"input_size": ([64, 64], "int")}, rng) == {"input_size": 64}


def test_bad_grid_space_raises_naming_the_key(loaders):
    with pytest.raises(ValueError, match=r"grid_search_spaces\['reg'\] must list at least one"):
        grid_search(*loaders, {"reg": []}, epochs=1)
    with pytest.raises(ValueError, match=r"grid_search_spaces\['reg'\] must be a list"):
        grid_configs({"reg": 0.1})


def test_config_keys_reach_the_model_the_solver_and_the_optimizer():
    model_kwargs, solver_kwargs = split_config(
        {
            "hidden_size": 20,
            "reg": 1e-3,
            "learning_rate": 0.1,
            "lr_decay": 0.9,
            "optimizer": SGDMomentum,
            "momentum": 0.5,
        }
    )
    assert model_kwargs == {"hidden_size": 20, "reg": 1e-3}
    assert solver_kwargs == {
        "learning_rate": 0.1,
        "lr_decay": 0.9,
        "optimizer": SGDMomentum,
        "optim_config": {"momentum": 0.5},
    }


def test_a_mixed_config_trains_with_each_setting_in_its_place(loaders):
    config = {
        **DIGITS,
        "hidden_size": 12,
        "learning_rate": 0.05,
        "optimizer": SGDMomentum,
        "momentum": 0.7,
        "lr_decay": 0.5,
    }
    model, results, _ = findBestConfig(
        *loaders, [config], epochs=2, patience=None, model_class=ClassificationNet
    )
    assert model.params["W1"].shape == (64, 12)
    assert results[0][1]["epoch"] in (1, 2)


def test_an_unknown_key_raises_before_any_training(loaders, capsys):
    with pytest.raises(ValueError, match="config key 'hiden_size' is not a setting"):
        findBestConfig(*loaders, [DIGITS, {"hiden_size": 3}], 1, None, ClassificationNet)
    assert "Evaluating" not in capsys.readouterr().out


def test_early_stopping_uses_patience(loaders, capsys):
    # A step this large makes the val loss bounce: with patience 1 the run stops long before 30.
    config = {**DIGITS, "learning_rate": 0.5, "optimizer": SGDMomentum, "verbose": True}
    _, results, _ = findBestConfig(*loaders, [config], epochs=30, patience=1)
    out = capsys.readouterr().out
    assert "Stopping early at epoch" in out and "(Epoch 30 / 30)" not in out
    assert results[0][1]["epoch"] < 30


def test_best_model_stats_match_the_best_epoch(loaders):
    solver = Solver(ClassificationNet(**DIGITS, hidden_size=16, seed=0), *loaders, verbose=False)
    assert solver.best_model_stats is None
    solver.train(epochs=3)
    stats = solver.best_model_stats
    assert stats["val_loss"] == min(solver.val_loss_history)
    i = stats["epoch"] - 1
    assert stats["train_loss"] == solver.train_loss_history[i]
    assert stats["val_acc"] == solver.val_acc_history[i]
