"""``barenet tune``: search the settings of a run with Optuna, then retrain the best.

The data and every fixed setting are ``barenet train``'s options; the searched ones are
``--param`` flags or a TOML ``--space`` file (see :mod:`barenet.search_space`). The
output folder holds the study (see :func:`~barenet.app.tune.study.run_study`) and
``best/``, the best trial retrained as an ordinary run folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path

from optuna.trial import TrialState

from barenet.app.arguments import (
    add_data_options,
    add_model_options,
    add_optim_options,
    positive_float,
    positive_int,
)
from barenet.app.config import RunConfig, flag, given_settings
from barenet.app.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from barenet.app.run import data_now, fresh_run_dir, train_run
from barenet.app.run_data import build_data
from barenet.app.train import print_summary
from barenet.search_space import SearchSpace, space_from_flags, space_from_toml

from .config import TrialSettings, check_space
from .storage import hide_password
from .study import (
    PRUNERS,
    SAMPLERS,
    SEARCH_NAMES,
    StudySettings,
    best_params,
    load_settings,
    run_study,
)

#: The search options' defaults, read from :class:`StudySettings`.
SEARCH_DEFAULTS = dataclasses.asdict(StudySettings())

#: What ``--resume`` may change; the study's other settings are those it saved.
RESUMABLE = ("trials", "timeout", "workers", "storage")

BEST = "best"
SUPPRESS = argparse.SUPPRESS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``tune`` to the ``barenet`` command."""
    parser = subparsers.add_parser(
        "tune",
        help="search hyperparameters with Optuna; retrain the best into a run folder",
        description="Train many networks with settings drawn from a search space (TPE by "
        "default), stop bad ones early, and retrain the best into OUT/best. Data and fixed "
        "settings take barenet train's options; --epochs and --patience apply to each trial. "
        "Writes trials.csv, leaderboard.txt, study.png, tune.json and the study to --out.",
    )
    add_data_options(parser)
    add_model_options(parser)
    add_optim_options(parser)
    add_search_options(parser)
    parser.set_defaults(func=run_tune)


def add_search_options(parser: argparse.ArgumentParser) -> None:
    """The space, sampler, pruner, budget, workers, storage and output of a study."""
    group = parser.add_argument_group("search")
    _add_space_options(group)
    _add_strategy_options(group)
    _add_budget_options(group)
    _add_storage_options(group)
    _add_output_options(group)


def _default(name: str) -> str:
    return f"default {SEARCH_DEFAULTS[name]}"


def _add_space_options(group: argparse._ArgumentGroup) -> None:
    """``--param`` (repeated) or ``--space FILE.toml``."""
    group.add_argument(
        "--param",
        action="append",
        metavar="NAME=KIND:ARGS",
        default=SUPPRESS,
        help="a setting to search, repeated: learning_rate=log:1e-4:1e-2, "
        "dropout=float:0:0.5, hidden_size=int:64:512, activation=choice:relu,tanh",
    )
    group.add_argument(
        "--space",
        metavar="FILE.toml",
        default=SUPPRESS,
        help="the search space as a TOML [space] table",
    )


def _add_strategy_options(group: argparse._ArgumentGroup) -> None:
    """``--sampler`` and ``--pruner``."""
    group.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default=SUPPRESS,
        help=f"how settings are drawn; grid needs choice parameters ({_default('sampler')})",
    )
    group.add_argument(
        "--pruner",
        choices=PRUNERS,
        default=SUPPRESS,
        help=f"stops trials whose val loss lags ({_default('pruner')})",
    )


def _add_budget_options(group: argparse._ArgumentGroup) -> None:
    """``--trials``, ``--timeout`` and ``--workers``."""
    group.add_argument(
        "--trials",
        type=positive_int,
        default=SUPPRESS,
        help=f"finished trials in the study, all workers together ({_default('trials')})",
    )
    group.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        default=SUPPRESS,
        help="start no trial after S seconds (default none)",
    )
    group.add_argument(
        "--workers",
        type=positive_int,
        default=SUPPRESS,
        help=f"processes on this machine sharing the study ({_default('workers')})",
    )


def _add_storage_options(group: argparse._ArgumentGroup) -> None:
    """``--storage`` and ``--study-name``: where the study lives, for sharing it."""
    group.add_argument(
        "--storage",
        metavar="URL",
        default=SUPPRESS,
        help="a database that workers on several machines share, e.g. "
        "postgresql://user:password@host/db (default: a journal file in --out)",
    )
    group.add_argument(
        "--study-name",
        default=SUPPRESS,
        help=f"the study's name in --storage ({_default('study_name')})",
    )


def _add_output_options(group: argparse._ArgumentGroup) -> None:
    """``--out`` and ``--resume``."""
    group.add_argument(
        "--out", metavar="DIR", help="output folder (default runs/<time>-tune-<data>)"
    )
    group.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the study in DIR with its saved settings; only --trials, --timeout, "
        "--workers and --storage may be given, and --data where its images moved",
    )


