"""The apply engine: carry out a plan's writes exactly, resumably, and never twice.

What it guarantees (each point is a test in ``tests/test_apply*.py``):

* only the plan's ``add``/``update``/``delete`` items are ever written; ``review``,
  ``rejected``, ``duplicate`` and ``unchanged`` items are not operations at all;
* stale plans are caught before writing: an update/delete whose target no longer looks
  like the plan's ``before`` is skipped and reported, never overwritten; an add whose
  contact already exists is skipped;
* the whole phonebook is backed up before the first write;
* every operation's state is journalled (``connector.apply.journal``) before and after its
  request, so a run killed anywhere resumes without repeating what was done;
* a write whose outcome is unknown (a lost answer, a 5xx, a crash mid-request) is
  settled by reading the phonebook, many at once per read, and resent only if it did
  not land. Adds have no id to check by: they are recognised by their exact fields,
  minus the identical contacts that existed before the run (the *baseline*);
* after the run, the ids of added contacts are learned from a fresh read and recorded
  as owned by the tool.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
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
)
from connector.apply.target import Operation, PlanTarget
from connector.errors import (
    Forbidden,
    NotFound,
    OutcomeUnknown,
    PlanError,
    SipaltoSyncError,
    Unauthorized,
)
from connector.model import Contact, ContactFields, phonebook_fingerprint

log = logging.getLogger(__name__)


def _norm(fields: ContactFields) -> ContactFields:
    # The server may keep or trim surrounding blanks; neither is a change of ours.
    return ContactFields(
        fields.name.strip(), fields.phone1.strip(), fields.phone2.strip(), fields.phone3.strip()
    )


def _same(a: ContactFields | None, b: ContactFields | None) -> bool:
    if a is None or b is None:
        return a is b
    return _norm(a) == _norm(b)


# -- the report ----------------------------------------------------------------------


@dataclass
class OpResult:
    """How one operation ended (so far)."""

    op: Operation
    state: str
    reason: str = ""
    new_id: str | None = None


@dataclass
class ApplyReport:
    """The end of an apply: per-operation results and what the run noticed."""

    plan_id: str
    server: str
    results: list[OpResult]
    backup_path: str | None = None
    resumed: bool = False
    phonebook_changed: bool = False
    requests_throttled: int = 0
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """``{action: {state: count}}``."""
        table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for result in self.results:
            table[result.op.action][result.state] += 1
        return {action: dict(states) for action, states in table.items()}

    @property
    def ok(self) -> bool:
        """True when every operation is done or deliberately skipped."""
        return all(r.state in FINAL for r in self.results)

    @property
    def created(self) -> list[tuple[str, str | None]]:
        """(new contact id, source key) of every add that is done and identified."""
        return [
            (r.new_id, r.op.source_key)
            for r in self.results
            if r.op.action == "add" and r.state == DONE and r.new_id
        ]


Progress = Callable[[int, int, OpResult], None]


class ApplyEngine:
    """Runs a plan's operations against Sipalto through a journal.

    ``concurrency`` bounds the requests in flight; the client's shared pacer keeps
    them under the server's rate limit. ``verify_rounds`` bounds how often operations
    whose outcome was unknown are settled by a read and resent within one run.
    """

    def __init__(
        self,
        client: SipaltoClient,
        journal: Journal,
        *,
        backup_dir: Path,
        concurrency: int = 4,
        verify_rounds: int = 5,
        progress: Progress | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.backup_dir = backup_dir
        self.concurrency = max(1, concurrency)
        self.verify_rounds = max(1, verify_rounds)
        self.progress = progress
        self._abort: SipaltoSyncError | None = None
        self._finished = 0
        self._total = 0
        self._count_lock = threading.Lock()

    def run(self, target: PlanTarget) -> ApplyReport:
        """Apply (or resume applying) ``target``; returns the report."""
        plan_id, server = target.plan_id, self.client.base_url
        ops = {op.idx: op for op in target.operations}
        new_run = self.journal.begin(
            plan_id, server, [(op.idx, op.action, op.contact_id) for op in ops.values()]
        )
        rows = {row.idx: row for row in self.journal.operations(plan_id, server)}
        if set(rows) != set(ops):
            raise PlanError(
                f"plan {plan_id} was changed since it was first applied (its operations "
                "differ from the journal's); make a new plan"
            )
        report = ApplyReport(plan_id=plan_id, server=server, results=[], resumed=not new_run)
        if all(row.state in FINAL for row in rows.values()) and not new_run:
            report.notes.append("every operation of this plan was already carried out")
            report.results = [self._result(ops[i], rows[i]) for i in sorted(ops)]
            report.backup_path = self.journal.backup_path(plan_id, server)
            return report

        contacts = self.client.list_contacts() if ops or new_run else []
        if target.base and phonebook_fingerprint(contacts) != target.base and new_run:
            report.phonebook_changed = True
        report.backup_path = self.journal.backup_path(plan_id, server)
        if report.backup_path is None and ops:
            path = write_backup(
                contacts, self.backup_dir, server=server, reason=f"before applying plan {plan_id}"
            )
            self.journal.set_backup_path(plan_id, server, str(path))
            report.backup_path = str(path)
        if new_run:
            self._record_baselines(plan_id, server, ops, contacts)
            rows = {row.idx: row for row in self.journal.operations(plan_id, server)}

        self._total = len(ops)
        self._finished = sum(1 for r in rows.values() if r.state in FINAL)
        rows = self._settle(plan_id, server, ops, rows, contacts, retry_failed=True)
        for _ in range(self.verify_rounds):
            todo = [ops[i] for i, row in sorted(rows.items()) if row.state == PENDING]
            if not todo or self._abort is not None:
                break
            self._execute(plan_id, server, todo)
            rows = {row.idx: row for row in self.journal.operations(plan_id, server)}
            if not any(row.state in (SENDING, UNKNOWN) for row in rows.values()):
                break
            # One read settles every uncertain write of the round at once.
            contacts = self.client.list_contacts()
            rows = self._settle(plan_id, server, ops, rows, contacts, retry_failed=False)
        # A last read learns the new contacts' ids (adds answer without one).
        contacts = self.client.list_contacts()
        rows = self._settle(plan_id, server, ops, rows, contacts, retry_failed=False)

        report.results = [self._result(ops[i], rows[i]) for i in sorted(ops)]
        self.journal.record_owned(server, plan_id, report.created)
        report.requests_throttled = self.client.pacer.throttled
        if self._abort is not None:
            report.notes.append(f"stopped early: {self._abort}")
        return report

    @staticmethod
    def _result(op: Operation, row: OpRow) -> OpResult:
        return OpResult(op=op, state=row.state, reason=row.reason, new_id=row.new_id)

    # -- settling: compare the journal with a fresh read ------------------------------

    def _record_baselines(
        self, plan_id: str, server: str, ops: Mapping[int, Operation], contacts: Sequence[Contact]
    ) -> None:
        by_fields = _index_by_fields(contacts)
        baselines = []
        for op in ops.values():
            if op.action == "add" and op.after is not None:
                baselines.append((op.idx, by_fields.get(_norm(op.after), [])))
        self.journal.set_baseline(plan_id, server, baselines)

    def _settle(
        self,
        plan_id: str,
        server: str,
        ops: Mapping[int, Operation],
        rows: Mapping[int, OpRow],
        contacts: Sequence[Contact],
        *,
        retry_failed: bool,
    ) -> dict[int, OpRow]:
        """Bring every unfinished operation's state in line with the phonebook as read.

        ``retry_failed`` makes failed operations pending again (at the start of a run).
        """
        current = {c.id: c.fields for c in contacts}
        by_fields = _index_by_fields(contacts)
        claimed = {row.new_id for row in rows.values() if row.new_id}
        # Adds already answered OK claim their contacts first, then the uncertain ones,
        # then those not yet sent: an unsent add must never take a contact we created.
        order = sorted(rows.values(), key=lambda r: (_settle_rank(r), r.idx))
        for row in order:
            op = ops[row.idx]
            if row.state == FAILED and not retry_failed:
                continue
            if op.action == "add":
                self._settle_add(plan_id, server, op, row, by_fields, claimed)
            elif row.state not in FINAL:
                self._settle_target(plan_id, server, op, row, current.get(op.contact_id or ""))
        return {row.idx: row for row in self.journal.operations(plan_id, server)}

    def _settle_add(
        self,
        plan_id: str,
        server: str,
        op: Operation,
        row: OpRow,
        by_fields: Mapping[ContactFields, list[str]],
        claimed: set[str],
    ) -> None:
        assert op.after is not None
        matches = [i for i in by_fields.get(_norm(op.after), []) if i not in claimed]
        fresh = [i for i in matches if i not in row.baseline]
        if row.state == DONE:
            if not row.new_id and fresh:
                claimed.add(fresh[0])
                self.journal.set_state(plan_id, server, op.idx, DONE, row.reason, new_id=fresh[0])
            return
        if row.state == SKIPPED:
            return
        if row.state in (SENDING, UNKNOWN) or (row.attempts and fresh):
            # Sent at least once: a new identical contact is ours (perhaps landed late).
            if fresh:
                claimed.add(fresh[0])
                self._mark(plan_id, server, op, DONE, "verified by reading", new_id=fresh[0])
            else:
                self._set(plan_id, server, op, PENDING, "not found after an unknown outcome")
            return
        # Not sent yet (pending, or failed before reaching the server).
        existing = fresh or [i for i in row.baseline if i not in claimed]
        if existing:
            claimed.add(existing[0])
            self._mark(plan_id, server, op, SKIPPED, f"already exists as contact {existing[0]}")
        elif row.state == FAILED:
            self._set(plan_id, server, op, PENDING, row.reason)

    def _settle_target(
        self, plan_id: str, server: str, op: Operation, row: OpRow, now: ContactFields | None
    ) -> None:
        unsure = row.state in (SENDING, UNKNOWN)
        wanted = op.after if op.action == "update" else None
        if op.action == "delete" and now is None:
            if unsure:
                self._mark(plan_id, server, op, DONE, "verified by reading: gone")
            else:
                self._mark(plan_id, server, op, SKIPPED, "already gone")
        elif now is None:
            self._mark(plan_id, server, op, SKIPPED, "the contact no longer exists; not recreated")
        elif wanted is not None and _same(now, wanted):
            if unsure:
                self._mark(plan_id, server, op, DONE, "verified by reading")
            else:
                self._mark(plan_id, server, op, SKIPPED, "already as planned")
        elif _same(now, op.before):
            if row.state != PENDING:
                self._set(plan_id, server, op, PENDING, row.reason)
        else:
            self._mark(
                plan_id,
                server,
                op,
                SKIPPED,
                f"changed since the plan was made (now {_describe(now)}); left as it is",
            )

    # -- sending ---------------------------------------------------------------------------

    def _execute(self, plan_id: str, server: str, todo: Sequence[Operation]) -> None:
        executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="apply")
        try:
            pending: set[Future[None]] = {
                executor.submit(self._send, plan_id, server, op) for op in todo
            }
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
        except BaseException:
            # Ctrl-C or a bug: stop handing out work; requests in flight stay "sending"
            # in the journal and are verified by the next run.
            self._abort = self._abort or SipaltoSyncError("interrupted")
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        executor.shutdown(wait=True)

    def _send(self, plan_id: str, server: str, op: Operation) -> None:
        if self._abort is not None:
            return
        self.journal.set_state(plan_id, server, op.idx, SENDING, attempt=True)
        try:
            self._request(op)
        except OutcomeUnknown as exc:
            self._set(plan_id, server, op, UNKNOWN, f"outcome unknown: {exc.cause}")
        except NotFound:
            if op.action == "delete":
                self._mark(plan_id, server, op, DONE, "already gone (404)")
            else:
                self._mark(plan_id, server, op, SKIPPED, "the contact no longer exists (404)")
        except (Unauthorized, Forbidden) as exc:
            # Every other request would fail the same way: stop and say why.
            self._abort = exc
            self._mark(plan_id, server, op, FAILED, str(exc))
        except SipaltoSyncError as exc:
            self._mark(plan_id, server, op, FAILED, str(exc))
        else:
            self._mark(plan_id, server, op, DONE, "")

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

    def _set(self, plan_id: str, server: str, op: Operation, state: str, reason: str) -> None:
        self.journal.set_state(plan_id, server, op.idx, state, reason)

    def _mark(
        self,
        plan_id: str,
        server: str,
        op: Operation,
        state: str,
        reason: str,
        *,
        new_id: str | None = None,
    ) -> None:
        """Record a state that ends this run's work on ``op`` and report progress."""
        self.journal.set_state(plan_id, server, op.idx, state, reason, new_id=new_id)
        if self.progress is not None:
            with self._count_lock:
                self._finished += 1
                finished = self._finished
            self.progress(finished, self._total, OpResult(op, state, reason, new_id))


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
