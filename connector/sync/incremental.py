"""Incremental reads of a CRM by a sync job: where the last one got to, and whether the
next reads only what changed since or everything.

A CRM mapping with an ``incremental`` section can ask for the records changed since a
value (a modification time). A job keeps the latest such value it read, with when it last
read everything, in its state (:data:`INCREMENTAL_MARK`), moved on only by a run that did
all it planned. Such a partial read cannot see deletions, so it deletes nothing; a full
read (no mark yet, another source or mapping than the mark's, ``full_every`` elapsed, or
``--full-read``) sees everything, and the delete policy with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from adapters.crm.schema import IncrementalSettings, duration_seconds

__all__ = ["INCREMENTAL_MARK", "IncrementalMark", "read_since"]

#: The state value holding an incremental CRM read's mark (:class:`IncrementalMark`).
INCREMENTAL_MARK = "incremental_mark"


@dataclass(frozen=True)
class IncrementalMark:
    """Where a job's incremental reads of a CRM got to: the latest change read (sent as
    ``since`` next time) and when the last full read was (Unix time), for one source URL
    and mapping; another source or mapping starts afresh with a full read."""

    source: str
    mapping: str
    since: str | None
    full_read_at: float

    def to_text(self) -> str:
        return json.dumps(
            {
                "source": self.source,
                "mapping": self.mapping,
                "since": self.since,
                "full_read_at": self.full_read_at,
            }
        )

    @classmethod
    def from_text(cls, text: str | None) -> IncrementalMark | None:
        """The mark a state holds; None for none, or for one this version cannot read."""
        try:
            if not text:
                return None
            data = json.loads(text)
            return cls(
                str(data["source"]),
                str(data["mapping"]),
                None if data["since"] is None else str(data["since"]),
                float(data["full_read_at"]),
            )
        except (TypeError, KeyError, ValueError):
            return None


def read_since(
    incremental: IncrementalSettings | None,
    mark: IncrementalMark | None,
    *,
    now: float,
    full_read: bool = False,
) -> str | None:
    """What to read changes since (None: read everything), at Unix time ``now``."""
    if incremental is None or mark is None or mark.since is None or full_read:
        return None
    every = incremental.full_every
    if every is not None and now - mark.full_read_at >= duration_seconds(every):
        return None
    return mark.since
