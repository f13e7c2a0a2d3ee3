"""The files a sync job keeps beside its state, and its lock.

``STATE.lock`` (the job's :class:`JobLock`, an advisory ``flock``), ``STATE.apply.sqlite``
(the apply journal) and ``STATE.pending-plan.json`` (the plan whose apply began and has
not been recorded yet; the state's :data:`PENDING_PLAN` value names it).
"""

from __future__ import annotations

from pathlib import Path

from connector.apply.lock import PlanLock, holder_text

__all__ = ["PENDING_PLAN", "JobLock", "job_lock_path", "journal_path", "pending_plan_path"]


#: The state value naming a plan whose apply began and has not been recorded yet.
PENDING_PLAN = "pending_plan"


# -- files beside the state ------------------------------------------------------------------


def job_lock_path(state_path: Path) -> Path:
    """The job's lock file: ``STATE.lock`` beside its state file."""
    return state_path.with_name(state_path.name + ".lock")


def journal_path(state_path: Path) -> Path:
    """The apply journal of the job's runs, beside its state, so that it travels with it."""
    return state_path.with_name(state_path.name + ".apply.sqlite")


def pending_plan_path(state_path: Path) -> Path:
    """Where the plan being applied is kept until its outcome is recorded."""
    return state_path.with_name(state_path.name + ".pending-plan.json")


# -- the lock --------------------------------------------------------------------------------


class JobLock(PlanLock):
    """One run of a job at a time: :class:`~connector.apply.lock.PlanLock`'s ``flock``
    (held for the run, released by the kernel when the process dies, the holder's pid,
    host and start written into the file) on :func:`job_lock_path`.

    Entering raises :class:`~connector.errors.AlreadyRunning` naming the holder.
    """

    def __init__(self, path: Path, *, job: str, server: str) -> None:
        super().__init__(path, plan_id=job, server=server)
        self.job = job

    def _taken_message(self, holder: dict[str, str]) -> str:
        return (
            f"job {self.job!r} is already running: {holder_text(holder)} holds its lock "
            f"({self.path}); this run stopped before doing anything"
        )
