"""What an apply run tells its caller: per-operation results, counts, and the report.

The engine (:mod:`connector.apply.engine`) fills these in; :mod:`connector.ui.apply_view`
shows them. An :class:`ApplyObserver` hears about a run while it happens (progress, the
backup path as soon as it is written), an :class:`ApplyReport` says how it ended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from connector.apply.journal import DONE, FAILED, FINAL
from connector.apply.target import Operation

#: States after which a run has nothing more to do for an operation.
ENDED = FINAL | {FAILED}


@dataclass
class OpResult:
    """How one operation ended (so far)."""

    op: Operation
    state: str
    reason: str = ""
    new_id: str | None = None


@dataclass(frozen=True)
class Tally:
    """How many of a run's operations are in each state."""

    total: int
    states: Mapping[str, int]

    @property
    def finished(self) -> int:
        """Operations this run has nothing more to do for: done, skipped or failed."""
        return sum(self.states.get(state, 0) for state in ENDED)


@dataclass(frozen=True)
class RunStart:
    """A run has read the phonebook and recorded itself; nothing is written yet."""

    plan_id: str
    server: str
    resumed: bool
    backup_path: str | None
    tally: Tally


class ApplyObserver:
    """What a run reports while it goes. Every method does nothing; override some."""

    def started(self, start: RunStart) -> None:
        """The run is recorded and its backup written (``start.backup_path``)."""

    def changed(self, tally: Tally, result: OpResult) -> None:
        """An operation changed state; ``tally`` counts every operation of the plan."""

    def waiting(self, seconds: float, why: str) -> None:
        """The run is about to wait ``seconds`` (letting slow writes land, backing off)."""

    def stopping(self, in_flight: int) -> None:
        """Ctrl-C: no new request goes out; ``in_flight`` requests are being waited for."""


@dataclass
class ApplyReport:
    """The end of an apply: per-operation results and what the run noticed."""

    plan_id: str
    server: str
    results: list[OpResult]
    backup_path: str | None = None
    resumed: bool = False
    phonebook_changed: bool = False
    #: Why the run stopped before its end (``INTERRUPTED``, ``OUT_OF_TIME``, ``STOPPED_EARLY``).
    stopped: str | None = None
    #: When the plan was completed by an earlier run (it was not applied again).
    applied_at: str | None = None
    #: For a plan completed earlier: its changes that are no longer in the phonebook.
    undone: list[str] = field(default_factory=list)
    requests_retried: int = 0
    requests_throttled: int = 0
    logins: int = 0
    #: Operations sent again because a read showed they had not been carried out.
    resent: int = 0
    #: Second copies of adds (a slow original and its re-send both landed), removed.
    duplicates_removed: list[str] = field(default_factory=list)
    #: What keeps the phonebook from being as planned besides failed operations.
    unresolved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """``{action: {state: count}}``."""
        table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for result in self.results:
            table[result.op.action][result.state] += 1
        return {action: dict(states) for action, states in table.items()}

    @property
    def ok(self) -> bool:
        """True when the phonebook is as planned: every operation done or deliberately
        skipped, and a final read agreeing (or, for a plan applied before, its changes
        still in place)."""
        if self.applied_at is not None:
            return not self.undone
        if self.stopped is not None or self.unresolved:
            return False
        return all(r.state in FINAL for r in self.results)

    @property
    def created(self) -> list[tuple[str, str | None]]:
        """(new contact id, source key) of every add that is done and identified."""
        return [
            (r.new_id, r.op.source_key)
            for r in self.results
            if r.op.action == "add" and r.state == DONE and r.new_id
        ]
