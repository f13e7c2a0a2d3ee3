"""The I/O around the pure planner: read a source, read the phonebook, make the plan.

``planner.make_plan`` decides; this module only fetches what it decides on, in the order
that fails fastest: a file that cannot be read, or that its mapping does not fit, is
reported before the network is touched. Once a file's first record is read, the phonebook
is read meanwhile, in a thread: the file's records are work for the processor, the
phonebook's answer is a wait for the server.
"""

from __future__ import annotations

import gc
import itertools
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from adapters.base import ReadProgress
from adapters.locations import is_url
from adapters.mapping import Mapping as SourceMapping
from adapters.registry import open_source
from connector.api.client import SipaltoClient
from connector.model import Contact, SourceRecord
from connector.reconcile.ahead import phonebook_ahead
from connector.reconcile.decisions import Decision
from connector.reconcile.plan import Plan, PlanSettings
from connector.reconcile.planner import make_plan
from connector.timings import stage

_T = TypeVar("_T")


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


def read_source(
    path: str | Path,
    options: SourceOptions | None = None,
    *,
    started: Callable[[], object] | None = None,
) -> SourceRead:
    """Read a whole source; raises ``SourceError`` if it cannot be read at all.

    ``started`` is called once the first record is read (the file opened and its mapping
    fitting it), before the others are: what should not wait for a whole large file but
    is not worth doing for a file that cannot be read."""
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
    reading = itertools.islice(source.records(), options.limit)
    records = tuple(itertools.islice(reading, 1))
    if started is not None:
        started()
    records += tuple(reading)
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
    """Read ``path``, read the phonebook once, and plan the changes.

    A file's records and the phonebook are read at the same time (the phonebook in a
    thread, from the file's first record on). A CRM's pages are read first, then the
    phonebook: a CRM read that fails part-way leaves the phonebook unread."""
    meanwhile: _Meanwhile[list[Contact]] = _Meanwhile()
    # Reading builds the records and contacts the planner keeps: no cycles among them.
    with cyclic_gc_paused(), meanwhile:
        with stage("read source"):
            early = None if is_url(path) else lambda: meanwhile.start(client.list_contacts)
            source = read_source(path, source_options, started=early)
        with stage("read phonebook"):
            contacts = meanwhile.result() if meanwhile.started else client.list_contacts()
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


class _Meanwhile(Generic[_T]):
    """A read started in a thread of its own while this thread goes on, its answer (or
    error) taken later; a context manager, left once the answer is in or not wanted.

    The thread is a daemon: when what it was started beside fails first, its answer is
    never asked for, and it must not hold up the program's exit (the client it uses is
    closed under it, which ends it).
    """

    # While both threads run, the interpreter hands its lock over at most this often. The
    # read wakes up for every 64 KB that arrives (some 150 times for 100,000 contacts) and
    # then waits for the lock up to the switch interval, 5 ms by default: at that pace a
    # large phonebook's answer arrived a third of a second after the file's records.
    _SWITCH_INTERVAL = 0.001

    def __init__(self) -> None:
        self._answer: Future[_T] | None = None
        self._thread: threading.Thread | None = None
        self._interval: float | None = None  # the switch interval to restore

    @property
    def started(self) -> bool:
        """Whether :meth:`start` was called."""
        return self._answer is not None

    def start(self, read: Callable[[], _T]) -> None:
        """Call ``read()`` in a new thread."""
        self._answer = Future()
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._interval, self._SWITCH_INTERVAL))
        self._thread = threading.Thread(
            target=self._run, args=(read,), name="meanwhile", daemon=True
        )
        self._thread.start()

    def result(self) -> _T:
        """What ``read()`` gave, once it is done; raises what it raised."""
        assert self._answer is not None and self._thread is not None, "nothing was started"
        try:
            answer = self._answer.result()
        finally:
            self._restore()
        # Gone before anything else happens: the planner may fork a process next.
        self._thread.join()
        return answer

    def __enter__(self) -> _Meanwhile[_T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._restore()

    def _run(self, read: Callable[[], _T]) -> None:
        assert self._answer is not None
        try:
            self._answer.set_result(read())
        except BaseException as error:  # raised again by result(), in the caller's thread
            self._answer.set_exception(error)

    def _restore(self) -> None:
        if self._interval is not None:
            sys.setswitchinterval(self._interval)
            self._interval = None
