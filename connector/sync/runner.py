"""The runner of a scheduled sync: one call, :func:`run_job`, does a whole run of a job.

A run, in the order that keeps an unattended job safe::

    lock ─▶ state ─▶ resume an unfinished apply ─▶ read the source ─▶ read the phonebook
         ─▶ plan (bindings first) ─▶ plan file ─▶ valves ─▶ apply ─▶ record ─▶ report

* The job's lock comes first (:class:`JobLock`, an ``flock`` on ``STATE.lock``): a second
  run of the job stops at once, before it reads anything, saying which process holds it.
  The kernel lets go of the lock when its process dies, however it dies.
* The state (:class:`~connector.sync.state.SyncState`) says which source key is which
  contact. A state made for another server or job is reset, said so, and the run binds
  by matching again; it owns nothing then, so it deletes nothing it cannot prove it owns.
* An apply left unfinished by a killed run (the state's ``pending_plan``) is resumed
  through its journal before anything else, and what it did is recorded.
* The source is read whole and the phonebook once; the pure planner
  (:func:`~connector.reconcile.planner.make_plan`) gets the bindings and the contacts
  other jobs own. The plan is saved, then the valves
  (:func:`~connector.sync.valves.check_valves`) look at it: when one trips, nothing is
  written to Sipalto or to the bindings.
* The plan is applied by :func:`~connector.apply.run.run_plan` (the same lock, journal,
  backup and pacing as ``sipalto-sync apply``), with the journal beside the state so an
  apply killed anywhere resumes on the next run.
* What the apply did is recorded in one state transaction (new contacts bound and owned,
  matched ones bound, edits confirmed, records held for review, deleted contacts
  forgotten); ownership is claimed in the machine's
  :class:`~connector.sync.state.OwnershipRegistry` before a contact is bound as owned,
  and released after it is forgotten.

A dry run plans, checks the valves and writes the report, and writes nothing to Sipalto
or to the state (not even a new state file). Library code: it prints nothing; what
happens is told to a :class:`SyncObserver` as :class:`SyncEvent` values, and the result
is a :class:`SyncResult`. Secrets never reach either: the server is shown without
userinfo, and no password or token is in any event, file or message.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from connector.apply.engine import INTERRUPTED
from connector.apply.journal import DONE, SKIPPED, Journal
from connector.apply.lock import PlanLock, holder_text, lock_holder
from connector.apply.report import ApplyObserver, ApplyReport, OpResult, RunStart, Tally
from connector.apply.run import ApplySettings, run_plan
from connector.apply.target import plan_target
from connector.errors import ConfigError, SipaltoSyncError
from connector.files import atomic_write
from connector.model import Contact, ContactFields, SourceRecord
from connector.paths import private_dir
from connector.reconcile.plan import Bound, Plan, PlanItem, PlanSettings
from connector.reconcile.planfile import load_plan, save_plan
from connector.reconcile.planner import make_plan
from connector.reconcile.workflow import cyclic_gc_paused, read_source
from connector.sync.job import Job
from connector.sync.state import (
    ERROR,
    OK,
    UNFINISHED,
    VALVE,
    Binding,
    BindingConflict,
    Hold,
    OwnershipConflict,
    OwnershipRegistry,
    Reset,
    RunRecord,
    SyncState,
    clean_server,
    default_registry_path,
)
from connector.sync.valves import ValveTrip, check_valves

__all__ = [
    "PENDING_PLAN",
    "JobLock",
    "JobStatus",
    "Noted",
    "SyncEvent",
    "SyncObserver",
    "SyncResult",
    "job_lock_path",
    "job_status",
    "journal_path",
    "lock_holder",
    "pending_plan_path",
    "run_job",
    "run_state",
]

#: The state value naming a plan whose apply began and has not been recorded yet.
PENDING_PLAN = "pending_plan"
#: The ``sync`` tags of plan items about contacts edited outside the job.
EDITED_TAGS = frozenset({"edited", "conflict", "kept"})

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


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


# -- what a run tells ------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncEvent:
    """Something a run did or found: ``kind`` (``source.read``, ``valve``, ...), a
    ``level`` (``info``, ``warning``, ``error``), a ``message`` for people, and ``data``
    for log collectors (JSON values only, never a secret)."""

    kind: str
    message: str
    level: str = "info"
    data: Mapping[str, Any] = field(default_factory=dict)


class SyncObserver:
    """What a run reports while it goes. Override :meth:`event`; :meth:`apply_observer`
    may give the apply engine an observer of its own (a progress bar)."""

    def event(self, event: SyncEvent) -> None:
        """Something happened (see :class:`SyncEvent`)."""

    def apply_observer(self) -> ApplyObserver | None:
        """The apply engine's observer; ``None``: its progress becomes events."""
        return None


