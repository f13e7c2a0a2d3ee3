"""Call history: answered calls with names from the phonebook, recordings and transcripts.

The raw API knows numbers; the phonebook knows who they are. This module joins the two:

* :func:`list_calls` asks for the answered calls of one or more numbers over any range
  (split into requests the server accepts, merged and deduplicated by call id) and names
  caller and callee from the phonebook with the reconciler's number normalisation, so
  ``07086202666`` and ``+44 7086 202666`` are the same number. Extensions (``1009``)
  compare verbatim.
* :func:`save_recording` saves a call's WAV, refusing to overwrite unless told to.
* :func:`fetch_transcript` / :func:`transcript_lines` turn the API's segments into an
  ordered conversation, recognising the combined "summary" segment the API sends first.

Pure helpers (:func:`parse_when`, :func:`split_range`, :class:`NameDirectory`,
:func:`transcript_lines`, the ``write_*`` renderers) do no I/O; the thin I/O functions take
a :class:`~connector.api.client.SipaltoClient`.

Times are naive local datetimes, as the API gives and takes them (``YYYY-MM-DD HH:ii``).
"""

from __future__ import annotations

import csv
import json
import re
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from connector.api.client import CALL_RECORDING, RANGE_FORMAT, SipaltoClient
from connector.errors import BadResponse, ConfigError, NotFound, Rejected
from connector.files import atomic_write
from connector.model import Call, Contact, TranscriptSegment
from connector.reconcile.phones import PhoneNormaliser
from connector.ui.tables import new_table, print_all

__all__ = [
    "CALL_FORMATS",
    "MAX_RANGE_DAYS",
    "SHOWN_NAMES",
    "TRANSCRIPT_FORMATS",
    "CallReport",
    "CallRow",
    "NameDirectory",
    "Transcript",
    "TranscriptLine",
    "WavInfo",
    "call_time_hint",
    "check_wav",
    "default_recording_name",
    "fetch_transcript",
    "find_call",
    "format_duration",
    "format_offset",
    "list_calls",
    "parse_range",
    "parse_speaker_names",
    "parse_when",
    "save_recording",
    "split_range",
    "transcript_lines",
    "transcript_srt",
    "transcript_text",
    "write_calls",
    "write_transcript",
]

#: The longest range one call-history request may cover, in days. The API documentation
#: names no limit; the sandbox refuses more than 31 days, and a month per request is the
#: cautious guess for the real service too.
MAX_RANGE_DAYS = 31

CALL_FORMATS = ("table", "csv", "json")
TRANSCRIPT_FORMATS = ("text", "json", "srt")

#: Accepted date forms, for error messages.
WHEN_FORMS = (
    "YYYY-MM-DD, 'YYYY-MM-DD HH:MM', now, today, yesterday, "
    "or an age such as 30m, 12h, 7d, 2w (minutes, hours, days, weeks ago)"
)

