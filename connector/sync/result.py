"""What a sync run found and did (:class:`SyncResult`), and its summary and JSON forms."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from connector.apply.engine import INTERRUPTED
from connector.apply.journal import DONE, SKIPPED
from connector.apply.report import ApplyReport
from connector.reconcile.plan import Plan, PlanItem
from connector.sync.job import Job
from connector.sync.state import (
    ERROR,
    OK,
    VALVE,
    Hold,
    RunRecord,
)
from connector.sync.valves import ValveTrip

__all__ = ["Noted", "SyncResult", "counts_text", "held_note", "noted", "plural", "run_json"]


@dataclass(frozen=True)
class Noted:
    """A source record the run reports by name: held for review, rejected, edited outside
    the job. ``key`` and ``location`` say which record, ``contact_id`` which contact."""

    key: str
    location: str
    name: str
    reason: str
    contact_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object."""
        return {
            "key": self.key,
            "location": self.location,
            "name": self.name,
            "reason": self.reason,
            "contact_id": self.contact_id,
        }


@dataclass
class SyncResult:
    """How a run of a job ended, and what it found and did.

    ``outcome`` is ``ok`` (done, or nothing to do), ``valve`` (a safety valve held it
    back: nothing written) or ``error`` (an apply that did not finish). A run that could
    not start or read raises instead (after recording itself in the state).
    """

    job: str
    server: str
    dry_run: bool
    started_at: datetime
    outcome: str = OK
    finished_at: datetime | None = None
    run_id: int | None = None
    #: Why the state was reset (made for another server or job), or None.
    reset: str | None = None
    source: str = ""
    records: int = 0
    source_complete: bool = True
    #: Why the source was not read completely ("" when it was).
    incomplete_reason: str = ""
    #: For an incremental read (a CRM's records changed since an earlier run): since when.
    since: str | None = None
    source_messages: tuple[str, ...] = ()
    phonebook_size: int = 0
    plan: Plan | None = None
    valve: ValveTrip | None = None
    #: The apply of an earlier, killed run, resumed first.
    resumed: ApplyReport | None = None
    apply: ApplyReport | None = None
    #: Records held for review after this run (the state's, or this plan's on a dry run).
    held: list[Noted] = field(default_factory=list)
    rejected: list[Noted] = field(default_factory=list)
    #: Contacts edited in Sipalto since the job last wrote them.
    edited: list[Noted] = field(default_factory=list)
    #: Bound contacts deleted in Sipalto by hand (and re-added, with ``readd_deleted``).
    gone: list[Noted] = field(default_factory=list)
    owned: int = 0
    #: What went wrong, for ``error`` and ``valve``.
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    #: The files written into the job's report folder.
    reports: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the run finished as it should (records held or rejected aside)."""
        return self.outcome == OK

    @property
    def interrupted(self) -> bool:
        """True when Ctrl-C stopped the apply (the next run resumes it)."""
        return any(
            report is not None and report.stopped == INTERRUPTED
            for report in (self.resumed, self.apply)
        )

    @property
    def attention(self) -> bool:
        """True when records are held for review or were rejected: a person should look."""
        return bool(self.held or self.rejected)

    def applied(self) -> dict[str, int]:
        """Operations done by this run's apply (the resumed one included), by action."""
        done: Counter[str] = Counter()
        for report in (self.resumed, self.apply):
            if report is not None:
                done.update(r.op.action for r in report.results if r.state == DONE)
        return {action: done.get(action, 0) for action in ("add", "update", "delete")}

    def counts(self) -> dict[str, int]:
        """What the run found and did, by kind: the plan's actions, what was written
        (``added``, ``updated``, ``deleted``), ``held``, ``edited``, ``gone``, ``owned``."""
        counts = dict(self.plan.summary) if self.plan else {}
        applied = self.applied()
        counts.update(
            records=self.records,
            added=applied["add"],
            updated=applied["update"],
            deleted=applied["delete"],
            held=len(self.held),
            edited=len(self.edited),
            gone=len(self.gone),
            owned=self.owned,
        )
        failed = sum(
            1
            for report in (self.resumed, self.apply)
            if report is not None
            for r in report.results
            if r.state not in (DONE, SKIPPED)
        )
        if failed:
            counts["not_done"] = failed
        return counts

    def summary_lines(self) -> list[str]:
        """The run in a few lines of plain text, as the report's summary file holds it."""
        return _summary_lines(self)

    def to_json(self, job: Job | None = None) -> dict[str, Any]:
        """The report file's JSON object (no secrets: the job without its credentials)."""
        return _result_json(self, job)


def noted(item: PlanItem, bound_id: str | None = None) -> Noted:
    """``item``'s record; ``bound_id``, the contact its key is bound to, names the
    contact of an item that has none of its own (a review)."""
    assert item.source is not None
    fields = item.after or item.before
    name = item.source.name or (fields.name if fields else "")
    return Noted(item.source.key, item.source.location, name, item.reason, item.id or bound_id)


