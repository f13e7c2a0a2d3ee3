"""Scheduled sync: job file, sync state, lock and runner.

:mod:`~connector.sync.job`, the job file (its full reference is that module's
docstring); :mod:`~connector.sync.state`, what a job remembers between runs (bindings,
ownership, records held for review, its runs) and the registry of which job owns which
contact; :mod:`~connector.sync.files`, the lock and the files kept beside the state;
:mod:`~connector.sync.valves`, the checks that hold a run back before its first write;
:mod:`~connector.sync.runner`, one run (:func:`run_job`), which tells
:mod:`~connector.sync.events` as it goes, records its outcome with
:mod:`~connector.sync.recording`, writes :mod:`~connector.sync.reports` and returns a
:mod:`~connector.sync.result`; :mod:`~connector.sync.status`, ``sync status``.
"""

from connector.sync.events import SyncEvent, SyncObserver
from connector.sync.job import (
    DEFAULT_KEEP_REPORTS,
    DEFAULT_MAX_DELETES,
    DELETE_POLICIES,
    EDIT_POLICIES,
    Job,
    JobSource,
    MaxDeletes,
    Policy,
    load_job,
)
from connector.sync.result import SyncResult
from connector.sync.runner import run_job
from connector.sync.state import (
    ERROR,
    FINISHED_RESULTS,
    OK,
    SCHEMA_VERSION,
    UNFINISHED,
    VALVE,
    Binding,
    BindingConflict,
    Hold,
    OwnershipConflict,
    OwnershipRegistry,
    Reset,
    RunRecord,
    StateError,
    StateMismatch,
    SyncState,
    check_job_name,
    clean_server,
    default_registry_path,
    default_state_path,
    server_key,
)
from connector.sync.status import JobStatus, job_status
from connector.sync.valves import VALVES, ValveTrip, check_valves

__all__ = [
    "DEFAULT_KEEP_REPORTS",
    "DEFAULT_MAX_DELETES",
    "DELETE_POLICIES",
    "EDIT_POLICIES",
    "ERROR",
    "FINISHED_RESULTS",
    "OK",
    "SCHEMA_VERSION",
    "UNFINISHED",
    "VALVE",
    "VALVES",
    "Binding",
    "BindingConflict",
    "Hold",
    "Job",
    "JobSource",
    "JobStatus",
    "MaxDeletes",
    "OwnershipConflict",
    "OwnershipRegistry",
    "Policy",
    "Reset",
    "RunRecord",
    "StateError",
    "StateMismatch",
    "SyncEvent",
    "SyncObserver",
    "SyncResult",
    "SyncState",
    "ValveTrip",
    "check_job_name",
    "check_valves",
    "clean_server",
    "default_registry_path",
    "default_state_path",
    "job_status",
    "load_job",
    "run_job",
    "server_key",
]