class _ApplyEvents(ApplyObserver):
    """The apply engine's progress as events, a line every few seconds at most."""

    def __init__(self, observer: SyncObserver, every: float = 5.0) -> None:
        self.observer = observer
        self.every = every
        self._last = 0.0

    def started(self, start: RunStart) -> None:
        if start.resumed:
            self.observer.event(
                SyncEvent(
                    "apply.resumed",
                    f"resumed plan {start.plan_id[:8]} from its journal: "
                    f"{start.tally.finished} of {start.tally.total} operations already ended",
                    data={"plan_id": start.plan_id, "finished": start.tally.finished},
                )
            )
        if start.backup_path:
            self.observer.event(
                SyncEvent(
                    "apply.backup",
                    f"backup of the phonebook as it was: {start.backup_path}",
                    data={"backup": start.backup_path},
                )
            )

    def changed(self, tally: Tally, result: OpResult) -> None:
        now = time.monotonic()
        if tally.finished < tally.total and now - self._last < self.every:
            return
        self._last = now
        self.observer.event(
            SyncEvent(
                "apply.progress",
                f"applying: {tally.finished} of {tally.total} operations ended",
                data={"finished": tally.finished, "total": tally.total},
            )
        )

    def waiting(self, seconds: float, why: str) -> None:
        if seconds >= 1:
            self.observer.event(
                SyncEvent(
                    "apply.waiting", f"waiting {seconds:.0f}s: {why}", data={"seconds": seconds}
                )
            )


# -- the result ------------------------------------------------------------------------------


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


# -- running a job ---------------------------------------------------------------------------


def run_job(
    job: Job,
    *,
    dry_run: bool = False,
    confirmed: bool = False,
    allow_deletes: int | None = None,
    readd: bool = False,
    observer: SyncObserver | None = None,
    apply_settings: ApplySettings | None = None,
    registry_path: Path | None = None,
    clock: Clock = _utcnow,
) -> SyncResult:
    """Run ``job`` once (see the module docstring); the result says how it went.

    ``confirmed`` is ``--yes`` (a ``mirror`` job needs it on every run),
    ``allow_deletes`` is ``--allow-deletes N``, ``readd`` re-adds contacts deleted by
    hand this once (as ``readd_deleted: true`` does every time). ``registry_path`` is
    the ownership registry (default: the data directory's).

    Raises :class:`~connector.errors.AlreadyRunning` when another run of the job holds
    its lock, and any :class:`~connector.errors.SipaltoSyncError` that stops the run
    before it applies (a source that cannot be read, a server that cannot be reached);
    such a run is recorded as failed in the state first.
    """
    run = _Run(
        job,
        dry_run=dry_run,
        confirmed=confirmed,
        allow_deletes=allow_deletes,
        readd=readd,
        observer=observer or SyncObserver(),
        apply_settings=apply_settings or ApplySettings(),
        registry_path=registry_path or default_registry_path(),
        clock=clock,
    )
    return run.execute()


