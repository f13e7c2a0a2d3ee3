"""``sync status``: a job's state and lock read as they are, changing neither."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.apply.lock import lock_holder
from connector.sync.files import PENDING_PLAN, job_lock_path
from connector.sync.job import Job
from connector.sync.result import run_json
from connector.sync.state import (
    UNFINISHED,
    Hold,
    RunRecord,
    SyncState,
    clean_server,
)

__all__ = ["JobStatus", "job_status", "run_state"]


@dataclass(frozen=True)
class JobStatus:
    """What ``sync status`` shows: the job's state file as it is, read without a run."""

    job: str
    server: str
    state_path: Path
    #: False when no run has made the state file yet.
    exists: bool
    #: Who holds the job's lock (a run in progress), or None.
    running: dict[str, str] | None = None
    last_run: RunRecord | None = None
    last_failure: RunRecord | None = None
    #: Why the state is not this job's on this server, or None.
    mismatch: str | None = None
    bound: int = 0
    owned: int = 0
    held: tuple[Hold, ...] = ()
    #: The plan whose apply a killed run left unfinished (resumed by the next run).
    pending_plan: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The status as a JSON object."""
        return {
            "job": self.job,
            "server": self.server,
            "state": str(self.state_path),
            "exists": self.exists,
            "running": self.running,
            "last_run": run_json(self.last_run),
            "last_failure": run_json(self.last_failure),
            "mismatch": self.mismatch,
            "bound": self.bound,
            "owned": self.owned,
            "held": [
                {"key": h.key, "reason": h.reason, "since": h.since.isoformat()} for h in self.held
            ],
            "pending_plan": self.pending_plan,
        }


def job_status(job: Job) -> JobStatus:
    """The status of ``job`` from its state file and lock, changing neither."""
    server = clean_server(job.connection.base_url)
    running = lock_holder(job_lock_path(job.state))
    if not job.state.exists():
        return JobStatus(job.name, server, job.state, False, running)
    with SyncState.open(job.state, job=job.name, server=server) as state:
        last_run, last_failure = state.last_run(), state.last_failure()
        if last_run is not None and run_state(last_run, running) == "killed":
            # The state cannot tell a killed last run from a running one; the lock can.
            last_failure = last_run
        common: dict[str, Any] = {
            "running": running,
            "last_run": last_run,
            "last_failure": last_failure,
        }
        if state.mismatch:
            return JobStatus(job.name, server, job.state, True, mismatch=state.mismatch, **common)
        pending = state.get_value(PENDING_PLAN)
        return JobStatus(
            job.name,
            server,
            job.state,
            True,
            bound=len(state.bound_ids()),
            owned=len(state.owned_ids()),
            held=tuple(state.held()),
            pending_plan=json.loads(pending)["plan_id"] if pending else None,
            **common,
        )


def run_state(record: RunRecord, running: Mapping[str, str] | None) -> str:
    """How a recorded run ended, in words: ``ok``, ``valve``, ``error``, ``running`` (it
    is the run holding the lock) or ``killed`` (begun, never finished, lock free)."""
    if record.result != UNFINISHED:
        return record.result
    if running and running.get("pid") == str(record.pid):
        return "running"
    return "killed"
