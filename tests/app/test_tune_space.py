"""The search space of ``barenet tune``: ``--param`` strings, TOML files, and their errors."""

from __future__ import annotations

import optuna
import pytest

from barenet.search_space import (
    Param,
    SearchSpace,
    parse_param,
    space_from_flags,
    space_from_toml,
)


def test_flags_give_typed_parameters():
    space = space_from_flags(
        [
            "learning_rate=log:1e-4:1e-2",
            "dropout=float:0:0.5",
            "hidden_size=int:64:512",
            "width=logint:16:1024",
            "activation=choice:relu,leaky_relu",
            "sizes=item:512x256,1024",
        ]
    )
    assert space.names == [
        "learning_rate",
        "dropout",
        "hidden_size",
        "width",
        "activation",
        "sizes",
    ]
    assert space.params[0] == Param("learning_rate", "log", 1e-4, 1e-2)
    assert space.params[2] == Param("hidden_size", "int", 64.0, 512.0)
    assert space.params[4].choices == ("relu", "leaky_relu")
    assert space.params[5].choices == ([512, 256], 1024)
    assert space.params[5].labels == ("512x256", 1024)


def test_suggestions_stay_in_range_and_lists_come_back_as_lists():
    space = space_from_flags(
        ["lr=log:1e-4:1e-2", "h=int:2:4", "sizes=choice:64x32,128x64", "act=choice:relu,tanh"]
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        values = space.suggest(study.ask())
        assert 1e-4 <= values["lr"] <= 1e-2
        assert values["h"] in (2, 3, 4)
        assert values["sizes"] in ([64, 32], [128, 64])
        assert values["act"] in ("relu", "tanh")


def test_toml_file_gives_the_same_space(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(
        "[space]\n"
        "learning_rate = { log = [1e-4, 1e-2] }\n"
        "hidden_size = { choice = [[1024, 512], [512, 256]] }\n"
        "activation = { item = ['relu', 'tanh'] }\n"
    )
    space = space_from_toml(path)
    assert space.params[0] == parse_param("learning_rate=log:1e-4:1e-2")
    assert space.params[1].labels == ("1024x512", "512x256")
    assert space.params[2].kind == "choice"
    assert SearchSpace.from_list(space.to_list()) == space


@pytest.mark.parametrize(
    "text, message",
    [
        ("learning_rate", "expected NAME=KIND:ARGS"),
        ("learning_rate=1e-4:1e-2", "'learning_rate': kind must be one of"),
        ("learning_rate=exp:1e-4:1e-2", "kind must be one of"),
        ("learning_rate=log:0:1e-2", "'learning_rate': log needs LOW > 0"),
        ("learning_rate=log:1e-2:1e-4", "needs LOW <= HIGH"),
        ("learning_rate=float:a:1", "two finite numbers"),
        ("learning_rate=float:1", "two finite numbers"),
        ("hidden_size=int:1.5:8", "'hidden_size': int needs whole numbers"),
        ("activation=choice:", "a choice needs at least one value"),
        ("activation=choice:relu,relu", "repeat a value"),
        ("2lr=log:1e-4:1e-2", "identifier"),
    ],
)
def test_bad_flags_name_the_parameter_and_what_was_expected(text, message):
    with pytest.raises(ValueError, match=message) as caught:
        parse_param(text)
    assert str(caught.value).startswith("--param")


def test_a_parameter_given_twice_or_none_at_all_is_refused():
    with pytest.raises(ValueError, match=r"\['lr'\] given more than once"):
        space_from_flags(["lr=log:1e-4:1e-2", "lr=float:0.1:0.2"])
    with pytest.raises(ValueError, match="at least one parameter"):
        space_from_flags([])


@pytest.mark.parametrize(
    "body, message",
    [
        ("[space]\nlr = { log = [0, 1] }\n", "space.toml \\[space\\] 'lr': log needs LOW > 0"),
        ("[space]\nlr = [1e-4, 1e-2]\n", "'lr': expected one kind and its values"),
        ("[space]\nlr = { log = 'x' }\n", "'lr': log needs a list"),
        ("lr = { log = [1, 2] }\n", "must hold one \\[space\\] table"),
        ("[space]\n[other]\n", "unexpected \\['other'\\]"),
        ("[space\n", "is not valid TOML"),
    ],
)
def test_bad_toml_names_the_file_and_the_parameter(tmp_path, body, message):
    path = tmp_path / "space.toml"
    path.write_text(body)
    with pytest.raises(ValueError, match=message):
        space_from_toml(path)


def test_missing_toml_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        space_from_toml(tmp_path / "nope.toml")


def test_grid_needs_choices():
    assert space_from_flags(["a=choice:1,2", "b=choice:x,y"]).grid() == {
        "a": [1, 2],
        "b": ["x", "y"],
    }
    with pytest.raises(ValueError, match=r"grid sampler needs a list of values for \['lr'\]"):
        space_from_flags(["a=choice:1,2", "lr=log:1e-4:1e-2"]).grid()
