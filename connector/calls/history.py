"""Answered calls of some numbers over a range, named from the phonebook.

The raw API knows numbers; the phonebook knows who they are. :func:`list_calls` asks for
the answered calls of one or more numbers over any range (the whole range in one request,
cut into pieces only when the server says it is too long; merged and deduplicated by call
id) and names caller and callee. Numbers asked for and numbers named go through the
reconciler's normalisation, so ``07086202666``, ``+44 7086 202666`` and ``0044 7086
202666`` are the same number, sent in the form the API writes (``07086202666``);
extensions (``1009``) stay verbatim. :func:`find_call` looks one call up.

Times are aware, on the PBX's clock (:mod:`connector.api.times`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector.api.client import SipaltoClient
from connector.api.times import (
    API_ZONE,
    CALL_TIME_FORMAT,
    call_id_time,
    in_zone,
    instant,
    range_text,
    repeated,
    wall_time,
)
from connector.calls.ranges import (
    MINUTE,
    covered,
    floor_minute,
    piece_end,
    refused_as_too_long,
    stated_limit,
)
from connector.errors import ApiError, ConfigError, NotFound, Rejected
from connector.model import Call, Contact
from connector.reconcile.phones import PhoneNormaliser

log = logging.getLogger(__name__)

#: How a call's time is written in listings and JSON: as the API writes it.
DATE_FORMAT = CALL_TIME_FORMAT


def format_call_time(moment: datetime) -> str:
    """A call's time as the PBX's clock showed it, ``2025-10-08 13:34:11``.

    In the autumn hour that the clock shows twice the zone's abbreviation tells the two
    apart: ``2025-10-26 01:30:00 BST`` came an hour before ``2025-10-26 01:30:00 GMT``.
    """
    text = moment.strftime(DATE_FORMAT)
    return f"{text} {moment.tzname()}" if repeated(moment) else text


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
        """Raw API fields plus resolved names, for JSON.

        ``timestamp`` is the time with its UTC offset (ISO 8601), which stays unambiguous
        in the autumn hour the PBX's clock shows twice.
        """
        call = self.call
        return {
            "call_id": call.call_id,
            "date": call.date.strftime(DATE_FORMAT),
            "timestamp": call.date.isoformat(),
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

    ``numbers`` are as sent to the API (normalised); ``start`` and ``end`` are on
    ``zone``'s clock. ``requests`` counts the API requests it took (more than one per
    number only when the server refused a range as too long).
    """

    numbers: tuple[str, ...]
    start: datetime
    end: datetime
    rows: tuple[CallRow, ...]
    requests: int = 0
    zone: ZoneInfo = API_ZONE

    @property
    def total_seconds(self) -> int:
        """The calls' durations added up."""
        return sum(row.call.duration for row in self.rows)

    def describe(self) -> str:
        """``"1009, 1007 between 2025-10-08 00:00 and 2025-10-08 23:59"``, for messages."""
        return (
            f"{', '.join(self.numbers)} between {range_text(self.start, self.zone)} "
            f"and {range_text(self.end, self.zone)}"
        )


def _clean_numbers(numbers: Iterable[str] | str, normaliser: PhoneNormaliser) -> tuple[str, ...]:
    """The numbers to ask for, in the form the API writes them, each once.

    The API matches ``phone_number`` as written (``-n 07086202666`` finds calls that
    ``-n "+44 7086 202666"`` does not), and writes numbers as the phonebook stores them:
    so each goes through the reconciler's normalisation. Extensions stay verbatim; text
    that is no number at all is sent as typed.
    """
    if isinstance(numbers, str):  # one number, not its characters
        numbers = [numbers]
    cleaned = tuple(dict.fromkeys(normaliser.canonical(n) for n in numbers if n.strip()))
    if not cleaned:
        raise ConfigError("give at least one phone number or extension")
    return cleaned


#: The most refusals one number's range may meet: a bound on a server that keeps refusing
#: shorter and shorter pieces (27 halvings cut the 130 years the tool accepts to minutes).
MAX_REFUSALS = 32


