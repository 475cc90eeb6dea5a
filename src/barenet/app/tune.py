"""``barenet tune``: search the settings of a run with Optuna, then retrain the best.

The data and every fixed setting are ``barenet train``'s options; the searched ones are
``--param`` flags or a TOML ``--space`` file (see :mod:`barenet.app.tune_space`). The
output folder holds the study (see :func:`~barenet.app.tune_study.run_study`) and
``best/``, the best trial retrained as an ordinary run folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
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
from barenet.app.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED
from barenet.app.run import fresh_run_dir, train_run
from barenet.app.run_data import build_data
from barenet.app.train import print_summary
from barenet.app.tune_config import DATA_KEYS, TrialSettings, check_space, trial_config
from barenet.app.tune_space import SearchSpace, space_from_flags, space_from_toml
from barenet.app.tune_storage import hide_password
from barenet.app.tune_study import PRUNERS, SAMPLERS, best_config, load_settings, run_study

#: Exit status after Ctrl-C, as a shell reports a process ended by SIGINT; and when no
#: trial completed.

#: The search options, with their defaults read from :func:`run_study`.
SEARCH_DEFAULTS = {
    name: inspect.signature(run_study).parameters[name].default
    for name in ("sampler", "pruner", "trials", "timeout", "workers", "storage", "study_name")
}

#: What ``--resume`` may change; the study's other settings are those it saved.
RESUMABLE = ("trials", "timeout", "workers", "storage")

BEST = "best"


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
    suppress = argparse.SUPPRESS
    group.add_argument(
        "--param",
        action="append",
        metavar="NAME=KIND:ARGS",
        default=suppress,
        help="a setting to search, repeated: learning_rate=log:1e-4:1e-2, "
        "dropout=float:0:0.5, hidden_size=int:64:512, activation=choice:relu,tanh",
    )
    group.add_argument(
        "--space",
        metavar="FILE.toml",
        default=suppress,
        help="the search space as a TOML [space] table",
    )
    group.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default=suppress,
        help=f"how settings are drawn; grid needs choice parameters (default {SEARCH_DEFAULTS['sampler']})",
    )
    group.add_argument(
        "--pruner",
        choices=PRUNERS,
        default=suppress,
        help=f"stops trials whose val loss lags (default {SEARCH_DEFAULTS['pruner']})",
    )
    group.add_argument(
        "--trials",
        type=positive_int,
        default=suppress,
        help=f"finished trials in the study, all workers together (default {SEARCH_DEFAULTS['trials']})",
    )
    group.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        default=suppress,
        help="start no trial after S seconds (default none)",
    )
    group.add_argument(
        "--workers",
        type=positive_int,
        default=suppress,
        help=f"processes on this machine sharing the study (default {SEARCH_DEFAULTS['workers']})",
    )
    group.add_argument(
        "--storage",
        metavar="URL",
        default=suppress,
        help="a database that workers on several machines share, e.g. "
        "postgresql://user:password@host/db (default: a journal file in --out)",
    )
    group.add_argument(
        "--study-name",
        default=suppress,
        help=f"the study's name in --storage (default {SEARCH_DEFAULTS['study_name']})",
    )
    group.add_argument(
        "--out", metavar="DIR", help="output folder (default runs/<time>-tune-<data>)"
    )
    group.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the study in DIR with its saved settings; only --trials, --timeout, "
        "--workers and --storage may be given",
    )


def search_options(args: argparse.Namespace, saved: dict | None = None) -> dict:
    """The search options given, else the ``saved`` ones (on resume), else the defaults."""
    base = {**SEARCH_DEFAULTS, **(saved or {})}
    return {name: getattr(args, name, base[name]) for name in SEARCH_DEFAULTS}


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
    options = search_options(args)
    if options["sampler"] == "grid":
        try:
            space.grid()
        except ValueError as error:
            raise ValueError(f"--sampler grid: {error}") from None
    out = Path(args.out) if args.out else fresh_run_dir(config, "tune")
    return study_and_best(out, config, space, options, resume=False)


def resume_study(args: argparse.Namespace) -> int:
    """``--resume DIR``: the saved space and settings, with the changes allowed."""
    out = Path(args.resume)
    saved = load_settings(out)
    given = [flag(n) for n in given_settings(args)]
    given += [flag(n) for n in SEARCH_DEFAULTS if n not in RESUMABLE and hasattr(args, n)]
    given += [f for f, n in (("--param", "param"), ("--space", "space")) if hasattr(args, n)]
    given += ["--num-layer"] * (args.num_layer is not None) + ["--out"] * bool(args.out)
    if given:
        raise ValueError(
            f"--resume continues {out} with its saved settings; it may change only --trials, "
            f"--timeout, --workers and --storage, not {', '.join(given)}"
        )
    options = search_options(args, {n: saved[n] for n in SEARCH_DEFAULTS})
    if options["storage"] and "***" in options["storage"] and not hasattr(args, "storage"):
        raise ValueError(
            f"--storage: the study of {out} is in {options['storage']}; give that URL again "
            "with its password"
        )
    config = RunConfig(**saved["base_config"])
    return study_and_best(out, config, saved["space"], options, resume=True)


def study_and_best(
    out: Path, config: RunConfig, space: SearchSpace, options: dict, resume: bool
) -> int:
    """Run the study (its progress bar, then its leaderboard) and retrain the best trial."""
    data = build_data(config)
    trial = TrialSettings(config, data)
    try:
        study = run_study(
            out,
            space,
            dataclasses.asdict(config),
            trial.loaders,
            epochs=config.epochs,
            patience=config.patience,
            seed=config.seed,
            resume=resume,
            data_keys=[k for k in DATA_KEYS if k in space.names],
            resolve=trial.resolve,
            **options,
        )
    except KeyboardInterrupt:
        print_resume_hint(out, options["storage"], "its finished trials")
        return EXIT_INTERRUPTED
    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        print(f"No trial completed: nothing to retrain. See {out / 'trials.csv'}", file=sys.stderr)
        return EXIT_FAILED
    best = trial_config(config, best_config(study, space, {}))
    print(f"Retraining trial {study.best_trial.number}, the best, into {out / BEST}/")
    history = train_run(best, out / BEST, verbose=False)
    print_summary(history, out / BEST)
    if history["interrupted"]:
        print_resume_hint(out, options["storage"], "its study; the best trial is retrained again")
        return EXIT_INTERRUPTED
    print(f"evaluate it with: barenet evaluate {shlex.quote(str(out / BEST))}")
    return 0


def print_resume_hint(out: Path, storage: str | None, kept: str) -> None:
    """After Ctrl-C: what is kept, and the command that continues."""
    command = f"barenet tune --resume {shlex.quote(str(out))}"
    if storage and hide_password(storage) != storage:
        # The password is not repeated on screen; the command takes it again.
        command += f" --storage {shlex.quote(hide_password(storage))}  (*** = the password)"
    print(f"Interrupted: {out} keeps {kept}. Continue with:\n  {command}", file=sys.stderr)
