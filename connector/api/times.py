"""The API's clock: wall times of the PBX's time zone, written without an offset.

Sipalto writes a call's time as ``2025-10-08 13:34:11`` and reads range ends as
``2025-10-08 13:47``: local time in the UK, where the service runs (the documentation's
call ``...-1759926851`` is 13:34:11 on 2025-10-08, British Summer Time), not the time of
the host the tool runs on. Inside the tool every time is an aware ``datetime``; this
module is where they meet the API's text, and the only place that knows the zone's
quirks:

* the autumn hour that happens twice (``01:30`` on the last Sunday of October is two
  moments): a call's own id carries its Unix time (``<unix time>.<sequence>``, an Asterisk
  unique id), which tells the two apart; a typed time picks the moment that widens the
  range it bounds;
* the spring hour that does not exist (``01:30`` on the last Sunday of March): a typed
  time there is moved to the edge of the gap, again widening its range.

Aware datetimes compare by wall time when they share a ``tzinfo`` (Python ignores
``fold`` then), so order and arithmetic go through UTC: see :func:`instant`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.errors import ConfigError

#: The PBX's time zone unless ``SIPALTO_TIMEZONE`` or ``--timezone`` says otherwise.
DEFAULT_TIMEZONE = "Europe/London"

#: How the API writes a call's time.
CALL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

#: The earliest and latest wall times the tool asks the API about. Before 1970 no call exists
#: (and a Unix time is negative); past 2099 a date is a typo, and near the year 9999 the
#: arithmetic of a range would leave the calendar.
EARLIEST = datetime(1970, 1, 1)
LATEST = datetime(2099, 12, 31, 23, 59)

_MINUTE = timedelta(minutes=1)
_ASTERISK_ID = re.compile(r"(\d{9,11})\.\d+$")
# A call id's Unix time is when the channel was made: the answer comes a little later.
_ID_SLACK = timedelta(minutes=5)


def zone_named(name: str, *, option: str = "SIPALTO_TIMEZONE") -> ZoneInfo:
    """The time zone called ``name`` (an IANA name such as ``Europe/London``).

    Raises :class:`ConfigError` naming ``option`` when there is no such zone.
    """
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"{option} {name!r} is not a time zone: give an IANA name such as "
            f"{DEFAULT_TIMEZONE} or UTC"
        ) from None


#: The zone of the Sipalto service's clock.
API_ZONE = zone_named(DEFAULT_TIMEZONE)


def instant(moment: datetime) -> datetime:
    """``moment`` in UTC, for ordering and arithmetic that respect ``fold``."""
    return moment.astimezone(timezone.utc)


def in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` on ``zone``'s clock; a naive ``moment`` is taken to be on it already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    # Through UTC: astimezone() to the very same tzinfo returns its argument unchanged,
    # which would keep a wall time that does not exist.
    return instant(moment).astimezone(zone)


def exists(moment: datetime) -> bool:
    """False for a wall time in a spring-forward gap (its zone's clock never shows it)."""
    if moment.tzinfo is None:
        return True
    shown = instant(moment).astimezone(moment.tzinfo)
    return shown.replace(tzinfo=None) == moment.replace(tzinfo=None)


def repeated(moment: datetime) -> bool:
    """True for a wall time its zone's clock shows twice (the autumn hour)."""
    if moment.tzinfo is None:
        return False
    first, second = moment.replace(fold=0), moment.replace(fold=1)
    return first.utcoffset() != second.utcoffset() and exists(moment)


def wall_time(naive: datetime, zone: ZoneInfo, *, end: bool = False) -> datetime:
    """A typed wall time on ``zone``'s clock, as the moment that widens the range it bounds.

    As a range start (``end`` false) a repeated time is its first moment and a time in a
    spring gap becomes the first minute after the gap; as a range end, the second moment
    and the last minute before the gap.
    """
    moment = naive.replace(tzinfo=zone, fold=1 if end else 0)
    if exists(moment):
        return moment
    # fold=1 reads a time in the gap with the offset from after the change, which lands
    # before the gap: walk on from there to the first minute the clock shows past it.
    after = instant(moment.replace(fold=1)).replace(second=0, microsecond=0)
    while after.astimezone(zone).replace(tzinfo=None) <= naive:
        after += _MINUTE
    return (after - _MINUTE if end else after).astimezone(zone)


def check_bounds(wall: datetime, what: str) -> datetime:
    """``wall`` (a naive wall time) if it lies from :data:`EARLIEST` to :data:`LATEST`.

    Else :func:`out_of_range` naming ``what`` (``--start '0001-01-01'``). Checked before
    any time zone arithmetic, which fails near the ends of the calendar.
    """
    if EARLIEST <= wall.replace(tzinfo=None) <= LATEST:
        return wall
    raise out_of_range(what)


def out_of_range(what: str) -> ConfigError:
    """The error for a date outside the years the tool asks about, naming ``what``."""
    return ConfigError(
        f"{what} is out of range: give a date from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}"
    )


def range_text(moment: datetime, zone: ZoneInfo) -> str:
    """A range end as the API reads it: ``2025-10-08 13:47`` on ``zone``'s clock.

    The year always has four digits (``strftime`` writes year 1 as ``1``); a naive
    ``moment`` is taken to be on ``zone``'s clock already.
    """
    wall = in_zone(moment, zone)
    return f"{wall.year:04d}-{wall.month:02d}-{wall.day:02d} {wall.hour:02d}:{wall.minute:02d}"


def call_id_time(call_id: str) -> datetime | None:
    """The Unix time a Sipalto call id ends with, in UTC, or None.

    Call ids appear to end in an Asterisk unique id, ``<unix time>.<sequence>``: the docs'
    ``SIPALTO-THE-ANL-ND2-1759926851.58197`` is dated 13:34:11 BST on 2025-10-08, which is
    1759926851. Nothing documents it, so it is only ever a hint.
    """
    match = _ASTERISK_ID.search(call_id.strip())
    if match is None:
        return None
    moment = datetime.fromtimestamp(int(match.group(1)), timezone.utc)
    return moment if EARLIEST <= moment.replace(tzinfo=None) <= LATEST else None


def call_time(text: str, zone: ZoneInfo, *, call_id: str = "") -> datetime:
    """A call's time as the API writes it, on ``zone``'s clock.

    In the autumn hour that happens twice the call id's own time says which of the two
    moments it was; without a usable id it is the first. Raises ``ValueError`` for text
    that is not ``YYYY-MM-DD HH:MM:SS``, or a time with no UTC equivalent.
    """
    moment = datetime.strptime(text.strip(), CALL_TIME_FORMAT).replace(tzinfo=zone)
    try:
        instant(moment)  # calls are ordered in UTC: the year 1 in Tokyo has no UTC time
    except OverflowError:
        raise ValueError(f"call time {text!r} is outside the calendar in UTC") from None
    if not repeated(moment):
        return moment
    stamp = call_id_time(call_id)
    second = moment.replace(fold=1)
    if stamp is not None and abs(instant(second) - stamp) <= _ID_SLACK:
        return second
    return moment
