"""The apply engine: carry out a plan's writes exactly, in one run, and never twice.

What it guarantees (each point is a test in ``tests/test_apply*.py``):

* only the plan's ``add``/``update``/``delete`` items are ever written; ``review``,
  ``rejected``, ``duplicate`` and ``unchanged`` items are not operations at all;
* stale plans are caught before writing: an update/delete whose target no longer looks
  like the plan's ``before`` is skipped and reported, never overwritten; an add whose
  contact already exists is skipped;
* a run is recorded in the journal only once the phonebook has been read, together with
  the backup of that phonebook and each add's *baseline* (the identical contacts that
  existed before anything was sent), so a run that could not even read changes nothing;
* every operation's state is journalled (``connector.apply.journal``) before and after its
  request, so a run killed anywhere resumes without repeating what was done;
* one run keeps going until every operation is done, deliberately skipped, or has failed
  for good (a 4xx that will not change); what the server or the network refused for now
  is sent again in rounds, with backoff while no round makes progress, within a time
  budget (``max_time``);
* a write whose outcome is unknown (a lost answer, a 5xx, a dropped connection, a crash
  mid-request) is settled by reading the phonebook, many at once per read. An add has
  no id to check by: it is recognised by its exact fields minus its baseline, and it is
  sent again only when a read taken at least ``settle_delay`` seconds after it was sent
  still lacks it, because a server may carry out a write long after the client gave up;
* the run ends only when a final read agrees with the plan. That read is taken at least
  ``settle_delay`` after the last send of any add sent more than once, learns the new
  contacts' ids (recorded as owned by the tool), and removes a second copy of an add
  when a slow original and its re-send both landed;
* Ctrl-C stops handing out work and waits for the requests in flight before returning,
  so nothing writes to the journal or the client once the caller closes them.

The module is longer than the project's usual bound: the engine is one state machine
(rounds, settling, sending, waiting) over one journal, and its parts share that state.
What a run reports lives in :mod:`connector.apply.report`; settling is the next seam.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from connector.api.client import SipaltoClient
from connector.apply.backup import write_backup
from connector.apply.journal import (
    DONE,
    FAILED,
    FINAL,
    PENDING,
    SENDING,
    SKIPPED,
    UNKNOWN,
    Journal,
    OpRow,
    RunInfo,
)
from connector.apply.report import ENDED, ApplyObserver, ApplyReport, OpResult, RunStart, Tally
from connector.apply.target import Operation, PlanTarget
from connector.errors import (
    ApiError,
    Forbidden,
    NetworkError,
    NotFound,
    OutcomeUnknown,
    PlanError,
    RateLimited,
    SipaltoSyncError,
    Unauthorized,
)
from connector.model import Contact, ContactFields, phonebook_fingerprint

log = logging.getLogger(__name__)

#: Seconds a server may take to carry out a write after the client gave up on it.
DEFAULT_SETTLE_DELAY = 30.0
#: Seconds one run may take before it stops cleanly and says what is left.
DEFAULT_MAX_TIME = 3600.0

#: Why a run stopped before its end (``ApplyReport.stopped``).
INTERRUPTED = "interrupted"
OUT_OF_TIME = "out of time"
STOPPED_EARLY = "stopped early"

#: States in which an operation needs nothing more from this run.
#: Errors that say a request was not carried out and may simply go again later.
_NOT_SENT = (NetworkError, RateLimited)


def _norm(fields: ContactFields) -> ContactFields:
    # The server may keep or trim surrounding blanks; neither is a change of ours.
    return ContactFields(
        fields.name.strip(), fields.phone1.strip(), fields.phone2.strip(), fields.phone3.strip()
    )


def _same(a: ContactFields | None, b: ContactFields | None) -> bool:
    if a is None or b is None:
        return a is b
    return _norm(a) == _norm(b)


# -- the engine --------------------------------------------------------------------------


class ApplyEngine:
    """Runs a plan's operations against Sipalto through a journal.

    ``concurrency`` bounds the requests in flight; the client's shared pacer keeps them
    under the server's rate limit. ``settle_delay`` is how long a server may take to
    carry out a write after the client stopped waiting for it; ``max_time`` bounds the
    whole run. ``clock`` (Unix time: send times are kept in the journal across runs) and
    ``sleep`` are injectable for tests.
    """

    #: Backoff between rounds that made no progress: from this, doubling, up to the max.
    ROUND_BACKOFF = 1.0
    MAX_ROUND_BACKOFF = 60.0

    def __init__(
        self,
        client: SipaltoClient,
        journal: Journal,
        *,
        backup_dir: Path,
        concurrency: int = 4,
        settle_delay: float = DEFAULT_SETTLE_DELAY,
        max_time: float = DEFAULT_MAX_TIME,
        observer: ApplyObserver | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.journal = journal
        self.backup_dir = backup_dir
        self.concurrency = max(1, concurrency)
        self.settle_delay = max(0.0, settle_delay)
        self.max_time = max_time
        self.observer = observer or ApplyObserver()
        self._clock = clock
        self._sleep = sleep
        # Reads while waiting for slow writes are spaced out: one read settles many.
        self._read_interval = max(0.05, self.settle_delay / 10)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._halt = threading.Event()

    # -- one run ---------------------------------------------------------------------

    def run(self, target: PlanTarget) -> ApplyReport:
        """Apply (or resume applying) ``target``; returns the report.

        Errors before the run is recorded (the first read failing, the plan changed
        since it was first applied) are raised; after that, every outcome is reported.
        """
        self._begin_run(target)
        report = self._report
        if not self._ops:
            return report
        before = (self.client.logins, self.client.retried, self.client.pacer.throttled)
        info = self.journal.run_info(self._plan_id, self._server)
        if info is not None:
            self._check_same_operations()
        try:
            contacts, read_at = self._first_read()
            if info is not None and info.completed_at is not None:
                self._already_applied(info, contacts)
            else:
                self._start(target, info, contacts, read_at)
                self._drive()
        except KeyboardInterrupt:
            report.stopped = INTERRUPTED
        rows = self._load()
        report.results = [self._result(self._ops[i], rows[i]) for i in sorted(rows)]
        self.journal.record_owned(self._server, self._plan_id, report.created)
        report.logins = self.client.logins - before[0]
        report.requests_retried = self.client.retried - before[1]
        report.requests_throttled = self.client.pacer.throttled - before[2]
        return report

    def _begin_run(self, target: PlanTarget) -> None:
        self._plan_id, self._server = target.plan_id, self.client.base_url
        self._ops = {op.idx: op for op in target.operations}
        self._report = ApplyReport(plan_id=self._plan_id, server=self._server, results=[])
        self._rows: dict[int, OpRow] = {}
        self._states: dict[int, str] = {}
        self._deadline = self._clock() + self.max_time
        self._last_read = float("-inf")
        self._abort: SipaltoSyncError | None = None
        self._streak = 0
        self._removing: dict[str, Operation] = {}
        self._stop.clear()
        self._halt.clear()

    def _check_same_operations(self) -> None:
        rows = self.journal.operations(self._plan_id, self._server)
        if {row.idx for row in rows} != set(self._ops):
            raise PlanError(
                f"plan {self._plan_id} was changed since it was first applied (its operations "
                "differ from the journal's); make a new plan"
            )

    def _first_read(self) -> tuple[list[Contact], float]:
        # Not retried here beyond the client's own retries: nothing is recorded or
        # written yet, so a failure is best reported at once (wrong password, no server).
        read_at = self._clock()
        return self.client.list_contacts(), read_at

    def _start(
        self, target: PlanTarget, info: RunInfo | None, contacts: list[Contact], read_at: float
    ) -> None:
        """Record the run (new) or take it up again (resumed); then settle with the read."""
        report = self._report
        if info is None:
            if target.base and phonebook_fingerprint(contacts) != target.base:
                report.phonebook_changed = True
            report.backup_path = str(self._backup(contacts))
            by_fields = _index_by_fields(contacts)
            baselines = [
                (op.idx, by_fields.get(_norm(op.after), []))
                for op in self._ops.values()
                if op.action == "add" and op.after is not None
            ]
            self.journal.begin(
                self._plan_id,
                self._server,
                [(op.idx, op.action, op.contact_id) for op in self._ops.values()],
                backup_path=report.backup_path,
                baselines=baselines,
            )
        else:
            report.resumed = True
            report.backup_path = info.backup_path
            if report.backup_path is None:  # begun by an older version before its backup
                report.backup_path = str(self._backup(contacts))
                self.journal.set_backup_path(self._plan_id, self._server, report.backup_path)
        self._load()
        self.observer.started(
            RunStart(self._plan_id, self._server, report.resumed, report.backup_path, self._tally())
        )
        self._settle(contacts, read_at, retry_failed=True)

    def _backup(self, contacts: Sequence[Contact]) -> Path:
        return write_backup(
            contacts,
            self.backup_dir,
            server=self._server,
            reason=f"before applying plan {self._plan_id}",
        )

    def _already_applied(self, info: RunInfo, contacts: Sequence[Contact]) -> None:
        """A plan completed before is never applied again; say whether it still holds."""
        report = self._report
        report.applied_at = info.completed_at
        report.backup_path = info.backup_path
        current = {c.id: c.fields for c in contacts}
        present = {_norm(c.fields) for c in contacts}
        for row in self._load().values():
            op = self._ops[row.idx]
            if row.state != DONE:
                continue
            if op.action == "add" and row.new_id and not _same(current.get(row.new_id), op.after):
                report.undone.append(f"{op.label}: no longer in the phonebook as added")
            elif op.action == "update" and not _same(current.get(op.contact_id or ""), op.after):
                report.undone.append(f"{op.label}: changed again since")
            elif op.action == "delete" and (
                op.contact_id in current or (op.before is not None and _norm(op.before) in present)
            ):
                report.undone.append(f"{op.label}: back in the phonebook")

    # -- the rounds ----------------------------------------------------------------------

    def _drive(self) -> None:
        """Send, read, settle, and again, until a final read agrees or the run must stop."""
        stalled = 0
        while self._abort is None:
            finished = self._tally().finished
            sent = self._send_pending(stalled)
            if sent is None or self._abort is not None:
                break
            wake = self._next_read(sent)
            if wake is not None:
                when, why = wake
                if not self._pause_until(when, why):
                    break
                read = self._read()
                if read is None:
                    break
                contacts, read_at = read
                self._settle(contacts, read_at)
                final = self._all_ended() and read_at >= self._quiet_until()
                if final and self._finish(contacts):
                    break
            if sent:
                stalled = 0 if self._tally().finished > finished else stalled + 1
        if self._abort is not None:
            self._report.stopped = STOPPED_EARLY
            self._report.notes.append(f"stopped early: {self._abort}")

    def _send_pending(self, stalled: int) -> bool | None:
        """Send every pending operation; False if there were none, None if out of time."""
        todo = [self._ops[i] for i, row in sorted(self._rows.items()) if row.state == PENDING]
        if not todo:
            return False
        if stalled:
            backoff = self._backoff(stalled)
            if not self._pause(backoff, "the last round made no progress; trying again"):
                return None
        if self._clock() >= self._deadline:
            self._out_of_time()
            return None
        self._execute(todo)
        self._load()
        return True

    def _next_read(self, sent: bool) -> tuple[float, str] | None:
        """When the next read can settle something, and why; None when only sending can."""
        now = self._clock()
        rows = self._rows.values()
        unsettled = [row for row in rows if row.state in (SENDING, UNKNOWN)]
        if unsettled:
            if sent:  # one read at once confirms every write of the round that landed
                return now, "checking the writes whose answer was lost"
            due = min(self._due(row) for row in unsettled)
            return (
                max(due, self._last_read + self._read_interval),
                f"letting slow writes land ({len(unsettled)} not seen yet)",
            )
        if any(row.state == PENDING for row in rows):
            return None
        if any(self._unseen(row) and self._last_read < (row.sent_at or 0.0) for row in rows):
            return now, "reading the new contacts' ids"
        return max(now, self._quiet_until()), "letting slow writes land before the final check"

    def _unseen(self, row: OpRow) -> bool:
        """An add answered OK whose contact no read has shown yet."""
        return self._ops[row.idx].action == "add" and row.state == DONE and not row.new_id

    def _due(self, row: OpRow) -> float:
        if self._ops[row.idx].action != "add":
            return float("-inf")  # an update or delete is checked by any read
        return (row.sent_at or 0.0) + self.settle_delay

    def _quiet_until(self) -> float:
        """The earliest a final read may be taken: no earlier send of an add may land after.

        An add sent more than once may have a slow copy still on its way; an add answered
        OK but not seen yet may still appear.
        """
        times = [float("-inf")]
        for row in self._rows.values():
            resent = self._ops[row.idx].action == "add" and row.deliveries > 1
            if resent or self._unseen(row):
                times.append((row.sent_at or 0.0) + self.settle_delay)
        return max(times)

    def _all_ended(self) -> bool:
        return all(row.state in ENDED for row in self._rows.values())

    def _read(self) -> tuple[list[Contact], float] | None:
        """Read the phonebook, trying again while the failure may pass; None if it must stop."""
        failures = 0
        while True:
            read_at = self._clock()
            try:
                return self.client.list_contacts(), read_at
            except SipaltoSyncError as exc:
                if _permanent(exc):
                    self._abort = exc
                    return None
                failures += 1
                why = f"reading the phonebook failed ({exc}); trying again"
                if not self._pause(self._backoff(failures), why):
                    return None

    def _finish(self, contacts: Sequence[Contact]) -> bool:
        """At a final read: remove second copies of adds; True when the run is over."""
        present = {c.id for c in contacts}
        for contact_id, op in self._removing.items():
            if contact_id not in present:  # a removal whose answer was lost did happen
                self._report.duplicates_removed.append(_duplicate_text(contact_id, op))
        self._removing.clear()  # those still present are copies found again below
        extras = self._duplicates(contacts)
        if not extras:
            if all(row.state in FINAL for row in self._rows.values()):
                self.journal.complete(self._plan_id, self._server)
            return True
        # Stop at the first copy that cannot be removed; else read again to confirm.
        return any(not self._remove_duplicate(contact_id, op) for contact_id, op in extras)

    def _duplicates(self, contacts: Sequence[Contact]) -> list[tuple[str, Operation]]:
        """Contacts that are a second copy of one of this run's adds.

        Only for an add sent more than once (so it may have landed more than once), done
        and identified: an identical contact that is in neither the baseline nor claimed
        by another operation is a copy, up to one fewer than the sends that may have
        landed. An add that the plan itself holds twice is left alone.
        """
        by_fields = _index_by_fields(contacts)
        claimed = {row.new_id for row in self._rows.values() if row.new_id}
        groups: dict[ContactFields, list[OpRow]] = defaultdict(list)
        for row in self._rows.values():
            op = self._ops[row.idx]
            if op.action == "add" and op.after is not None:
                groups[_norm(op.after)].append(row)
        extras = []
        for fields, rows in groups.items():
            row = rows[0]
            if len(rows) > 1 or row.state != DONE or not row.new_id or row.deliveries < 2:
                continue
            copies = [
                i for i in by_fields.get(fields, []) if i not in claimed and i not in row.baseline
            ]
            for contact_id in copies[-(row.deliveries - 1) :]:
                extras.append((contact_id, self._ops[row.idx]))
        return extras

    def _remove_duplicate(self, contact_id: str, op: Operation) -> bool:
        """Delete a second copy; False when it cannot be done (reported as unresolved)."""
        try:
            self.client.delete_contact(contact_id)
        except NotFound:
            pass
        except OutcomeUnknown:
            self._removing[contact_id] = op  # the next read says whether it went
            return True
        except _NOT_SENT as exc:
            why = f"removing a second copy of {op.label} failed ({exc}); trying again"
            return self._pause(self._backoff(1), why)
        except SipaltoSyncError as exc:
            self._report.unresolved.append(
                f"contact {contact_id} is a second copy of {op.label} "
                f"and could not be removed: {exc}"
            )
            return False
        log.info("removed contact %s, a second copy of %s", contact_id, op.label)
        self._report.duplicates_removed.append(_duplicate_text(contact_id, op))
        return True

    # -- waiting -----------------------------------------------------------------------------

    def _backoff(self, failures: int) -> float:
        return min(self.MAX_ROUND_BACKOFF, self.ROUND_BACKOFF * 2 ** (failures - 1))

    def _pause(self, seconds: float, why: str) -> bool:
        return self._pause_until(self._clock() + seconds, why)

    def _pause_until(self, when: float, why: str) -> bool:
        """Sleep until ``when``; False (out of time) when that is past the deadline."""
        if when > self._deadline:
            self._out_of_time()
            return False
        seconds = when - self._clock()
        if seconds > 0:
            self.observer.waiting(seconds, why)
            self._sleep(seconds)
        return True

    def _out_of_time(self) -> None:
        self._report.stopped = OUT_OF_TIME

    # -- settling: compare the journal with a fresh read ---------------------------------

    def _settle(
        self, contacts: Sequence[Contact], read_at: float, *, retry_failed: bool = False
    ) -> None:
        """Bring every operation's state in line with the phonebook as read at ``read_at``.

        ``retry_failed`` makes failed operations pending again (at the start of a run).
        """
        current = {c.id: c.fields for c in contacts}
        by_fields = _index_by_fields(contacts)
        claimed = {row.new_id for row in self._rows.values() if row.new_id}
        # Adds already answered OK claim their contacts first, then the uncertain ones,
        # then those not yet sent: an unsent add must never take a contact we created.
        for row in sorted(self._rows.values(), key=lambda r: (_settle_rank(r), r.idx)):
            op = self._ops[row.idx]
            if row.state == FAILED and not retry_failed:
                continue
            if op.action == "add":
                self._settle_add(op, row, by_fields, claimed, read_at)
            else:
                self._settle_target(op, row, current.get(op.contact_id or ""))
        self._last_read = read_at
        self._load()

    def _settled(self, row: OpRow, read_at: float) -> bool:
        """True when a read at ``read_at`` is late enough to show everything ``row`` sent."""
        return row.sent_at is None or read_at - row.sent_at >= self.settle_delay

    def _settle_add(
        self,
        op: Operation,
        row: OpRow,
        by_fields: Mapping[ContactFields, list[str]],
        claimed: set[str],
        read_at: float,
    ) -> None:
        assert op.after is not None
        matches = [i for i in by_fields.get(_norm(op.after), []) if i not in claimed]
        fresh = [i for i in matches if i not in row.baseline]
        if row.state == DONE:
            if row.new_id:
                return
            if fresh:
                claimed.add(fresh[0])
                self._set(op, DONE, row.reason, new_id=fresh[0])
            elif self._settled(row, read_at):
                self._set(
                    op,
                    FAILED,
                    f"answered OK, but not in the phonebook {self.settle_delay:g}s later "
                    "(deleted by someone else, or lost by the server)",
                )
            return
        if row.state == SKIPPED:
            return
        # A row still "sending" was cut off by a crash: that send may have landed.
        crashed = row.state == SENDING
        if row.state in (SENDING, UNKNOWN) or (row.attempts and fresh):
            if fresh:
                claimed.add(fresh[0])
                self._set(op, DONE, "verified by reading", new_id=fresh[0], delivered=crashed)
            elif not self._settled(row, read_at):
                if crashed:
                    self._set(op, UNKNOWN, "cut off while sending", delivered=True)
            else:
                self._resend(op, "not in the phonebook after it was sent", delivered=crashed)
            return
        # Not sent yet (pending, or refused before reaching the server).
        existing = fresh or [i for i in row.baseline if i not in claimed]
        if existing:
            claimed.add(existing[0])
            self._set(op, SKIPPED, f"already exists as contact {existing[0]}")
        elif row.state == FAILED:
            self._set(op, PENDING, row.reason)

    def _settle_target(self, op: Operation, row: OpRow, now: ContactFields | None) -> None:
        wanted = op.after if op.action == "update" else None
        if row.state == DONE:
            # Answered OK, yet the read shows the contact untouched: send it again (an
            # update or a delete has the same effect however often it is carried out).
            if now is not None and _same(now, op.before) and not _same(op.before, wanted):
                self._resend(op, "answered OK, but the phonebook does not show it")
            return
        if row.state == SKIPPED:
            return
        crashed = row.state == SENDING
        unsure = row.state in (SENDING, UNKNOWN)
        if op.action == "delete" and now is None:
            if unsure:
                self._set(op, DONE, "verified by reading: gone", delivered=crashed)
            else:
                self._set(op, SKIPPED, "already gone")
        elif now is None:
            self._set(op, SKIPPED, "the contact no longer exists; not recreated")
        elif wanted is not None and _same(now, wanted):
            if unsure:
                self._set(op, DONE, "verified by reading", delivered=crashed)
            else:
                self._set(op, SKIPPED, "already as planned")
        elif _same(now, op.before):
            if unsure:
                self._resend(op, "not carried out", delivered=crashed)
            elif row.state != PENDING:
                self._set(op, PENDING, row.reason)
        else:
            self._set(
                op,
                SKIPPED,
                f"changed since the plan was made (now {_describe(now)}); left as it is",
            )

    def _resend(self, op: Operation, why: str, *, delivered: bool = False) -> None:
        self._report.resent += 1
        self._set(op, PENDING, f"{why}; sending again", delivered=delivered)

    # -- sending ---------------------------------------------------------------------------

    def _execute(self, todo: Sequence[Operation]) -> None:
        self._halt.clear()
        self._streak = 0
        workers = min(self.concurrency, len(todo))
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="apply")
        futures = [executor.submit(self._send, op) for op in todo]
        try:
            pending: set[Future[None]] = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
        except BaseException:
            # Ctrl-C (or a bug): stop handing out work, and let the requests in flight
            # end and be journalled before anyone closes the journal or the client.
            self._stop.set()
            self._drain(executor, futures)
            raise
        executor.shutdown(wait=True)

    def _drain(self, executor: ThreadPoolExecutor, futures: Sequence[Future[None]]) -> None:
        in_flight = sum(1 for future in futures if future.running())
        if in_flight:
            self.observer.stopping(in_flight)
        while True:
            try:
                executor.shutdown(wait=True, cancel_futures=True)
                return
            except KeyboardInterrupt:
                continue  # Ctrl-C again: the requests in flight still end first

    def _send(self, op: Operation) -> None:
        if self._stop.is_set() or self._halt.is_set() or self._abort is not None:
            return
        if self._clock() >= self._deadline:
            return
        self._set(op, SENDING, "", attempt=True, sent_at=self._clock())
        try:
            self._request(op)
        except OutcomeUnknown as exc:
            reason = f"outcome unknown: {exc.cause}"
            self._set(op, UNKNOWN, reason, sent_at=self._clock(), delivered=True)
            self._count_failure()
        except NotFound:
            if op.action == "delete":
                self._set(op, DONE, "already gone (404)")
            else:
                self._set(op, SKIPPED, "the contact no longer exists (404)")
        except (Unauthorized, Forbidden) as exc:
            # Every other request would fail the same way: stop and say why.
            self._abort = exc
            self._set(op, FAILED, str(exc))
        except _NOT_SENT as exc:
            self._set(op, PENDING, f"not sent: {exc}")
            self._count_failure()
        except SipaltoSyncError as exc:
            self._set(op, FAILED, str(exc))
        else:
            self._set(op, DONE, "", sent_at=self._clock(), delivered=True)
            with self._lock:
                self._streak = 0

    def _count_failure(self) -> None:
        """Many failures in a row: the server is in trouble; end the round, back off."""
        with self._lock:
            self._streak += 1
            if self._streak >= max(8, 2 * self.concurrency):
                self._halt.set()

    def _request(self, op: Operation) -> None:
        if op.action == "delete":
            assert op.contact_id is not None
            self.client.delete_contact(op.contact_id)
            return
        assert op.after is not None
        after = op.after
        if op.action == "add":
            self.client.add_contact(after.name, after.phone1, after.phone2, after.phone3)
        else:
            assert op.contact_id is not None
            self.client.update_contact(
                op.contact_id, after.name, after.phone1, after.phone2, after.phone3
            )

    # -- state ---------------------------------------------------------------------------

    def _set(
        self,
        op: Operation,
        state: str,
        reason: str,
        *,
        new_id: str | None = None,
        attempt: bool = False,
        sent_at: float | None = None,
        delivered: bool = False,
    ) -> None:
        """Record ``op``'s new state in the journal, then tell the observer."""
        self.journal.set_state(
            self._plan_id,
            self._server,
            op.idx,
            state,
            reason,
            new_id=new_id,
            attempt=attempt,
            sent_at=sent_at,
            delivered=delivered,
        )
        with self._lock:
            self._states[op.idx] = state
            if state != SENDING:
                self.observer.changed(self._tally(), OpResult(op, state, reason, new_id))

    def _load(self) -> dict[int, OpRow]:
        self._rows = {row.idx: row for row in self.journal.operations(self._plan_id, self._server)}
        self._states = {idx: row.state for idx, row in self._rows.items()}
        return self._rows

    def _tally(self) -> Tally:
        return Tally(len(self._ops), Counter(self._states.values()))

    @staticmethod
    def _result(op: Operation, row: OpRow) -> OpResult:
        return OpResult(op=op, state=row.state, reason=row.reason, new_id=row.new_id)


def _permanent(exc: SipaltoSyncError) -> bool:
    """A refusal that asking again will not change (bad credentials, a 403, a 404...)."""
    if isinstance(exc, (Unauthorized, Forbidden)):
        return True
    status = exc.status if isinstance(exc, ApiError) else None
    return status is not None and 400 <= status < 500 and status not in (408, 429)


def _settle_rank(row: OpRow) -> int:
    return {DONE: 0, SENDING: 1, UNKNOWN: 1}.get(row.state, 2)


def _index_by_fields(contacts: Iterable[Contact]) -> dict[ContactFields, list[str]]:
    index: dict[ContactFields, list[str]] = defaultdict(list)
    for contact in sorted(contacts, key=lambda c: (len(c.id), c.id)):
        index[_norm(contact.fields)].append(contact.id)
    return index


def _describe(fields: ContactFields) -> str:
    shown = ", ".join(fields.phones) or "no number"
    return f'"{fields.name}" {shown}'


def _duplicate_text(contact_id: str, op: Operation) -> str:
    return (
        f"contact {contact_id}, a second copy of {op.label} "
        "(a slow add and its re-send both landed)"
    )
