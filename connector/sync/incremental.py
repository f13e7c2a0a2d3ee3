"""A sync job's CRM source: read whole, or incrementally, where the last read got to,
and whether the next reads only what changed since or everything (:func:`read_crm`).

A CRM mapping with an ``incremental`` section can ask for the records changed since a
value (a modification time). A job keeps the latest such value it read, with when it last
read everything, in its state (:data:`INCREMENTAL_MARK`), moved on only by a run that did
all it planned. Such a partial read cannot see deletions, so it deletes nothing; a full
read (no mark yet, another source or mapping than the mark's, ``full_every`` elapsed, or
``--full-read``) sees everything, and the delete policy with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.base import ReadProgress
from adapters.crm.schema import CrmMapping, IncrementalSettings, duration_seconds, load_crm_mapping
from adapters.crm.source import CrmSource
from connector.reconcile.workflow import SourceRead
from connector.sync.result import plural
from connector.sync.state import SyncState, clean_server

__all__ = ["INCREMENTAL_MARK", "CrmRead", "IncrementalMark", "read_crm", "read_since"]

#: Seconds between the progress lines of a CRM's read (for logs).
PROGRESS_EVERY = 10.0

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


@dataclass(frozen=True)
class CrmRead:
    """A job's read of its CRM: the records (``read``), since when (None: a full read),
    and the mark to keep once the run has done all it planned (None: not incremental)."""

    read: SourceRead
    since: str | None
    mark: IncrementalMark | None


def read_crm(
    url: str,
    mapping: str | Path | CrmMapping,
    *,
    state: SyncState | None,
    now: float,
    full_read: bool,
    say: Callable[..., None],
) -> CrmRead:
    """Read the CRM at ``url``: with an ``incremental`` mapping and a mark from an earlier
    run in ``state``, only the records changed since then (a partial read: the plan deletes
    nothing), unless a full read is due (:func:`read_since`). A page that fails raises: a
    CRM read part way is no source. ``say(kind, message, **data)`` tells the progress,
    a line every :data:`PROGRESS_EVERY` seconds."""
    loaded = load_crm_mapping(mapping)
    incremental = loaded.settings.incremental
    # The mark names its source as the state names its server: no userinfo or query,
    # where a careless URL could hold a key.
    source_id = clean_server(url)
    mark = _mark(state, source_id, loaded.name) if incremental else None
    since = read_since(incremental, mark, now=now, full_read=full_read)
    said = [0.0]

    def progress(read: ReadProgress) -> None:
        if read.elapsed - said[0] < PROGRESS_EVERY:
            return
        said[0] = read.elapsed
        say(
            "source.progress",
            f"reading {read.source}: {plural(read.records, 'record')} in "
            f"{plural(read.pages, 'page')} so far ({read.rate:.0f} a second)",
            records=read.records,
            pages=read.pages,
        )

    source = CrmSource(url, mapping=loaded, since=since, progress=progress)
    records = tuple(source.records())
    new_mark = None
    if incremental is not None:
        full_read_at = mark.full_read_at if since and mark else now
        new_mark = IncrementalMark(source_id, loaded.name, source.high_water or since, full_read_at)
    read = SourceRead(url, source.format_name, records, tuple(source.messages))
    return CrmRead(read, since, new_mark)


def _mark(state: SyncState | None, source: str, mapping: str) -> IncrementalMark | None:
    """The mark an earlier run of this job left for this source (None: none)."""
    if state is None:
        return None
    mark = IncrementalMark.from_text(state.get_value(INCREMENTAL_MARK))
    if mark is None or (mark.source, mark.mapping) != (source, mapping) or not mark.since:
        return None
    return mark
