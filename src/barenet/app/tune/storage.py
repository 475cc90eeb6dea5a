"""Where a ``barenet tune`` study lives, and how a resumed study forgets trials left running.

By default the study is Optuna's journal file ``study.journal`` in the output folder
(local processes share it through a file lock). A storage URL (``sqlite:///...``,
``postgresql://...``) puts it in a database that workers on other machines reach.
"""

from __future__ import annotations

import re
import socket
import warnings
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from barenet.io import process_is_running

JOURNAL_NAME = "study.journal"
#: Trials that count against the budget; a failed (killed) trial is run again.
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def open_storage(spec: str) -> BaseStorage:
    """A storage from a URL (``sqlite:///f.db``, ``postgresql://user@host/db``) or a
    journal file path. Database storages send heartbeats, so that a trial whose machine
    died is marked failed after a few minutes by whichever worker starts a trial next."""
    if "://" in spec:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(spec, heartbeat_interval=30, grace_period=120)
    return JournalStorage(JournalFileBackend(str(spec)))


def hide_password(url: str | None) -> str | None:
    """``postgresql://me:secret@host/db`` -> ``postgresql://me:***@host/db``: for files."""
    return None if url is None else re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def open_study(
    out_dir: Path, storage: str | None, study_name: str, resume: bool
) -> tuple[str, BaseStorage, optuna.Study]:
    """Create the study, or load it when resuming or joining a shared storage.

    Returns
    -------
    spec : str
        The storage URL or journal path (what worker processes open again).
    handle : BaseStorage
    study : optuna.Study

    Raises
    ------
    ValueError
        When a new study would overwrite one in ``out_dir``, or ``resume`` finds none.
    """
    spec = storage or str(out_dir / JOURNAL_NAME)
    if resume and storage is None and not (out_dir / JOURNAL_NAME).exists():
        raise ValueError(f"--resume {out_dir}: no study there ({JOURNAL_NAME} is missing)")
    handle = open_storage(spec)
    exists = study_name in [s.study_name for s in optuna.get_all_study_summaries(handle)]
    # A shared storage is meant to be joined; an output folder's own study is not reused silently.
    if exists and storage is None and not resume:
        raise ValueError(
            f"{out_dir} already holds study {study_name!r}: continue it with --resume {out_dir} "
            "or choose another output folder"
        )
    if resume and not exists:
        raise ValueError(
            f"--resume: storage {hide_password(spec)} holds no study named {study_name!r}"
        )
    study = optuna.create_study(
        storage=handle, study_name=study_name, direction="minimize", load_if_exists=True
    )
    return spec, handle, study


def is_stale(trial: FrozenTrial, host: str | None = None) -> bool:
    """A RUNNING trial whose process is gone: it started on this host in a process that no
    longer exists, or it never recorded its process (killed as it began)."""
    if trial.state != TrialState.RUNNING:
        return False
    pid = trial.user_attrs.get("pid")
    if pid is None:
        return True
    same_host = trial.user_attrs.get("host") == (host or socket.gethostname())
    return same_host and not process_is_running(pid)


def fail_stale_trials(
    study: optuna.Study, storage: BaseStorage, ended_pid: int | None = None
) -> list[int]:
    """Mark the stale RUNNING trials of ``study`` as FAIL; returns their numbers.

    ``ended_pid``, a process of this host whose trials are over though it still runs
    (this one, after Ctrl-C), counts as gone. Trials running on other machines are left
    alone: a database storage's heartbeat fails them once their machine stops answering.
    """
    study_id = storage.get_study_id_from_name(study.study_name)
    host = socket.gethostname()
    numbers = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        ended = ended_pid is not None and trial.user_attrs.get("pid") == ended_pid
        if is_stale(trial, host) or (ended and trial.user_attrs.get("host") == host):
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
            numbers.append(trial.number)
    return numbers


def count_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))
