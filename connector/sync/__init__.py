"""Scheduled sync: job file, sync state, lock and runner.

So far: :mod:`connector.sync.state`, what a job remembers between runs (bindings,
ownership, records held for review, its runs) and the registry of which job owns which
contact.
"""

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

__all__ = [
    "ERROR",
    "FINISHED_RESULTS",
    "OK",
    "SCHEMA_VERSION",
    "UNFINISHED",
    "VALVE",
    "Binding",
    "BindingConflict",
    "Hold",
    "OwnershipConflict",
    "OwnershipRegistry",
    "Reset",
    "RunRecord",
    "StateError",
    "StateMismatch",
    "SyncState",
    "check_job_name",
    "clean_server",
    "default_registry_path",
    "default_state_path",
    "server_key",
]