class _Run:
    """One run of a job: holds what the steps share, so each stays short."""

    def __init__(
        self,
        job: Job,
        *,
        dry_run: bool,
        confirmed: bool,
        allow_deletes: int | None,
        readd: bool,
        observer: SyncObserver,
        apply_settings: ApplySettings,
        registry_path: Path,
        clock: Clock,
    ) -> None:
        self.job = job
        self.dry_run = dry_run
        self.confirmed = confirmed
        self.allow_deletes = allow_deletes
        self.readd = readd
        self.observer = observer
        self.apply_settings = apply_settings
        self.registry_path = registry_path
        self.clock = clock
        self.server = clean_server(job.connection.base_url)
        # As the client, the journal and the plan name the server.
        self.base_url = job.connection.base_url.rstrip("/")
        self.result = SyncResult(job.name, self.server, dry_run, clock())
        self.state: SyncState | None = None
        self.registry: OwnershipRegistry | None = None
        self.bindings: dict[str, Binding] = {}
        #: The name of this run's report files (None: the job writes no reports).
        self.run_name = (
            _report_name(job.report, job.name, self.result.started_at) if job.report else None
        )

    def say(self, kind: str, message: str, level: str = "info", **data: Any) -> None:
        self.observer.event(SyncEvent(kind, message, level, data))

    # -- the whole run -------------------------------------------------------------------

    def execute(self) -> SyncResult:
        with contextlib.ExitStack() as stack:
            if self._needs_lock():
                lock = JobLock(job_lock_path(self.job.state), job=self.job.name, server=self.server)
                stack.enter_context(lock)
            self.say(
                "run.start",
                f"{'dry run' if self.dry_run else 'run'} of job {self.job.name!r} "
                f"against {self.server}",
                server=self.server,
                dry_run=self.dry_run,
            )
            self.state = self._open_state()
            if self.state is not None:
                stack.callback(self.state.close)
            self.registry = self._open_registry()
            if self.registry is not None:
                stack.callback(self.registry.close)
            if self.state is not None and not self.dry_run:
                self.result.run_id = self.state.begin_run(dry_run=False)
            try:
                self._steps()
            except BaseException as exc:
                self._failed(exc)
                raise
            self._finish()
        return self.result

    def _needs_lock(self) -> bool:
        # A dry run writes no state, so where no state folder exists it makes none for a
        # lock either; anywhere else it waits its turn like any run.
        return not self.dry_run or self.job.state.parent.is_dir()

    def _steps(self) -> None:
        self._resume_pending()
        if self.result.outcome == OK:
            self._sync()
        self.result.finished_at = self.clock()
        self._write_reports()

    def _sync(self) -> None:
        """Read, plan, check the valves, apply and record."""
        records_read = self._read_source()
        contacts = self._read_phonebook()
        plan = self._plan(records_read, contacts)
        plan_file = self._save_plan_file(plan)
        trip = check_valves(
            plan,
            records=self.result.records,
            source_complete=self.result.source_complete,
            incomplete_reason=self.result.incomplete_reason,
            phonebook_size=len(contacts),
            bound_contacts=len({b.contact_id for b in self.bindings.values()} & _ids(contacts)),
            policy=self.job.policy,
            allow_deletes=self.allow_deletes,
            confirmed=self.confirmed,
            report=str(plan_file) if plan_file else None,
        )
        self._note_plan(plan)
        if trip is not None:
            self.result.outcome, self.result.valve, self.result.error = VALVE, trip, trip.message
            self.say("valve", trip.message, "error", valve=trip.valve, deletes=trip.deletes)
        elif self.dry_run:
            self.result.held = self._reviews(plan)
            self.say("dry_run", "dry run: nothing was written to Sipalto or to the state")
        else:
            report = self._apply(plan)
            # Records missing from a read that did not finish may only be missing from it.
            complete = self.result.source_complete
            present = _present_keys(records_read) if complete else None
            self._record(plan, report, present=present, existing=_ids(contacts))

    # -- the state and the registry ------------------------------------------------------

    def _open_state(self) -> SyncState | None:
        path = self.job.state
        if self.dry_run and not path.exists():
            self.say("state.none", f"no state yet ({path}): planned as a first run")
            return None
        state = SyncState.open(path, job=self.job.name, server=self.server, clock=self.clock)
        if state.new:
            self.say("state.new", f"new state file {path}: a first run binds by matching")
        if state.mismatch:
            self._mismatched(state)
        if state.mismatch is None:
            self.bindings = state.bindings()
        return state

    def _mismatched(self, state: SyncState) -> None:
        why = f"the state file {state.path} was {state.mismatch}"
        self.result.reset = why
        if self.dry_run:
            self.say(
                "state.mismatch",
                f"{why}; the next run resets it and binds by matching again "
                "(this dry run plans as if it had)",
                "warning",
            )
            return
        reset: Reset = state.reset()
        self.say(
            "state.reset",
            f"{why}: reset it ({reset.bindings} bindings dropped, {reset.owned} of them owned); "
            "contacts are bound by matching again and this job owns none of them, so "
            "nothing is deleted that it cannot prove it owns",
            "warning",
            dropped=reset.bindings,
            owned=reset.owned,
        )

    def _open_registry(self) -> OwnershipRegistry | None:
        if self.dry_run and not self.registry_path.exists():
            return None
        return OwnershipRegistry(self.registry_path, clock=self.clock)

    def _failed(self, exc: BaseException) -> None:
        """Record a run that an error stopped (the caller raises it on): in the state,
        and in a report when the job writes them. Secrets stay out: a library error's
        message is written for users, and anything else is named by its type only."""
        if isinstance(exc, KeyboardInterrupt):
            message = "interrupted"
        elif isinstance(exc, SipaltoSyncError):
            message = _first_line(exc)
        else:
            message = f"internal error ({type(exc).__name__})"
        self.result.outcome, self.result.error = ERROR, message
        self.result.finished_at = self.clock()
        if self.state is not None and self.result.run_id is not None:
            with contextlib.suppress(SipaltoSyncError, OSError):
                self.state.finish_run(self.result.run_id, ERROR, self.result.counts(), message)
        with contextlib.suppress(SipaltoSyncError, OSError):
            self._write_reports()

    def _finish(self) -> None:
        if self.state is not None and self.result.run_id is not None:
            self.state.finish_run(
                self.result.run_id, self.result.outcome, self.result.counts(), self.result.error
            )
        self.say(
            "run.end",
            f"run {self.result.outcome}: {_counts_text(self.result)}",
            "info" if self.result.ok else "error",
            outcome=self.result.outcome,
            counts=self.result.counts(),
        )

    # -- an apply left unfinished --------------------------------------------------------

    def _resume_pending(self) -> None:
        state = self.state
        if state is None or state.mismatch is not None:
            return
        pending = state.get_value(PENDING_PLAN)
        if pending is None:
            return
        path = Path(json.loads(pending)["path"])
        if self.dry_run:
            self.say(
                "resume.pending",
                f"an apply of plan {path.name} was left unfinished; the next run resumes it "
                "first (this dry run plans against the phonebook as it is)",
                "warning",
            )
            return
        plan = load_plan(path) if path.exists() else None
        if plan is None or not self._began(plan):
            # Never begun (it stopped at its first read): nothing of it was written.
            state.set_value(PENDING_PLAN, None)
            path.unlink(missing_ok=True)
            return
        self.say(
            "resume",
            f"resuming the apply of plan {plan.plan_id[:8]} that an earlier run left unfinished",
            "warning",
            plan_id=plan.plan_id,
        )
        report = self._run_plan(plan)
        self.result.resumed = report
        self._record(plan, report, present=None)
        if report.stopped is not None:
            self._unfinished(report, "the resumed apply")

    def _began(self, plan: Plan) -> bool:
        with Journal(journal_path(self.job.state)) as journal:
            return journal.run_info(plan.plan_id, self.base_url) is not None

    # -- reading -------------------------------------------------------------------------

    def _read_source(self) -> Sequence[SourceRecord]:
        location = self.job.source.location
        if self.job.source.is_url:
            raise ConfigError(
                f"{self.job.path}: source.path is a URL, and this version reads only files "
                "(csv, xlsx, vcf)"
            )
        assert isinstance(location, Path)
        read = read_source(location, self.job.source.options)
        rejected = sum(1 for record in read.records if not record.ok)
        self.result.source = str(location)
        self.result.records = len(read.records)
        # A file that could not be read at all raised; one read to a cut-off end did not.
        self.result.source_complete = read.cut_short is None
        self.result.incomplete_reason = read.cut_short or ""
        self.result.source_messages = read.messages
        for message in read.messages:
            self.say("source.message", message)
        if read.cut_short:
            self.say("source.incomplete", read.cut_short, level="warning")
        self.say(
            "source.read",
            f"read {_count(len(read.records), 'record')} from {location}"
            + (f" ({rejected} rejected)" if rejected else ""),
            records=len(read.records),
            rejected=rejected,
            complete=read.cut_short is None,
        )
        if any(r.key_kind == "position" for r in read.records if r.ok):
            self.result.notes.append(
                "records are keyed by their position (row:N): a row added or removed above "
                "others moves their keys; give the mapping a key column (key:) so that each "
                "record stays bound to its contact"
            )
        return read.records

    def _read_phonebook(self) -> list[Contact]:
        with self.job.connection.client() as api:
            contacts = api.list_contacts()
        self.result.phonebook_size = len(contacts)
        self.say(
            "phonebook.read",
            f"read the phonebook: {_count(len(contacts), 'contact')}",
            contacts=len(contacts),
        )
        return contacts

    # -- planning ------------------------------------------------------------------------

    def _plan(self, records: Sequence[SourceRecord], contacts: Sequence[Contact]) -> Plan:
        policy = self.job.policy
        settings = PlanSettings(
            region=policy.region,
            phones=policy.phones,
            delete=policy.delete,
            names=policy.names,
            on_phonebook_edit=policy.on_phonebook_edit,
            readd_deleted=policy.readd_deleted or self.readd,
        )
        bindings = {
            key: Bound(b.contact_id, b.fields, b.owned, b.own) for key, b in self.bindings.items()
        }
        owned = frozenset(b.contact_id for b in self.bindings.values() if b.owned)
        with cyclic_gc_paused():
            plan = make_plan(
                records,
                contacts,
                settings,
                bindings=bindings,
                foreign_ids=self._foreign_ids(),
                owned_ids=owned,
                server=self.base_url,
            )
        self.result.plan, self.result.owned = plan, len(owned)
        summary = plan.summary
        self.say(
            "plan",
            f"plan {plan.plan_id[:8]}: {summary['add']} to add, {summary['update']} to update, "
            f"{summary['delete']} to delete, {summary['unchanged']} unchanged, "
            f"{summary['review']} for review, {summary['rejected']} rejected",
            plan_id=plan.plan_id,
            summary=summary,
        )
        return plan

    def _foreign_ids(self) -> frozenset[str]:
        if self.registry is None:
            return frozenset()
        owners = self.registry.owners(self.server)
        return frozenset(cid for cid, job in owners.items() if job != self.job.name)

    def _note_plan(self, plan: Plan) -> None:
        """What the plan says about records a person should know of."""
        result = self.result
        for item in plan.items:
            if item.source is None:
                continue
            tag = item.sync
            bound = self.bindings.get(item.source.key)
            noted = _noted(item, bound.contact_id if bound else None)
            if item.action == "rejected":
                result.rejected.append(noted)
            if tag in EDITED_TAGS or self._overwrites_edit(item):
                result.edited.append(noted)
            if tag in ("gone", "readd"):
                result.gone.append(noted)
        if result.edited:
            self.say(
                "edited",
                f"{_count(len(result.edited), 'contact')} edited in Sipalto since this job "
                "last wrote them: "
                + ", ".join(f"{n.contact_id} ({n.name})" for n in result.edited[:10])
                + (" ..." if len(result.edited) > 10 else ""),
                "warning",
                contacts=[n.contact_id for n in result.edited],
            )

    def _overwrites_edit(self, item: PlanItem) -> bool:
        """An update of a bound contact whose phonebook copy is not what the job wrote:
        an edit made outside the job that the source overwrites (or builds on)."""
        if item.action != "update" or item.source is None or item.before is None:
            return False
        bound = self.bindings.get(item.source.key)
        return (
            bound is not None
            and bound.contact_id == item.id
            and _norm(bound.fields) != _norm(item.before)
        )

    def _reviews(self, plan: Plan) -> list[Noted]:
        return [_noted(item) for item in plan.items if item.action == "review" and item.source]

    # -- reports -------------------------------------------------------------------------

    def _save_plan_file(self, plan: Plan) -> Path | None:
        name = self.run_name
        if name is None or self.job.report is None:
            return None
        path = private_dir(self.job.report) / f"{name}-plan.json"
        save_plan(plan, path)
        self.result.reports.append(path)
        return path

    def _write_reports(self) -> None:
        name = self.run_name
        if name is None or self.job.report is None:
            return
        folder = private_dir(self.job.report)
        report = folder / f"{name}-report.json"
        summary = folder / f"{name}-summary.txt"
        self.result.reports.extend([report, summary])
        data = json.dumps(self.result.to_json(self.job), indent=2, ensure_ascii=False)
        atomic_write(report, data + "\n")
        atomic_write(summary, "\n".join(self.result.summary_lines()) + "\n")
        _prune_reports(folder, self.job.name, self.job.keep_reports)

    # -- applying ------------------------------------------------------------------------

    def _apply(self, plan: Plan) -> ApplyReport | None:
        if not plan.has_changes:
            self.say("apply.none", "nothing to write: the phonebook already follows the source")
            return None
        assert self.state is not None
        path = pending_plan_path(self.job.state)
        save_plan(plan, path)
        self.state.set_value(PENDING_PLAN, json.dumps({"path": str(path), "plan_id": plan.plan_id}))
        report = self._run_plan(plan)
        self.result.apply = report
        if report.stopped is not None or not report.ok:
            self._unfinished(report, "the apply")
        return report

    def _run_plan(self, plan: Plan) -> ApplyReport:
        apply_observer = self.observer.apply_observer() or _ApplyEvents(self.observer)
        report = run_plan(
            self.job.connection,
            plan_target(plan),
            self.apply_settings,
            observer=apply_observer,
            journal_path=journal_path(self.job.state),
        )
        done = Counter(r.op.action for r in report.results if r.state == DONE)
        self.say(
            "apply.done",
            f"applied plan {plan.plan_id[:8]}: {done['add']} added, {done['update']} updated, "
            f"{done['delete']} deleted" + ("" if report.ok else " (not finished)"),
            "info" if report.ok else "error",
            plan_id=plan.plan_id,
            added=done["add"],
            updated=done["update"],
            deleted=done["delete"],
            ok=report.ok,
        )
        return report

    def _unfinished(self, report: ApplyReport, what: str) -> None:
        left = sum(1 for r in report.results if r.state not in (DONE, SKIPPED))
        why = f"stopped: {report.stopped}" if report.stopped else "not as planned"
        self.result.outcome = ERROR
        self.result.error = (
            f"{what} did not finish ({why}; {_count(left, 'operation')} not done): "
            "the next run resumes or retries it"
        )
        self.say("apply.unfinished", self.result.error, "error", left=left)

    # -- recording -----------------------------------------------------------------------

    def _record(
        self,
        plan: Plan,
        report: ApplyReport | None,
        *,
        present: frozenset[str] | None,
        existing: set[str] | None = None,
    ) -> None:
        """Record what ``plan``'s apply did (``report``; None: nothing to apply) in the
        state, in one transaction, and the job's ownership in the registry.

        ``present``: every key of the source as read (rejected records included), and
        ``existing`` the phonebook's ids as planned, to let go of records that left the
        source; None for a resumed plan, whose source was not read.
        """
        state, registry = self.state, self.registry
        assert state is not None and registry is not None
        steps = _Steps(
            self.bindings,
            {hold.key for hold in state.held()},
            adopt=self.job.policy.adopt,
            proven=registry.claimed(self.server, self.job.name),
        )
        results = {r.op.idx: r for r in report.results} if report else {}
        for idx, item in enumerate(plan.items):
            steps.item(item, results.get(idx))
        if present is not None:
            deletes_owned = self.job.policy.delete in ("owned", "mirror")
            steps.departed(present, existing or set(), deletes_owned=deletes_owned)
        self._claim(steps)
        # An apply that stopped part way (out of time, interrupted) is resumed by the
        # next run; one that ended, even with failures, is done with: the next plan
        # retries what it did not do. (No apply, no pending plan to let go of.)
        finished = report is not None and report.stopped is None
        with state.transaction():
            steps.carry_out(state)
            if finished:
                state.set_value(PENDING_PLAN, None)
        if finished:
            pending_plan_path(self.job.state).unlink(missing_ok=True)
        if steps.changes:
            self.bindings = state.bindings()
        self._settle_ownership()
        items = {item.source.key: item for item in plan.items if item.source is not None}
        self.result.held = [_held(hold, items.get(hold.key)) for hold in state.held()]
        self.result.owned = sum(1 for b in self.bindings.values() if b.owned)

    def _claim(self, steps: _Steps) -> None:
        """Claim what the steps bind as owned, before they do; a contact another job owns
        (a claim refused) is bound without owning it."""
        assert self.registry is not None
        wanted = steps.owned_ids()
        if not wanted:
            return
        try:
            self.registry.claim(self.server, self.job.name, wanted)
        except OwnershipConflict as exc:
            steps.disown(frozenset(exc.taken))
            self.result.notes.append(str(exc))
            self.registry.claim(self.server, self.job.name, steps.owned_ids())

    def _settle_ownership(self) -> None:
        """The registry made to say exactly what the state owns."""
        assert self.registry is not None
        owned = frozenset(b.contact_id for b in self.bindings.values() if b.owned)
        claimed = self.registry.claimed(self.server, self.job.name)
        if owned - claimed:
            try:
                self.registry.claim(self.server, self.job.name, owned - claimed)
            except OwnershipConflict as exc:
                self.result.notes.append(str(exc))
        if claimed - owned:
            self.registry.release(self.server, self.job.name, claimed - owned)


