"""``RunConfig``: every setting of a training run, each with its default stated once.

The command line derives its options and their help from these fields, a run
folder stores them as ``config.json``, and ``evaluate`` and ``--resume`` read them
back. Settings that differ by dataset (the *recipes*) are the field defaults for
the offline digits, overridden for CIFAR-10 in :data:`RECIPES`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from barenet import layers, optim

DATASETS = ("digits", "cifar10")
MODELS = ("mlp", "convnet")
ACTIVATIONS = tuple(layers.ACTIVATIONS)
OPTIMIZERS = tuple(optim.OPTIMIZERS)
DTYPES = ("float32", "float64")
ON_BAD_IMAGE = ("raise", "skip")
LR_SCHEDULES = ("none", "linear", "cosine")


def _optimizer_default(name: str) -> float:
    """The default of the optimizers' hyperparameter ``name``, stated only in
    ``barenet.optim`` (the registry's ``defaults``)."""
    return next(c.defaults[name] for c in optim.OPTIMIZERS.values() if name in c.defaults)


@dataclass
class RunConfig:
    """Settings of one training run (``barenet train``, ``barenet compare``).

    The defaults are the recipe of the offline ``digits``; :meth:`recipe` gives
    another dataset's. The last four fields are facts the run records about its
    data (written by the run, never given on the command line).
    """

    # data
    dataset: str = "digits"
    data: str | None = None
    val_fraction: float = 0.1
    limit: int | None = None
    seed: int = 0
    on_bad_image: str = "raise"
    zca: float = 0.0
    # network
    model: str = "mlp"
    hidden_size: list[int] = field(default_factory=lambda: [128])
    activation: str = "relu"
    std: float | str = "he"
    dtype: str = "float32"
    dropout: float = 0.0
    reg: float = 0.0
    widths: list[int] = field(default_factory=lambda: [32, 64, 128])
    whitening_kernel: int = 2
    whitening_epsilon: float = 5e-4
    whitening_bias_epochs: int | None = None
    # optimization
    optimizer: str = "adam"
    learning_rate: float = optim.LEARNING_RATE
    lr_decay: float = 0.95
    lr_schedule: str = "none"
    warmup_epochs: float = 0.0
    lr_final: float = 0.0
    label_smoothing: float = 0.0
    weight_average: float | None = None
    momentum: float = _optimizer_default("momentum")
    beta1: float = _optimizer_default("beta1")
    beta2: float = _optimizer_default("beta2")
    epsilon: float = _optimizer_default("epsilon")
    batch_size: int = 32
    epochs: int = 30
    patience: int | None = 10
    flip: bool = False
    crop: int = 0
    # recorded by the run
    norm_mean: list[float] | None = None
    norm_std: list[float] | None = None
    input_size: int | None = None
    classes: list[str] | None = None

    def __post_init__(self) -> None:
        self.hidden_size = [int(h) for h in self.hidden_size]
        self.widths = [int(w) for w in self.widths]
        for name, choices in (
            ("dataset", DATASETS),
            ("model", MODELS),
            ("activation", ACTIVATIONS),
            ("optimizer", OPTIMIZERS),
            ("dtype", DTYPES),
            ("on_bad_image", ON_BAD_IMAGE),
            ("lr_schedule", LR_SCHEDULES),
        ):
            if getattr(self, name) not in choices:
                raise ValueError(
                    f"{flag(name)} must be one of {', '.join(choices)}, got {getattr(self, name)!r}"
                )
        if isinstance(self.std, str) and self.std not in ("he", "xavier"):
            raise ValueError(f"--std must be a positive float, 'he' or 'xavier'; got {self.std!r}")
        if not isinstance(self.std, str):
            _check(self, "std", 0.0, None)
            if self.std == 0:
                raise ValueError("--std must be > 0, got 0")
        _check(self, "dropout", 0.0, 1.0)
        _check(self, "zca", 0.0, None)
        if not self.widths or min(self.widths) < 1 or self.whitening_kernel < 1:
            raise ValueError(
                f"--widths must be ints >= 1 and --whitening-kernel >= 1; got {self.widths} "
                f"and {self.whitening_kernel}"
            )
        if not self.whitening_epsilon > 0:
            raise ValueError(f"--whitening-epsilon must be > 0, got {self.whitening_epsilon}")
        if self.whitening_bias_epochs is not None and self.whitening_bias_epochs < 0:
            raise ValueError(
                f"--whitening-bias-epochs must be >= 0, got {self.whitening_bias_epochs}"
            )
        for name in ("momentum", "beta1", "beta2"):
            _check(self, name, 0.0, 1.0)
        _check(self, "learning_rate", 0.0, None)
        _check(self, "warmup_epochs", 0.0, None)
        if not 0.0 <= self.lr_final <= 1.0:
            raise ValueError(f"--lr-final must be in [0, 1], got {self.lr_final}")
        if not 0.0 <= self.label_smoothing <= 1.0:
            raise ValueError(f"--label-smoothing must be in [0, 1], got {self.label_smoothing}")
        if self.weight_average is not None:
            _check(self, "weight_average", 0.0, 1.0)
        if not 0 < self.val_fraction < 0.5:
            raise ValueError(f"--val-fraction must be in (0, 0.5), got {self.val_fraction}")
        for name in ("batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{flag(name)} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def recipe(cls, dataset: str, **settings: Any) -> RunConfig:
        """The recipe of ``dataset`` for ``settings['model']`` (default mlp), with
        ``settings`` on top."""
        if dataset not in RECIPES:
            raise ValueError(f"--dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
        model = settings.get("model", "mlp")
        if model not in MODELS:
            raise ValueError(f"--model must be one of {', '.join(MODELS)}, got {model!r}")
        recipe = RECIPES[dataset] if model == "mlp" else CONVNET_RECIPES[dataset]
        return cls(**{"dataset": dataset, **recipe, **settings})

    @classmethod
    def from_args(cls, args: argparse.Namespace, **base: Any) -> RunConfig:
        """The run the command line asks for: recipe, then ``base``, then the options given.

        Options left out on the command line are absent from ``args`` (their
        argparse default is ``SUPPRESS``), so a recipe value is never mistaken for
        a choice of the user.

        Raises
        ------
        ValueError
            Naming the option, when options contradict each other or a value is
            out of range.
        """
        given = given_settings(args)
        if given.get("data") is not None and given.get("dataset"):
            raise ValueError("give --dataset or --data, not both")
        if given.get("data") is not None:
            # Resolved: the run folder's config.json names the data from anywhere.
            given["data"] = str(Path(given["data"]).expanduser().resolve())
        dataset = given.pop("dataset", None) or base.pop("dataset", None)
        dataset = dataset or ("cifar10" if given.get("data") else "digits")
        settings = {**base, **given}
        num_layer = getattr(args, "num_layer", None)
        if num_layer is not None:
            hidden = settings.get("hidden_size", RECIPES[dataset].get("hidden_size", [128]))
            settings["hidden_size"] = hidden_sizes(num_layer, hidden)
        return cls.recipe(dataset, **settings)

    def to_json(self) -> str:
        """The settings as an indented JSON object (the run's ``config.json``)."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        """Read :meth:`to_json`'s output; missing keys take their defaults.

        Raises
        ------
        ValueError
            When the text is not a JSON object or holds an unknown setting.
        """
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"config.json is not valid JSON: {error}") from None
        if not isinstance(values, dict):
            raise ValueError("config.json must hold a JSON object of settings")
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"config.json has unknown settings: {', '.join(unknown)}")
        return cls(**values)

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)


#: Settings that differ from the field defaults, by dataset.
RECIPES: dict[str, dict[str, Any]] = {
    "digits": {},
    "cifar10": {
        "zca": 1.0,
        "hidden_size": [1024, 512],
        "epochs": 28,
        "batch_size": 512,
        "learning_rate": 1.5e-3,
        "lr_decay": 0.9,
        "dropout": 0.4,
        "flip": True,
        "patience": 5,
    },
}

#: The ConvNet's recipes (``--model convnet``): settings that differ from the field
#: defaults, by dataset. The MLP's choices (``hidden_size``, ``dropout``...) do not apply.
CONVNET_RECIPES: dict[str, dict[str, Any]] = {
    "digits": {
        "widths": [16, 32],
        "optimizer": "sgd_nesterov",
        "learning_rate": 0.05,
        "lr_decay": 1.0,
        "lr_schedule": "linear",
        "warmup_epochs": 1.0,
        "batch_size": 64,
        "epochs": 8,
        "patience": None,
    },
    "cifar10": {
        "widths": [32, 64, 128],
        "optimizer": "sgd_nesterov",
        "learning_rate": 0.1,
        "reg": 2.5e-4,
        "lr_decay": 1.0,
        "lr_schedule": "linear",
        "warmup_epochs": 1.0,
        "label_smoothing": 0.2,
        "whitening_bias_epochs": 3,
        "batch_size": 256,
        "epochs": 10,
        "patience": None,
        "flip": True,
        "crop": 2,
    },
}

#: The settings of the ConvNet alone (the MLP ignores them).
CONVNET_SETTINGS = ("widths", "whitening_kernel", "whitening_epsilon", "whitening_bias_epochs")

#: Settings that only the run writes; the command line never sets them.
RECORDED = ("norm_mean", "norm_std", "input_size", "classes")

#: The command-line spelling of a setting whose option is not simply its name.
FLAGS = {"learning_rate": "--lr"}


def flag(name: str) -> str:
    """The option that sets ``name``, e.g. ``'--batch-size'``."""
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The RunConfig settings present in ``args`` (those given on the command line)."""
    names = {f.name for f in dataclasses.fields(RunConfig)} - set(RECORDED)
    return {name: value for name, value in vars(args).items() if name in names}


def hidden_sizes(num_layer: int, hidden: list[int]) -> list[int]:
    """Hidden widths for ``num_layer`` affine layers: one width repeats, else one per layer."""
    if num_layer == 1:
        return []
    if len(hidden) == 1:
        return list(hidden) * (num_layer - 1)
    if len(hidden) != num_layer - 1:
        raise ValueError(
            f"--num-layer {num_layer} needs {num_layer - 1} hidden sizes, got {hidden}"
        )
    return list(hidden)


def _check(config: RunConfig, name: str, low: float, high: float | None) -> None:
    """``low <= value < high`` (no upper bound when ``high`` is None), or a ValueError."""
    value = getattr(config, name)
    if not (low <= value and (high is None or value < high)):
        bound = f"in [{low:g}, {high:g})" if high is not None else f">= {low:g}"
        raise ValueError(f"{flag(name)} must be {bound}, got {value}")


def default_text(name: str, overrides: dict[str, Any] | None = None) -> str:
    """How a setting's default reads in ``--help``: one value, or one per recipe
    (the MLP's, then after ``convnet:`` the ConvNet's where they differ)."""
    if overrides and name in overrides:
        return f"default {_show(overrides[name])}"
    default = getattr(RunConfig(), name)
    mlp = _per_dataset({d: RECIPES[d].get(name, default) for d in DATASETS})
    convnet = _per_dataset({d: CONVNET_RECIPES[d].get(name, default) for d in DATASETS})
    if name in CONVNET_SETTINGS:
        return f"default {convnet}"
    return f"default {mlp}" if convnet == mlp else f"default {mlp}; convnet: {convnet}"


def _per_dataset(values: dict[str, Any]) -> str:
    """``'32'`` when every dataset's value is the same, else ``'digits 32, cifar10 512'``."""
    if len({_show(v) for v in values.values()}) == 1:
        return _show(next(iter(values.values())))
    return ", ".join(f"{d} {_show(v)}" for d, v in values.items())


def _show(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(map(str, value)) or "none"
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)
