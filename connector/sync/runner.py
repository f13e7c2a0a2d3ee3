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
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from adapters.mapping import Mapping as SourceMapping
from connector.apply.journal import DONE, SKIPPED, Journal
from connector.apply.report import ApplyReport
from connector.apply.run import ApplySettings, run_plan
from connector.apply.target import plan_target
from connector.errors import SipaltoSyncError
from connector.files import atomic_write
from connector.model import Contact, ContactFields, SourceRecord
from connector.paths import private_dir
from connector.reconcile.plan import Bound, Plan, PlanItem, PlanSettings
from connector.reconcile.planfile import load_plan, save_plan
from connector.reconcile.planner import make_plan
from connector.reconcile.workflow import SourceRead, cyclic_gc_paused, read_source
from connector.sync.events import ApplyEvents, SyncEvent, SyncObserver
from connector.sync.files import (
    PENDING_PLAN,
    JobLock,
    job_lock_path,
    journal_path,
    pending_plan_path,
)
from connector.sync.incremental import INCREMENTAL_MARK, IncrementalMark, read_crm
from connector.sync.job import Job
from connector.sync.recording import Recording
from connector.sync.reports import prune_reports, report_name
from connector.sync.result import Noted, SyncResult, counts_text, held_note, noted, plural
from connector.sync.state import (
    ERROR,
    OK,
    VALVE,
    Binding,
    OwnershipConflict,
    OwnershipRegistry,
    Reset,
    SyncState,
    clean_server,
    default_registry_path,
)
from connector.sync.valves import check_valves
from connector.ui.plan_html import plan_html_chunks

__all__ = ["run_job"]

#: The ``sync`` tags of plan items about contacts edited outside the job.
EDITED_TAGS = frozenset({"edited", "conflict", "kept"})

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# -- running a job ---------------------------------------------------------------------------