# -- recording, step by step -----------------------------------------------------------------


@dataclass
class _Bind:
    key: str
    contact_id: str
    fields: ContactFields
    owned: bool
    #: The job's own version when it is not ``fields`` (see ``Binding.own``).
    own: ContactFields | None = None


class _Steps:
    """The state changes a plan's outcome calls for, collected before any is made so
    that ownership can be claimed first and all of them made in one transaction."""

    def __init__(
        self,
        bindings: Mapping[str, Binding],
        held: set[str],
        *,
        adopt: bool,
        proven: frozenset[str],
    ) -> None:
        self.bindings = bindings
        self.held = held
        self.adopt = adopt
        #: Contacts the registry says this job owns: proof enough after a lost state.
        self.proven = proven
        self.binds: list[_Bind] = []
        self.confirms: list[tuple[str, ContactFields, ContactFields | None]] = []
        self.holds: dict[str, str] = {}
        self.releases: set[str] = set()
        self.forgotten: set[str] = set()
        self.unbinds: set[str] = set()

    def item(self, item: PlanItem, result: OpResult | None) -> None:
        done = result is not None and (
            result.state == DONE
            or (result.state == SKIPPED and result.reason == "already as planned")
        )
        key = item.source.key if item.source else None
        if item.action == "delete" and item.id is not None:
            if done:
                self.forgotten.add(item.id)
            return
        if key is None:
            return
        if item.action == "review":
            self.holds[key] = item.reason or "held for review"
            return
        self.releases.add(key)
        if item.action == "add" and done and result is not None and result.new_id:
            assert item.after is not None
            self.binds.append(_Bind(key, result.new_id, item.after, True))
        elif item.action == "update" and done and item.id and item.after:
            owned = self._owned(key, item.id)
            self.binds.append(_Bind(key, item.id, item.after, owned, item.own))
        elif item.action == "unchanged" and item.id and item.before and item.sync == "kept":
            # A kept edit is the new baseline, so it is not reported again; the job's own
            # version stays what the source made, so a later change in the source is made
            # on top of the edit (the planner's rebase) rather than written over it.
            bound = self.bindings.get(key)
            if bound is not None and bound.contact_id == item.id:
                self.confirms.append((key, item.before, item.own or bound.base))
        elif item.action == "unchanged" and item.id and item.before:
            self._unchanged(key, item.id, item.before)

    def _owned(self, key: str, contact_id: str) -> bool:
        bound = self.bindings.get(key)
        if bound is not None and bound.contact_id == contact_id:
            return bound.owned
        return self.adopt or contact_id in self.proven

    def _unchanged(self, key: str, contact_id: str, fields: ContactFields) -> None:
        bound = self.bindings.get(key)
        if bound is None or bound.contact_id != contact_id:
            self.binds.append(_Bind(key, contact_id, fields, self._owned(key, contact_id)))
        elif bound.fields != fields:
            # A phonebook that came to say what the source says: what it holds now is
            # the baseline.
            self.confirms.append((key, fields, None))

    def departed(self, present: frozenset[str], existing: set[str], *, deletes_owned: bool) -> None:
        """Let go of records that left the source: their holds are released and their
        bindings dropped, so that their contacts are free for other records to match.

        Kept: the binding of an owned contact that is still in the phonebook under a
        policy that deletes owned contacts (its delete failed, or is still to come), so
        the job goes on knowing it owns it.
        """
        for key in self.held - present:
            self.releases.add(key)
        for key, bound in self.bindings.items():
            if key in present or bound.contact_id in self.forgotten:
                continue
            if bound.owned and deletes_owned and bound.contact_id in existing:
                continue
            self.unbinds.add(key)
            self.releases.add(key)

    def owned_ids(self) -> frozenset[str]:
        return frozenset(b.contact_id for b in self.binds if b.owned)

    @property
    def changes(self) -> bool:
        """True when carrying out changes any binding."""
        return bool(self.binds or self.confirms or self.forgotten or self.unbinds)

    def disown(self, ids: frozenset[str]) -> None:
        self.binds = [replace(b, owned=False) if b.contact_id in ids else b for b in self.binds]

    def carry_out(self, state: SyncState) -> None:
        """Make the changes (the caller holds the transaction)."""
        for contact_id in sorted(self.forgotten):
            gone = state.forget_contact(contact_id)
            if gone is not None:
                self.releases.add(gone.key)
                self.holds.pop(gone.key, None)
        for key in sorted(self.unbinds):
            state.unbind(key)
        for bind in self.binds:
            self._bind(state, bind)
        for key, fields, own in self.confirms:
            state.confirm(key, fields, own=own)
        # Only keys held now: a run of thousands of records releases a handful at most.
        for key in sorted((self.releases - set(self.holds)) & self.held):
            state.release(key)
        for key, reason in self.holds.items():
            state.hold(key, reason)

    @staticmethod
    def _bind(state: SyncState, bind: _Bind) -> None:
        try:
            state.bind(bind.key, bind.contact_id, bind.fields, owned=bind.owned, own=bind.own)
        except BindingConflict as exc:
            # The contact moved to another record (the planner pinned it there): the
            # newest fact wins, so the old key lets go of it.
            state.unbind(exc.other_key)
            state.bind(bind.key, bind.contact_id, bind.fields, owned=bind.owned, own=bind.own)