_MINUTE = timedelta(minutes=1)
_RELATIVE = re.compile(r"(\d{1,6})\s*([mhdw])", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DAY_FORMAT = "%Y-%m-%d"
_MINUTE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


# -- dates and ranges ---------------------------------------------------------------------


def _floor_minute(moment: datetime) -> datetime:
    # The API's resolution is the minute: a range end of 13:47 includes 13:47:59.
    return moment.replace(second=0, microsecond=0)


def parse_when(text: str, *, now: datetime, end: bool = False) -> datetime:
    """A point in time from what a user types, to the minute.

    ``YYYY-MM-DD`` is the start of that day, or its last minute (23:59) when ``end`` is
    true; ``YYYY-MM-DD HH:MM`` is that minute; ``now``, ``today``, ``yesterday``; and an
    age before ``now``: ``30m``, ``12h``, ``7d``, ``2w``. Raises :class:`ConfigError`
    naming the text and the accepted forms.
    """
    value = text.strip()
    lowered = value.lower()
    if lowered == "now":
        return _floor_minute(now)
    if lowered in ("today", "yesterday"):
        day = now.date() - timedelta(days=1 if lowered == "yesterday" else 0)
        return _day_bound(datetime.combine(day, datetime.min.time()), end)
    relative = _RELATIVE.fullmatch(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        try:
            return _floor_minute(now - timedelta(**{_UNITS[unit]: amount}))
        except OverflowError:
            raise ConfigError(f"date {text!r} is too far in the past") from None
    for fmt in _MINUTE_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            pass
    try:
        return _day_bound(datetime.strptime(value, _DAY_FORMAT), end)
    except ValueError:
        pass
    raise ConfigError(f"cannot read the date {text!r}: use {WHEN_FORMS}")


def _day_bound(midnight: datetime, end: bool) -> datetime:
    return midnight.replace(hour=23, minute=59) if end else midnight


def parse_range(
    start: str | None = None,
    end: str | None = None,
    since: str | None = None,
    *,
    now: datetime,
) -> tuple[datetime, datetime]:
    """The range of the command line's ``--start``/``--since`` and ``--end`` options.

    ``since`` is another name for ``start`` (reads better with ages: ``--since 7d``); the
    start defaults to today 00:00 and the end to now. Raises :class:`ConfigError` when both
    start and since are given or the range ends before it starts.
    """
    if start is not None and since is not None:
        raise ConfigError("give --start or --since, not both")
    first = parse_when(start or since or "today", now=now)
    last = parse_when(end, now=now, end=True) if end is not None else _floor_minute(now)
    if last < first:
        raise ConfigError(
            f"the range ends ({last:{RANGE_FORMAT}}) before it starts ({first:{RANGE_FORMAT}})"
        )
    return first, last


def split_range(
    start: datetime, end: datetime, max_days: int = MAX_RANGE_DAYS
) -> list[tuple[datetime, datetime]]:
    """Cut ``[start, end]`` (minutes, both ends inclusive) into pieces the server accepts.

    Each piece covers at most ``max_days`` days of minutes (its end is less than
    ``max_days`` after its start); the next piece starts the minute after the previous one
    ends, so together they cover the range exactly with no minute asked twice. Seconds are
    dropped, as the API does.
    """
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    first, last = _floor_minute(start), _floor_minute(end)
    if last < first:
        raise ConfigError(
            f"the range ends ({last:{RANGE_FORMAT}}) before it starts ({first:{RANGE_FORMAT}})"
        )
    span = timedelta(days=max_days) - _MINUTE
    pieces = []
    while True:
        piece_end = min(first + span, last)
        pieces.append((first, piece_end))
        if piece_end == last:
            return pieces
        first = piece_end + _MINUTE


# -- names --------------------------------------------------------------------------------


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
            "date": call.date.strftime(_DATE_FORMAT),
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


# -- listing calls ------------------------------------------------------------------------


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
        start=_floor_minute(start),
        end=_floor_minute(end),
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
def _about_call(call_id: str, what: str) -> Iterator[None]:
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


# -- recordings -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WavInfo:
    """What a WAV header says: ``format_tag`` 1 is PCM, 6/7 A-law/mu-law (telephony)."""

    format_tag: int
    channels: int
    sample_rate: int
    bits_per_sample: int
    data_bytes: int
    byte_rate: int

    @property
    def seconds(self) -> float:
        """The audio's length."""
        return self.data_bytes / self.byte_rate


def check_wav(data: bytes) -> WavInfo:
    """Check that ``data`` is a WAV file with audio, and read its header.

    Walks the RIFF chunks rather than using :mod:`wave`, which refuses the A-law/mu-law
    encodings phone systems record in. Raises :class:`BadResponse` when it is not audio.
    """

    def bad(why: str) -> BadResponse:
        return BadResponse(f"the recording is not valid WAV audio: {why}", endpoint=CALL_RECORDING)

    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise bad("no RIFF/WAVE header")
    fmt: tuple[int, ...] | None = None
    position = 12
    while position + 8 <= len(data):
        chunk, size = data[position : position + 4], struct.unpack_from("<I", data, position + 4)[0]
        body = position + 8
        if chunk == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise bad("short format chunk")
            fmt = struct.unpack_from("<HHIIHH", data, body)
        elif chunk == b"data":
            if fmt is None:
                raise bad("audio data before the format chunk")
            tag, channels, rate, byte_rate, _, bits = fmt
            if channels < 1 or rate < 1 or byte_rate < 1:
                raise bad("impossible format (no channels or no sample rate)")
            # Streamed recordings may leave the size at 0 or 0xFFFFFFFF: count what is there.
            available = len(data) - body
            length = available if size in (0, 0xFFFFFFFF) else min(size, available)
            return WavInfo(tag, channels, rate, bits, length, byte_rate)
        position = body + size + (size & 1)  # chunks are padded to an even length
    raise bad("no audio data chunk" if fmt else "no format chunk")


def default_recording_name(call_id: str) -> str:
    """A safe file name for a call's recording: the call id with ``.wav``."""
    # Whoever typed or sent the id, it must never name a path outside the folder.
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", call_id.strip()).lstrip(".")
    return f"{safe or 'recording'}.wav"


def save_recording(
    client: SipaltoClient,
    call_id: str,
    path: str | Path | None = None,
    *,
    force: bool = False,
) -> Path:
    """Download a call's recording, check it is WAV audio, and save it; return the path.

    ``path`` defaults to :func:`default_recording_name` in the current folder; a folder
    gets that name inside it. An existing file is replaced only with ``force``, else
    :class:`ConfigError` naming it (checked before downloading).
    """
    call_id = call_id.strip()
    if not call_id:
        raise ConfigError("give a call id")
    target = Path(path) if path is not None else Path(default_recording_name(call_id))
    if target.is_dir():
        target = target / default_recording_name(call_id)
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; use --force to overwrite it")
    with _about_call(call_id, "recording"):
        audio = client.call_recording(call_id)
    check_wav(audio)
    _write_bytes(target, audio, replace=force)
    return target


def _write_bytes(target: Path, data: bytes, *, replace: bool) -> None:
    """Write all of ``data`` or nothing, so a failure never leaves half a WAV behind."""
    try:
        atomic_write(target, data, mode=None, overwrite=replace)
    except FileExistsError:
        # Taken since the check above: never clobber a file without --force.
        raise ConfigError(f"{target} already exists; use --force to overwrite it") from None


# -- transcripts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One spoken segment: times in milliseconds from the start of the recording."""

    start_ms: float
    end_ms: float
    speaker: str  # the diarization label, "0", "1", ...
    label: str  # what to show: "Speaker 0", or a name given by the user
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    """A call's conversation in time order, without the API's combined summary segment.

    ``summary`` is that segment when one was recognised; ``call`` the call with its names
    when it was looked up.
    """

    call_id: str
    lines: tuple[TranscriptLine, ...]
    summary: TranscriptSegment | None = None
    call: CallRow | None = None

    @property
    def long(self) -> bool:
        """True when the conversation reaches an hour (times then show hours)."""
        return any(line.start_ms >= 3_600_000 for line in self.lines)


def parse_speaker_names(values: Iterable[str] | str) -> dict[str, str]:
    """``"0=Alice,1=Bob"`` (or several such values) to ``{"0": "Alice", "1": "Bob"}``.

    A name may be ``caller`` or ``callee``: :func:`transcript_lines` puts in that party's
    phonebook name, or number, when the call is known.
    """
    if isinstance(values, str):
        values = [values]
    names: dict[str, str] = {}
    for value in values:
        for pair in value.split(","):
            if not pair.strip():
                continue
            speaker, sep, name = pair.partition("=")
            if not sep or not speaker.strip() or not name.strip():
                raise ConfigError(
                    f"speaker name {pair.strip()!r}: write SPEAKER=NAME, e.g. 0=Alice"
                )
            names[speaker.strip()] = name.strip()
    return names


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


# Timestamps are floats with two decimals; a summary's ends equal its segments' ends.
_EDGE_MS = 1.0
# Transcribed twice (summary and segments), the same speech may differ by a word or two.
_CONTAINED_SHARE = 0.8
_SHARED_WORDS = 0.6
_LENGTH_RATIO = (0.7, 1.5)


def _summary_index(segments: Sequence[TranscriptSegment]) -> int | None:
    """Which segment is the API's combined summary, if any.

    A summary spans from the earliest start to the latest end of the other segments, has
    about as many words as they have together, and holds (almost) all their texts; the
    first segment, where the API puts it, need only share most of their words (it may be
    transcribed a little differently). Times alone are not enough: a long monologue with
    a short "Right." inside it spans the other segment too, but is far longer than it.
    """
    if len(segments) < 2:
        return None
    words = [_words(seg.text) for seg in segments]
    # A segment spans the others exactly when it spans them all, itself included.
    first_start = min(seg.start_ms for seg in segments)
    last_end = max(seg.end_ms for seg in segments)
    for index, candidate in enumerate(segments):
        if candidate.start_ms > first_start + _EDGE_MS or candidate.end_ms < last_end - _EDGE_MS:
            continue
        texts = [text for i, text in enumerate(words) if i != index and text]
        other_words = " ".join(texts).split()
        own_words = words[index].split()
        ratio = len(own_words) / len(other_words) if other_words else 0.0
        if not _LENGTH_RATIO[0] <= ratio <= _LENGTH_RATIO[1]:
            continue
        whole = f" {words[index]} "
        contained = sum(f" {text} " in whole for text in texts)
        if contained >= _CONTAINED_SHARE * len(texts):
            return index
        vocabulary = set(own_words)
        shared = sum(word in vocabulary for word in other_words)
        if index == 0 and shared >= _SHARED_WORDS * len(other_words):
            return index
    return None


def transcript_lines(
    segments: Sequence[TranscriptSegment],
    *,
    call: Call | None = None,
    speaker_names: Mapping[str, str] | None = None,
    directory: NameDirectory | None = None,
    call_id: str | None = None,
) -> Transcript:
    """The conversation in time order, the summary segment set apart.

    Speakers are ``Speaker 0``, ``Speaker 1``... as diarization numbers them: nothing says
    which is the caller, so only ``speaker_names`` renames them. A name ``caller`` or
    ``callee`` becomes that party's phonebook name (from ``directory``) or number when
    ``call`` is known, else ``Caller``/``Callee``.
    """
    row = (directory or NameDirectory()).row(call) if call is not None else None
    summary_at = _summary_index(segments)
    names = dict(speaker_names or {})
    ordered = sorted(
        (seg for i, seg in enumerate(segments) if i != summary_at),
        key=lambda seg: (seg.start_ms, seg.end_ms),
    )
    lines = tuple(
        TranscriptLine(
            start_ms=seg.start_ms,
            end_ms=seg.end_ms,
            speaker=seg.speaker,
            label=_speaker_label(seg.speaker, names, row),
            text=seg.text.strip(),
        )
        for seg in ordered
    )
    if call_id is None:
        call_id = call.call_id if call else (segments[0].call_id if segments else "")
    return Transcript(
        call_id=call_id,
        lines=lines,
        summary=segments[summary_at] if summary_at is not None else None,
        call=row,
    )


def _speaker_label(speaker: str, names: Mapping[str, str], row: CallRow | None) -> str:
    name = names.get(speaker)
    if name is None:
        return f"Speaker {speaker}" if speaker else "Speaker ?"
    role = name.lower()
    if role not in ("caller", "callee"):
        return name
    if row is None:
        return role.capitalize()
    if role == "caller":
        return row.caller_name or row.call.caller
    return row.callee_name or row.call.callee


def fetch_transcript(
    client: SipaltoClient,
    call_id: str,
    *,
    numbers: Iterable[str] | str = (),
    around: datetime | None = None,
    phonebook: Sequence[Contact] | None = None,
    speaker_names: Mapping[str, str] | None = None,
) -> Transcript:
    """A call's transcript, ordered, with the call's details when it can be found.

    With ``numbers`` (a party of the call, e.g. its extension) the call is looked up with
    :func:`find_call` near ``around`` and named from ``phonebook``. An unknown call id
    raises :class:`~connector.errors.NotFound`; a call with nothing transcribed (a few
    seconds long) :class:`~connector.errors.Rejected`, as the API answers.
    """
    call_id = call_id.strip()
    if not call_id:
        raise ConfigError("give a call id")
    # Transcript first: an unknown call id fails here, before any history is listed.
    with _about_call(call_id, "transcript"):
        segments = client.call_transcription(call_id)
    wanted = [numbers] if isinstance(numbers, str) else list(numbers)
    call = find_call(client, call_id, wanted, around=around) if wanted else None
    return transcript_lines(
        segments,
        call=call,
        speaker_names=speaker_names,
        directory=NameDirectory(phonebook or ()),
        call_id=call_id,
    )


# -- formatting -----------------------------------------------------------------------------


def format_duration(seconds: float) -> str:
    """``41`` -> ``"0:41"``, ``754`` -> ``"12:34"``, ``5025`` -> ``"1:23:45"``."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_offset(ms: float, *, hours: bool = False) -> str:
    """A time into the call: ``9680`` -> ``"00:09"``; ``"0:00:09"`` with ``hours``.

    Seconds are truncated, as a clock shows them; past an hour hours always show.
    """
    total = max(0, int(ms // 1000))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if hours or h else f"{m:02d}:{s:02d}"


def _srt_time(ms: float) -> str:
    total = max(0, round(ms))
    h, rest = divmod(total, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{milli:03d}"


# -- rendering calls ------------------------------------------------------------------------

_CSV_FIELDS = (
    "call_id",
    "date",
    "direction",
    "disposition",
    "caller",
    "caller_name",
    "callee",
    "callee_name",
    "duration",
    "duration_text",
)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def write_calls(report: CallReport, fmt: str, out: TextIO, *, color: bool = False) -> None:
    """Write a call report as a ``table`` (with totals), ``csv`` or ``json``."""
    writers = {"table": _calls_table, "csv": _calls_csv, "json": _calls_json}
    if fmt not in writers:
        raise ConfigError(f"unknown call list format {fmt!r}: use {', '.join(CALL_FORMATS)}")
    writers[fmt](report, out, color)


def _calls_table(report: CallReport, out: TextIO, color: bool) -> None:
    if not report.rows:
        print_all(out, f"No answered calls for {report.describe()}.", color=color, width=160)
        return
    table = new_table(color=color)
    table.add_column("time", no_wrap=True)
    table.add_column("direction", no_wrap=True)
    table.add_column("caller", overflow="fold")
    table.add_column("callee", overflow="fold")
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("call id", no_wrap=True)
    for row in report.rows:
        table.add_row(
            row.call.date.strftime(_DATE_FORMAT),
            row.call.direction,
            row.caller_display,
            row.callee_display,
            format_duration(row.call.duration),
            row.call.call_id,
        )
    total = f"{_count(len(report.rows), 'call')}, total {format_duration(report.total_seconds)}"
    print_all(out, table, total, color=color, width=160)


def _calls_csv(report: CallReport, out: TextIO, color: bool) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_CSV_FIELDS)
    for row in report.rows:
        data = row.to_dict()
        data["duration_text"] = format_duration(row.call.duration)
        writer.writerow([data[name] for name in _CSV_FIELDS])


def _calls_json(report: CallReport, out: TextIO, color: bool) -> None:
    json.dump([row.to_dict() for row in report.rows], out, indent=2, ensure_ascii=False)
    out.write("\n")


# -- rendering transcripts ------------------------------------------------------------------


def write_transcript(
    transcript: Transcript, fmt: str, out: TextIO, *, summary: bool = False
) -> None:
    """Write a transcript as ``text``, ``json`` or ``srt`` subtitles.

    ``summary`` adds the API's combined summary before the text lines; JSON always carries
    it and SRT never does (a cue spanning the whole call would hide the others).
    """
    if fmt == "text":
        out.write(transcript_text(transcript, summary=summary))
    elif fmt == "json":
        json.dump(_transcript_dict(transcript), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "srt":
        out.write(transcript_srt(transcript))
    else:
        raise ConfigError(f"unknown transcript format {fmt!r}: use {', '.join(TRANSCRIPT_FORMATS)}")


def transcript_text(transcript: Transcript, *, summary: bool = False) -> str:
    """Readable lines, ``[00:09] Speaker 1: Hello, how can I help you?``, with a header
    naming the call when it is known and the summary first when asked for."""
    parts: list[str] = []
    row = transcript.call
    if row is not None:
        call = row.call
        parts.append(
            f"Call {call.call_id} on {call.date:{_DATE_FORMAT}} "
            f"({call.direction}, {format_duration(call.duration)})"
        )
        parts.append(f"From {row.caller_display} to {row.callee_display}")
        parts.append("")
    if summary and transcript.summary is not None:
        parts.append(f"Summary: {transcript.summary.text.strip()}")
        parts.append("")
    long = transcript.long
    parts.extend(
        f"[{format_offset(line.start_ms, hours=long)}] {line.label}: {line.text}"
        for line in transcript.lines
    )
    return "".join(f"{part}\n" for part in parts)


def transcript_srt(transcript: Transcript) -> str:
    """SubRip subtitles: ``1\\n00:00:06,880 --> 00:00:09,280\\nSpeaker 0: Hello?\\n\\n``."""
    cues = []
    for number, line in enumerate(transcript.lines, start=1):
        end = max(line.end_ms, line.start_ms)
        cues.append(
            f"{number}\n{_srt_time(line.start_ms)} --> {_srt_time(end)}\n"
            f"{line.label}: {line.text}\n\n"
        )
    return "".join(cues)


def _transcript_dict(transcript: Transcript) -> dict[str, Any]:
    summary = transcript.summary
    long = transcript.long
    return {
        "call_id": transcript.call_id,
        "call": transcript.call.to_dict() if transcript.call else None,
        "summary": None
        if summary is None
        else {
            "speaker": summary.speaker,
            "start_ms": summary.start_ms,
            "end_ms": summary.end_ms,
            "text": summary.text,
        },
        "lines": [
            {
                "start": format_offset(line.start_ms, hours=long),
                "start_ms": line.start_ms,
                "end_ms": line.end_ms,
                "speaker": line.speaker,
                "label": line.label,
                "text": line.text,
            }
            for line in transcript.lines
        ],
    }
