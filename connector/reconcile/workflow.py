"""The I/O around the pure planner: read a source, read the phonebook, make the plan.

``planner.make_plan`` decides; this module only fetches what it decides on, in the order
that fails fastest (a bad file is reported before the network is touched).
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.base import ReadProgress
from adapters.mapping import Mapping as SourceMapping
from adapters.registry import open_source
from connector.api.client import SipaltoClient
from connector.model import SourceRecord
from connector.reconcile.ahead import phonebook_ahead
from connector.reconcile.decisions import Decision
from connector.reconcile.plan import Plan, PlanSettings
from connector.reconcile.planner import make_plan
from connector.timings import stage


@dataclass(frozen=True)
class SourceOptions:
    """How to read a source file (all optional: the adapters detect what they can)."""

    format: str | None = None
    mapping: str | Path | SourceMapping | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    header_row: int | None = None
    #: Read only the first ``limit`` records (trying a mapping out); None: all of them.
    limit: int | None = None
    #: Called as a slow source (a CRM's pages) is read.
    progress: Callable[[ReadProgress], None] | None = None


@dataclass(frozen=True)
class SourceRead:
    """Every record of a source, and what the adapter said while reading it."""

    path: str | Path
    format: str
    records: tuple[SourceRecord, ...]
    messages: tuple[str, ...]
    #: Why the source seems cut short (a truncated export), or None: a record missing
    #: from such a read may only be missing from the read.
    cut_short: str | None = None


def read_source(path: str | Path, options: SourceOptions | None = None) -> SourceRead:
    """Read a whole source; raises ``SourceError`` if it cannot be read at all."""
    options = options or SourceOptions()
    source = open_source(
        path,
        format=options.format,
        mapping=options.mapping,
        encoding=options.encoding,
        sheet=options.sheet,
        header_row=options.header_row,
        progress=options.progress,
    )
    records = tuple(itertools.islice(source.records(), options.limit))
    return SourceRead(
        source.path, source.format_name, records, tuple(source.messages), source.cut_short
    )


def plan_from_source(
    client: SipaltoClient,
    path: str | Path,
    *,
    source_options: SourceOptions | None = None,
    settings: PlanSettings | None = None,
    decisions: Mapping[str, Decision] | None = None,
) -> tuple[Plan, SourceRead]:
    """Read ``path``, read the phonebook once, and plan the changes."""
    # Reading builds the records and contacts the planner keeps: no cycles among them.
    with cyclic_gc_paused():
        with stage("read source"):
            source = read_source(path, source_options)
        with stage("read phonebook"):
            contacts = client.list_contacts()
        region = (settings or PlanSettings()).region
        # With a large phonebook, part of the work is done in a second process meanwhile.
        with phonebook_ahead(contacts, region, source.records) as ahead:
            plan = make_plan(
                source.records,
                contacts,
                settings,
                decisions=decisions,
                server=client.base_url,
                ahead=ahead,
            )
    return plan, source


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a planning run, then restore it.

    Planning allocates millions of small objects that form no cycles; the cyclic collector
    would walk the whole growing heap again and again (a third of the run time at 10k
    records) and find nothing to free. The planner itself leaves process state alone, so
    the choice is made here, by the program that runs it.

    On the way out everything made meanwhile moves to the oldest generation, untraversed
    (``freeze`` then ``unfreeze``): left in the youngest, the first collection after it
    walked the whole plan once more (0.7 s at 100k contacts). It is still collected as
    usual when the oldest generation's turn comes.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