def run_job(
    job: Job,
    *,
    dry_run: bool = False,
    confirmed: bool = False,
    allow_deletes: int | None = None,
    readd: bool = False,
    full_read: bool = False,
    observer: SyncObserver | None = None,
    apply_settings: ApplySettings | None = None,
    registry_path: Path | None = None,
    clock: Clock = _utcnow,
) -> SyncResult:
    """Run ``job`` once (see the module docstring); the result says how it went.

    ``confirmed`` is ``--yes`` (a ``mirror`` job needs it on every run),
    ``allow_deletes`` is ``--allow-deletes N``, ``readd`` re-adds contacts deleted by
    hand this once (as ``readd_deleted: true`` does every time), ``full_read`` reads a
    CRM with an ``incremental`` mapping in full this once. ``registry_path`` is
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
        full_read=full_read,
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
        full_read: bool = False,
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
        self.full_read = full_read
        #: Where an incremental CRM read got to, kept once the run has done all it planned.
        self.new_mark: IncrementalMark | None = None
        #: The name of this run's report files (None: the job writes no reports).
        self.run_name = (
            report_name(job.report, job.name, self.result.started_at) if job.report else None
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
            partial=self.result.since is not None,
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
            # Records missing from a read that did not finish, or from an incremental one,
            # may only be missing from it.
            whole = self.result.source_complete and self.result.since is None
            present = _present_keys(records_read) if whole else None
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
            f"run {self.result.outcome}: {counts_text(self.result)}",
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
        if isinstance(location, str):
            read = self._read_crm(location)
        else:
            read = read_source(location, self.job.source.options)
        rejected = sum(1 for record in read.records if not record.ok)
        # A CRM's URL is shown as the server is: without userinfo or a query.
        shown = clean_server(location) if isinstance(location, str) else str(location)
        self.result.source = shown
        self.result.records = len(read.records)
        # A file that could not be read at all raised; one read to a cut-off end did not.
        self.result.source_complete = read.cut_short is None
        self.result.incomplete_reason = read.cut_short or ""
        self.result.source_messages = read.messages
        for message in read.messages:
            self.say("source.message", message)
        if read.cut_short:
            self.say("source.incomplete", read.cut_short, level="warning")
        since = f", changed since {self.result.since}" if self.result.since else ""
        self.say(
            "source.read",
            f"read {plural(len(read.records), 'record')} from {shown}{since}"
            + (f" ({rejected} rejected)" if rejected else ""),
            records=len(read.records),
            rejected=rejected,
            complete=read.cut_short is None,
            since=self.result.since,
        )
        if any(r.key_kind == "position" for r in read.records if r.ok):
            self.result.notes.append(
                "records are keyed by their position (row:N): a row added or removed above "
                "others moves their keys; give the mapping a key column (key:) so that each "
                "record stays bound to its contact"
            )
        return read.records

    def _read_crm(self, url: str) -> SourceRead:
        written = self.job.source.options.mapping
        # The job file's schema refuses a URL without a mapping.
        assert written is not None and not isinstance(written, SourceMapping)
        crm = read_crm(
            url,
            written,
            state=self.state,
            now=self.clock().timestamp(),
            full_read=self.full_read,
            say=self.say,
        )
        self.result.since, self.new_mark = crm.since, crm.mark
        return crm.read

    def _read_phonebook(self) -> list[Contact]:
        with self.job.connection.client() as api:
            contacts = api.list_contacts()
        self.result.phonebook_size = len(contacts)
        self.say(
            "phonebook.read",
            f"read the phonebook: {plural(len(contacts), 'contact')}",
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
                partial=self.result.since is not None,
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
            note = noted(item, bound.contact_id if bound else None)
            if item.action == "rejected":
                result.rejected.append(note)
            if tag in EDITED_TAGS or self._overwrites_edit(item):
                result.edited.append(note)
            if tag in ("gone", "readd"):
                result.gone.append(note)
        if result.edited:
            self.say(
                "edited",
                f"{plural(len(result.edited), 'contact')} edited in Sipalto since this job "
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
        return [noted(item) for item in plan.items if item.action == "review" and item.source]

    # -- reports -------------------------------------------------------------------------

    def _save_plan_file(self, plan: Plan) -> Path | None:
        name = self.run_name
        if name is None or self.job.report is None:
            return None
        path = private_dir(self.job.report) / f"{name}-plan.json"
        save_plan(plan, path)
        # The same plan as a web page beside it, for whoever signs the run off.
        page = path.with_suffix(".html")
        atomic_write(page, plan_html_chunks(plan, source=str(self.job.source.location)))
        self.result.reports.extend([path, page])
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
        prune_reports(folder, self.job.name, self.job.keep_reports)

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
        apply_observer = self.observer.apply_observer() or ApplyEvents(self.observer)
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
            f"{what} did not finish ({why}; {plural(left, 'operation')} not done): "
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
        steps = Recording(
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
            if self.new_mark is not None and (report is None or report.stopped is None):
                # Only a run that did all it planned moves the mark: a later one must see
                # again what this one left undone.
                state.set_value(INCREMENTAL_MARK, self.new_mark.to_text())
        if finished:
            pending_plan_path(self.job.state).unlink(missing_ok=True)
        if steps.changes:
            self.bindings = state.bindings()
        self._settle_ownership()
        items = {item.source.key: item for item in plan.items if item.source is not None}
        self.result.held = [held_note(hold, items.get(hold.key)) for hold in state.held()]
        self.result.owned = sum(1 for b in self.bindings.values() if b.owned)

    def _claim(self, steps: Recording) -> None:
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


# -- helpers -----------------------------------------------------------------------------------


def _ids(contacts: Sequence[Contact]) -> set[str]:
    return {contact.id for contact in contacts}


def _present_keys(records: Sequence[SourceRecord]) -> frozenset[str]:
    return frozenset(record.key for record in records)


def _norm(fields: ContactFields) -> ContactFields:
    return ContactFields(*(value.strip() for value in (fields.name, *_slots(fields))))


def _slots(fields: ContactFields) -> tuple[str, str, str]:
    return (fields.phone1, fields.phone2, fields.phone3)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