def held_note(hold: Hold, item: PlanItem | None) -> Noted:
    if item is None:
        return Noted(hold.key, "", "", hold.reason)
    return replace(noted(item), reason=hold.reason)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def counts_text(result: SyncResult) -> str:
    applied = result.applied()
    parts = [
        f"{applied['add']} added",
        f"{applied['update']} updated",
        f"{applied['delete']} deleted",
        f"{len(result.held)} held for review",
        f"{len(result.rejected)} rejected",
    ]
    return ", ".join(parts)


def _summary_lines(result: SyncResult) -> list[str]:
    head = "Dry run" if result.dry_run else "Run"
    outcome = {OK: "done", VALVE: "held back by a safety valve", ERROR: "failed"}
    lines = [f"{head} of job {result.job} against {result.server}: {outcome[result.outcome]}."]
    if result.reset:
        lines.append(f"The state was reset: {result.reset}.")
    if result.source:
        complete = "" if result.source_complete else " (not read completely)"
        lines.append(
            f"Source: {plural(result.records, 'record')} read from {result.source}{complete}."
        )
    if result.plan is not None or result.records:
        lines.append(f"Phonebook: {plural(result.phonebook_size, 'contact')}.")
    if result.plan is not None:
        s = result.plan.summary
        lines.append(
            f"Plan {result.plan.plan_id[:8]}: {s['add']} to add, {s['update']} to update, "
            f"{s['delete']} to delete, {s['unchanged']} unchanged, {s['review']} for review, "
            f"{s['rejected']} rejected."
        )
    if result.resumed is not None:
        done = Counter(r.op.action for r in result.resumed.results if r.state == DONE)
        lines.append(
            f"Resumed an unfinished apply: {done['add']} added, {done['update']} updated, "
            f"{done['delete']} deleted."
        )
    if result.apply is not None:
        applied = Counter(r.op.action for r in result.apply.results if r.state == DONE)
        lines.append(
            f"Applied: {applied['add']} added, {applied['update']} updated, "
            f"{applied['delete']} deleted."
        )
    if result.valve is not None:
        lines.append(result.valve.message)
    elif result.error:
        lines.append(f"Error: {result.error}")
    if not result.dry_run and result.outcome == OK:
        lines.append(f"Owned by this job: {plural(result.owned, 'contact')}.")
    lines.extend(_listed("Edited in Sipalto since this job wrote them", result.edited))
    lines.extend(_listed("Deleted in Sipalto by hand", result.gone))
    lines.extend(_listed("Held for review", result.held))
    lines.extend(_listed("Rejected", result.rejected))
    lines.extend(f"Note: {note}" for note in result.notes)
    return lines


_LISTED = 20


def _listed(title: str, noted: Sequence[Noted]) -> list[str]:
    if not noted:
        return []
    lines = [f"{title} ({len(noted)}):"]
    for n in noted[:_LISTED]:
        where = n.location or n.key
        contact = f" [contact {n.contact_id}]" if n.contact_id else ""
        lines.append(f"  {where}: {n.name}{contact}: {n.reason}")
    if len(noted) > _LISTED:
        lines.append(f"  ... and {len(noted) - _LISTED} more (all in the report)")
    return lines


def _apply_json(report: ApplyReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "plan_id": report.plan_id,
        "ok": report.ok,
        "stopped": report.stopped,
        "backup": report.backup_path,
        "counts": report.counts(),
        "not_done": [
            {"operation": r.op.label, "state": r.state, "reason": r.reason}
            for r in report.results
            if r.state not in (DONE, SKIPPED)
        ],
    }


def run_json(record: RunRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "id": record.id,
        "started_at": record.started_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        "result": record.result,
        "counts": dict(record.counts),
        "error": record.error,
        "pid": record.pid,
        "host": record.host,
    }


def _result_json(result: SyncResult, job: Job | None) -> dict[str, Any]:
    return {
        "job": job.to_json() if job is not None else {"job": result.job},
        "server": result.server,
        "host": socket.gethostname(),
        "dry_run": result.dry_run,
        "run_id": result.run_id,
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat() if result.finished_at else None,
        "outcome": result.outcome,
        "error": result.error,
        "valve": (
            {
                "valve": result.valve.valve,
                "message": result.valve.message,
                "deletes": result.valve.deletes,
            }
            if result.valve
            else None
        ),
        "reset": result.reset,
        "source": {
            "path": result.source,
            "records": result.records,
            "complete": result.source_complete,
            "messages": list(result.source_messages),
        },
        "phonebook_size": result.phonebook_size,
        "plan": (
            {"plan_id": result.plan.plan_id, "summary": result.plan.summary}
            if result.plan
            else None
        ),
        "counts": result.counts(),
        "resumed": _apply_json(result.resumed),
        "apply": _apply_json(result.apply),
        "edited": [n.to_json() for n in result.edited],
        "gone": [n.to_json() for n in result.gone],
        "held": [n.to_json() for n in result.held],
        "rejected": [n.to_json() for n in result.rejected],
        "owned": result.owned,
        "notes": list(result.notes),
    }