# -- status ----------------------------------------------------------------------------------


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
            "last_run": _run_json(self.last_run),
            "last_failure": _run_json(self.last_failure),
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


# -- helpers -----------------------------------------------------------------------------------


def _ids(contacts: Sequence[Contact]) -> set[str]:
    return {contact.id for contact in contacts}


def _present_keys(records: Sequence[SourceRecord]) -> frozenset[str]:
    return frozenset(record.key for record in records)


def _norm(fields: ContactFields) -> ContactFields:
    return ContactFields(*(value.strip() for value in (fields.name, *_slots(fields))))


def _slots(fields: ContactFields) -> tuple[str, str, str]:
    return (fields.phone1, fields.phone2, fields.phone3)


def _noted(item: PlanItem, bound_id: str | None = None) -> Noted:
    """``item``'s record; ``bound_id``, the contact its key is bound to, names the
    contact of an item that has none of its own (a review)."""
    assert item.source is not None
    fields = item.after or item.before
    name = item.source.name or (fields.name if fields else "")
    return Noted(item.source.key, item.source.location, name, item.reason, item.id or bound_id)


def _held(hold: Hold, item: PlanItem | None) -> Noted:
    if item is None:
        return Noted(hold.key, "", "", hold.reason)
    return replace(_noted(item), reason=hold.reason)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