def search_settings(args: argparse.Namespace, saved: dict | None = None) -> StudySettings:
    """The search options given, else the ``saved`` ones (on resume), else the defaults."""
    base = {**SEARCH_DEFAULTS, **(saved or {})}
    return StudySettings(**{name: getattr(args, name, base[name]) for name in SEARCH_NAMES})


def read_space(args: argparse.Namespace) -> SearchSpace:
    """The space of ``--param`` flags or of ``--space FILE.toml`` (exactly one of them)."""
    params, path = getattr(args, "param", None), getattr(args, "space", None)
    if params and path:
        raise ValueError("give the search space with --param flags or --space FILE.toml, not both")
    if path:
        return space_from_toml(path)
    if not params:
        raise ValueError(
            "--param: give the settings to search, e.g. --param learning_rate=log:1e-4:1e-2 "
            "(or --space FILE.toml)"
        )
    return space_from_flags(params)


def run_tune(args: argparse.Namespace) -> int:
    """Run, resume or join a study; retrain its best trial into ``OUT/best``."""
    if args.resume:
        return resume_study(args)
    config = RunConfig.from_args(args)
    space = read_space(args)
    check_space(space, config)
    fixed = given_settings(args)
    both = [p for p in space.names if p in fixed]
    if both:
        raise ValueError(
            f"--param {both[0]}: {flag(both[0])} is given too; a setting is either fixed or searched"
        )
    settings = search_settings(args)
    if settings.sampler == "grid":
        try:
            space.grid()
        except ValueError as error:
            raise ValueError(f"--sampler grid: {error}") from None
    out = Path(args.out) if args.out else fresh_run_dir(config, "tune")
    return study_and_best(out, config, space, settings, resume=False)


def resume_study(args: argparse.Namespace) -> int:
    """``--resume DIR``: the saved space and settings, with the changes allowed."""
    out = Path(args.resume)
    saved = load_settings(out)
    given = [flag(n) for n in given_settings(args) if n != "data"]
    given += [flag(n) for n in SEARCH_NAMES if n not in RESUMABLE and hasattr(args, n)]
    given += [f for f, n in (("--param", "param"), ("--space", "space")) if hasattr(args, n)]
    given += ["--num-layer"] * (args.num_layer is not None) + ["--out"] * bool(args.out)
    if given:
        raise ValueError(
            f"--resume continues {out} with its saved settings; it may change only --trials, "
            f"--timeout, --workers and --storage (and --data: the same images in a new place), "
            f"not {', '.join(given)}"
        )
    settings = search_settings(args, {n: saved[n] for n in SEARCH_NAMES})
    if settings.storage and "***" in settings.storage and not hasattr(args, "storage"):
        raise ValueError(
            f"--storage: the study of {out} is in {settings.storage}; give that URL again "
            "with its password"
        )
    config = data_now(RunConfig(**saved["base_config"]), out, getattr(args, "data", None))
    return study_and_best(out, config, saved["space"], settings, resume=True)


def study_and_best(
    out: Path, config: RunConfig, space: SearchSpace, settings: StudySettings, resume: bool
) -> int:
    """Run the study (its progress bar, then its leaderboard) and retrain the best trial."""
    trials = TrialSettings(config, build_data(config))
    try:
        study = run_study(out, space, trials, settings, resume=resume)
    except KeyboardInterrupt:
        print_resume_hint(out, settings.storage, "its finished trials")
        return EXIT_INTERRUPTED
    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        print(f"No trial completed: nothing to retrain. See {out / 'trials.csv'}", file=sys.stderr)
        return EXIT_FAILED
    return retrain_best(out, study, space, trials, settings)


def retrain_best(
    out: Path, study, space: SearchSpace, trials: TrialSettings, settings: StudySettings
) -> int:
    """Train the best trial's RunConfig again as an ordinary run folder, ``OUT/best``."""
    best = trials.config(best_params(study, space))
    print(f"Retraining trial {study.best_trial.number}, the best, into {out / BEST}/")
    history = train_run(best, out / BEST, verbose=False)
    print_summary(history, out / BEST)
    if history["interrupted"]:
        print_resume_hint(out, settings.storage, "its study; the best trial is retrained again")
        return EXIT_INTERRUPTED
    print(f"evaluate it with: barenet evaluate {shlex.quote(str(out / BEST))}")
    return EXIT_OK


def print_resume_hint(out: Path, storage: str | None, kept: str) -> None:
    """After Ctrl-C: what is kept, and the command that continues."""
    command = f"barenet tune --resume {shlex.quote(str(out))}"
    if storage and hide_password(storage) != storage:
        # The password is not repeated on screen; the command takes it again.
        command += f" --storage {shlex.quote(hide_password(storage))}  (*** = the password)"
    print(f"Interrupted: {out} keeps {kept}. Continue with:\n  {command}", file=sys.stderr)
