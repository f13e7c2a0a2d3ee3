"""Answered calls of some numbers over a range, named from the phonebook.

The raw API knows numbers; the phonebook knows who they are. :func:`list_calls` asks for
the answered calls of one or more numbers over any range (split into requests the server
accepts, merged and deduplicated by call id) and names caller and callee with the
reconciler's number normalisation, so ``07086202666`` and ``+44 7086 202666`` are the same
number. Extensions (``1009``) compare verbatim. :func:`find_call` looks one call up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connector.api.client import RANGE_FORMAT, SipaltoClient
from connector.calls.ranges import MAX_RANGE_DAYS, floor_minute, split_range
from connector.errors import ConfigError, NotFound, Rejected
from connector.model import Call, Contact
from connector.reconcile.phones import PhoneNormaliser

#: How a call's time is written in listings and JSON.
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class NameDirectory:
    """Phonebook names by number, for showing who called.

    Numbers are compared in Sipalto form (the reconciler's :class:`PhoneNormaliser`), so
    every spelling of a number finds its contact; extensions compare verbatim. When several
    contacts share a number they are all kept, in phonebook order; :meth:`label_for` shows
    two and counts the rest: ``"Reception / Front desk"``, ``"Ann / Bob +2"``.
    """

    def __init__(
        self, contacts: Iterable[Contact] = (), *, normaliser: PhoneNormaliser | None = None
    ) -> None:
        self._normaliser = normaliser or PhoneNormaliser()
        self._names: dict[str, list[str]] = {}
        for contact in contacts:
            name = contact.name.strip()
            if not name:
                continue
            for number in self._normaliser.numbers_of(contact.phones):
                names = self._names.setdefault(number, [])
                if name not in names:
                    names.append(name)

    def __len__(self) -> int:
        return len(self._names)

    def names_for(self, number: str) -> tuple[str, ...]:
        """Every contact name holding ``number``, in phonebook order (empty if none)."""
        if not number.strip():
            return ()
        return tuple(self._names.get(self._normaliser.canonical(number), ()))

    def label_for(self, number: str) -> str:
        """The name to show for ``number``: ``""``, ``"Alice"``, ``"Ann / Bob +2"``."""
        return _label(self.names_for(number))

    def row(self, call: Call) -> CallRow:
        """``call`` with its caller and callee named."""
        return CallRow(call, self.names_for(call.caller), self.names_for(call.callee))


#: How many names of contacts sharing a number are shown before a count of the rest.
SHOWN_NAMES = 2


def _label(names: Sequence[str]) -> str:
    # A shared number is most often a switchboard or a household: two names say who it
    # may be; a long list would swamp a table column.
    shown = " / ".join(names[:SHOWN_NAMES])
    rest = len(names) - SHOWN_NAMES
    return f"{shown} +{rest}" if rest > 0 else shown


@dataclass(frozen=True, slots=True)
class CallRow:
    """An answered call with the phonebook names of both parties (empty when unknown)."""

    call: Call
    caller_names: tuple[str, ...] = ()
    callee_names: tuple[str, ...] = ()

    @property
    def caller_name(self) -> str:
        """The caller's name as shown (see :meth:`NameDirectory.label_for`), or ``""``."""
        return _label(self.caller_names)

    @property
    def callee_name(self) -> str:
        """The callee's name as shown, or ``""``."""
        return _label(self.callee_names)

    @property
    def caller_display(self) -> str:
        """``"Alice (07700900461)"`` when named, else the bare number."""
        return _display(self.call.caller, self.caller_name)

    @property
    def callee_display(self) -> str:
        """``"Alice (07700900461)"`` when named, else the bare number."""
        return _display(self.call.callee, self.callee_name)

    def to_dict(self) -> dict[str, Any]:
        """Raw API fields plus resolved names, for JSON."""
        call = self.call
        return {
            "call_id": call.call_id,
            "date": call.date.strftime(DATE_FORMAT),
            "direction": call.direction,
            "disposition": call.disposition,
            "caller": call.caller,
            "caller_name": self.caller_name,
            "caller_names": list(self.caller_names),
            "callee": call.callee,
            "callee_name": self.callee_name,
            "callee_names": list(self.callee_names),
            "duration": call.duration,
        }


def _display(number: str, name: str) -> str:
    return f"{name} ({number})" if name else number


@dataclass(frozen=True, slots=True)
class CallReport:
    """The answered calls of some numbers over a range, merged, named and sorted by time.

    ``requests`` counts the API requests it took (a long range needs several).
    """

    numbers: tuple[str, ...]
    start: datetime
    end: datetime
    rows: tuple[CallRow, ...]
    requests: int = 0

    @property
    def total_seconds(self) -> int:
        """The calls' durations added up."""
        return sum(row.call.duration for row in self.rows)

    def describe(self) -> str:
        """``"1009, 1007 between 2025-10-08 00:00 and 2025-10-08 23:59"``, for messages."""
        return (
            f"{', '.join(self.numbers)} between {self.start:{RANGE_FORMAT}} "
            f"and {self.end:{RANGE_FORMAT}}"
        )


def _clean_numbers(numbers: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(numbers, str):  # one number, not its characters
        numbers = [numbers]
    # Sent as typed: the API's matching of phone_number is undocumented, and extensions
    # (the usual question) have only one spelling.
    cleaned = tuple(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    if not cleaned:
        raise ConfigError("give at least one phone number or extension")
    return cleaned


def _fetch(
    client: SipaltoClient,
    numbers: Sequence[str],
    start: datetime,
    end: datetime,
    max_days: int,
) -> tuple[list[Call], int]:
    """Every answered call of ``numbers`` in the range, one copy per call id, by time."""
    found: dict[str, Call] = {}
    requests = 0
    for piece_start, piece_end in split_range(start, end, max_days):
        for number in numbers:
            requests += 1
            # A call between two of the numbers, or one the server puts in two pieces
            # (its ends are inclusive), comes back twice: keep one per call id.
            for call in client.answered_calls(number, piece_start, piece_end):
                found.setdefault(call.call_id, call)
    calls = sorted(found.values(), key=lambda call: (call.date, call.call_id))
    return calls, requests


def list_calls(
    client: SipaltoClient,
    numbers: Iterable[str] | str,
    start: datetime,
    end: datetime,
    *,
    phonebook: Sequence[Contact] | None = None,
    max_days: int = MAX_RANGE_DAYS,
) -> CallReport:
    """Answered calls of ``numbers`` between ``start`` and ``end`` (inclusive, to the minute).

    Ranges longer than ``max_days`` are asked for in pieces and merged; calls are
    deduplicated by call id and sorted by time. With a ``phonebook`` (the contacts from
    ``client.list_contacts()``) caller and callee are named; without one names are empty.
    """
    wanted = _clean_numbers(numbers)
    calls, requests = _fetch(client, wanted, start, end, max_days)
    directory = NameDirectory(phonebook or ())
    return CallReport(
        numbers=wanted,
        start=floor_minute(start),
        end=floor_minute(end),
        rows=tuple(directory.row(call) for call in calls),
        requests=requests,
    )


_ASTERISK_ID = re.compile(r"(\d{9,11})\.\d+$")


def call_time_hint(call_id: str) -> datetime | None:
    """When a call probably happened, read from its id, or None.

    Sipalto's call ids appear to end in an Asterisk unique id, ``<unix time>.<sequence>``
    (the docs' ``SIPALTO-THE-ANL-ND2-1759926851.58197`` is dated 2025-10-08 13:34:11, which
    is 1759926851 in UK summer time). Only a hint for where to look: nothing documents it.
    """
    match = _ASTERISK_ID.search(call_id.strip())
    if match is None:
        return None
    try:
        moment = datetime.fromtimestamp(int(match.group(1)))
    except (OverflowError, OSError, ValueError):
        return None
    return moment if 2000 <= moment.year <= 2100 else None


def find_call(
    client: SipaltoClient,
    call_id: str,
    numbers: Iterable[str] | str,
    *,
    around: datetime | None = None,
) -> Call | None:
    """Look a call up in the history of ``numbers``, or None if it is not there.

    The API has no "get one call", so this lists the calls from the day before ``around``
    to the day after (time zones make the id's time uncertain by hours). ``around``
    defaults to :func:`call_time_hint`; without either, :class:`ConfigError`.
    """
    wanted = _clean_numbers(numbers)
    moment = around or call_time_hint(call_id)
    if moment is None:
        raise ConfigError(f"cannot tell when call {call_id} happened: give its date")
    day = datetime.combine(moment.date(), datetime.min.time())
    start, end = day - timedelta(days=1), day + timedelta(days=1, hours=23, minutes=59)
    calls, _ = _fetch(client, wanted, start, end, MAX_RANGE_DAYS)
    return next((call for call in calls if call.call_id == call_id.strip()), None)


@contextmanager
def about_call(call_id: str, what: str) -> Iterator[None]:
    """Say which call an error is about, in words; the HTTP facts stay as attributes."""
    try:
        yield
    except NotFound as exc:
        # Login already worked, so this is the Sipalto API saying it knows no such call.
        raise NotFound(
            f"no call {call_id!r}: check the id (`sipalto-sync calls list` shows them)",
            status=exc.status,
            method=exc.method,
            endpoint=exc.endpoint,
            detail=exc.detail,
        ) from exc
    except Rejected as exc:
        raise Rejected(
            f"no {what} for call {call_id!r}: the server says {exc.detail or 'no'}",
            status=exc.status,
            method=exc.method,
            endpoint=exc.endpoint,
            detail=exc.detail,
        ) from exc