_STAMP = "%Y%m%dT%H%M%SZ"


def _report_name(folder: Path, job: str, moment: datetime) -> str:
    """``JOB-20250101T020000Z``, with ``-2``, ``-3`` for a second run in the same second."""
    base = f"{job}-{moment.astimezone(timezone.utc).strftime(_STAMP)}"
    name, n = base, 1
    while folder.is_dir() and any(folder.glob(f"{_glob_escape(name)}-*")):
        n += 1
        name = f"{base}-{n}"
    return name


def _glob_escape(text: str) -> str:
    """``text`` with the characters ``glob`` reads specially made literal."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _report_files(folder: Path, job: str) -> dict[tuple[str, int], list[Path]]:
    """The job's report files in ``folder``, by run (its time, then its number)."""
    pattern = re.compile(
        re.escape(job) + r"-(\d{8}T\d{6}Z)(?:-(\d+))?-(?:plan\.json|report\.json|summary\.txt)"
    )
    runs: dict[tuple[str, int], list[Path]] = {}
    for path in folder.iterdir():
        found = pattern.fullmatch(path.name)
        if found:
            run = (found.group(1), int(found.group(2) or 1))
            runs.setdefault(run, []).append(path)
    return runs


def _prune_reports(folder: Path, job: str, keep: int) -> None:
    """Remove the job's reports but the newest ``keep`` runs' (other files are left)."""
    runs = _report_files(folder, job)
    for run in sorted(runs)[:-keep]:
        for path in runs[run]:
            path.unlink(missing_ok=True)


def _counts_text(result: SyncResult) -> str:
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
            f"Source: {_count(result.records, 'record')} read from {result.source}{complete}."
        )
    if result.plan is not None or result.records:
        lines.append(f"Phonebook: {_count(result.phonebook_size, 'contact')}.")
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
        lines.append(f"Owned by this job: {_count(result.owned, 'contact')}.")
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


def _run_json(record: RunRecord | None) -> dict[str, Any] | None:
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