def _fetch(
    client: SipaltoClient,
    numbers: Sequence[str],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> tuple[list[Call], int]:
    """Every answered call of ``numbers`` in the range, one copy per call id, by time.

    The whole range goes in one request per number. When the server refuses it as too
    long, the range is asked for in pieces of the length its message states, or of half
    the refused piece when it states none (or when a piece that long was refused too);
    what is learnt holds for the other numbers. A piece of one minute refused as too long
    ends it with the server's error.
    """
    found: dict[str, Call] = {}
    requests = 0
    longest: timedelta | None = None
    # Cut in the server's own terms, naive wall times on its clock: they go out as they are.
    first = in_zone(start, zone).replace(tzinfo=None)
    final = in_zone(end, zone).replace(tzinfo=None)
    for number in numbers:
        cursor = first
        refusals = 0
        while True:
            last = piece_end(cursor, final, longest)
            requests += 1
            try:
                calls = client.answered_calls(number, cursor, last, zone=zone)
            except ApiError as exc:
                refusals += 1
                if not refused_as_too_long(exc) or refusals > MAX_REFUSALS:
                    raise
                longest = _shorter(exc, covered(cursor, last))
                continue
            # A call between two of the numbers, or one the server puts in two pieces
            # (its ends are inclusive), comes back twice: keep one per call id.
            for call in calls:
                found.setdefault(call.call_id, call)
            if last >= final:
                break
            cursor = last + MINUTE
    calls = sorted(found.values(), key=lambda call: (instant(call.date), call.call_id))
    return calls, requests


def _shorter(refusal: ApiError, refused: timedelta) -> timedelta:
    """How long a piece to ask for after ``refused`` was refused as too long."""
    stated = stated_limit(refusal)
    # A stated limit no shorter than what was refused means the server counts otherwise
    # (calendar days, say): halving still gets under it.
    shorter = stated if stated is not None and stated < refused else refused / 2
    shorter = timedelta(minutes=int(shorter / MINUTE))
    if shorter < MINUTE:
        raise refusal
    log.info("the server refused %s of call history as too long; asking for %s", refused, shorter)
    return shorter


def list_calls(
    client: SipaltoClient,
    numbers: Iterable[str] | str,
    start: datetime,
    end: datetime,
    *,
    phonebook: Sequence[Contact] | None = None,
    zone: ZoneInfo = API_ZONE,
) -> CallReport:
    """Answered calls of ``numbers`` between ``start`` and ``end`` (inclusive, to the minute).

    ``zone`` is the PBX's clock (default UK time); aware ``start`` and ``end`` are
    converted to it and naive ones are taken to be on it. Numbers are normalised to the
    API's form (extensions verbatim). The range is split only when the server refuses it
    as too long; calls are deduplicated by call id and sorted by time. With a
    ``phonebook`` (the contacts from ``client.list_contacts()``) caller and callee are
    named; without one names are empty.
    """
    normaliser = PhoneNormaliser()
    wanted = _clean_numbers(numbers, normaliser)
    first, last = floor_minute(in_zone(start, zone)), floor_minute(in_zone(end, zone))
    if instant(last) < instant(first):
        raise ConfigError(
            f"the range ends ({range_text(last, zone)}) before it starts "
            f"({range_text(first, zone)})"
        )
    calls, requests = _fetch(client, wanted, first, last, zone)
    directory = NameDirectory(phonebook or (), normaliser=normaliser)
    return CallReport(
        numbers=wanted,
        start=first,
        end=last,
        rows=tuple(directory.row(call) for call in calls),
        requests=requests,
        zone=zone,
    )


def call_time_hint(call_id: str, zone: ZoneInfo = API_ZONE) -> datetime | None:
    """When a call probably happened, read from its id, on ``zone``'s clock, or None.

    Sipalto's call ids appear to end in an Asterisk unique id, ``<unix time>.<sequence>``
    (the docs' ``SIPALTO-THE-ANL-ND2-1759926851.58197`` is dated 2025-10-08 13:34:11, which
    is 1759926851 in UK summer time). Only a hint for where to look: nothing documents it.
    """
    moment = call_id_time(call_id)
    return None if moment is None else moment.astimezone(zone)


def find_call(
    client: SipaltoClient,
    call_id: str,
    numbers: Iterable[str] | str,
    *,
    around: datetime | None = None,
    zone: ZoneInfo = API_ZONE,
) -> Call | None:
    """Look a call up in the history of ``numbers``, or None if it is not there.

    The API has no "get one call", so this lists the calls from the day before ``around``
    to the day after, on ``zone``'s clock (a naive ``around`` is on it already); ``around``
    defaults to :func:`call_time_hint`; without either, :class:`ConfigError`.
    """
    normaliser = PhoneNormaliser()
    wanted = _clean_numbers(numbers, normaliser)
    moment = around or call_time_hint(call_id, zone)
    if moment is None:
        raise ConfigError(f"cannot tell when call {call_id} happened: give its date")
    day = in_zone(moment, zone).date()
    start = wall_time(datetime.combine(day - timedelta(days=1), datetime.min.time()), zone)
    end = wall_time(datetime.combine(day + timedelta(days=1), datetime.max.time()), zone, end=True)
    calls, _ = _fetch(client, wanted, floor_minute(start), floor_minute(end), zone)
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
