"""What a sync run tells as it goes: :class:`SyncEvent` values given to a
:class:`SyncObserver` (the command line shows them as text or JSON lines).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.apply.report import ApplyObserver, OpResult, RunStart, Tally

__all__ = ["ApplyEvents", "SyncEvent", "SyncObserver"]


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


class ApplyEvents(ApplyObserver):
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
