"""Date ranges for call history: what a user types, and cutting a range a server refuses.

Times are aware datetimes on the PBX's clock (:mod:`connector.api.times`: the API writes
UK wall time whatever the host's zone), to the minute, both ends of a range inclusive.
What a user types is read on that clock too, so ``--start 2025-10-08`` means the same
on every host.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from connector.api.times import (
    API_ZONE,
    check_bounds,
    in_zone,
    instant,
    out_of_range,
    range_text,
    wall_time,
)
from connector.errors import ApiError, ConfigError

#: Accepted date forms, for error messages.
WHEN_FORMS = (
    "YYYY-MM-DD, 'YYYY-MM-DD HH:MM', now, today, yesterday, "
    "or an age such as 30m, 12h, 7d, 2w (minutes, hours, days, weeks ago)"
)

MINUTE = timedelta(minutes=1)
_RELATIVE = re.compile(r"(\d{1,6})\s*([mhdw])", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DAY_FORMAT = "%Y-%m-%d"
_MINUTE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


def floor_minute(moment: datetime) -> datetime:
    # The API's resolution is the minute: a range end of 13:47 includes 13:47:59.
    return moment.replace(second=0, microsecond=0)


def parse_when(
    text: str,
    *,
    now: datetime,
    end: bool = False,
    zone: ZoneInfo = API_ZONE,
    option: str = "",
) -> datetime:
    """A point in time from what a user types, to the minute, on ``zone``'s clock.

    ``YYYY-MM-DD`` is the start of that day, or its last minute (23:59) when ``end`` is
    true; ``YYYY-MM-DD HH:MM`` is that minute; ``now``, ``today``, ``yesterday``; and an
    age before ``now``: ``30m``, ``12h``, ``7d``, ``2w``. A naive ``now`` is taken to be on
    ``zone``'s clock. A wall time the clock shows twice, or skips, is read as the moment
    that widens the range (see :func:`~connector.api.times.wall_time`). Raises
    :class:`ConfigError` naming ``option`` and the text, with the accepted forms or the
    accepted years.
    """
    value = text.strip()
    lowered = value.lower()
    label = f"{option} {text!r}" if option else repr(text)
    today = in_zone(now, zone)
    if lowered == "now":
        return floor_minute(today)
    if lowered in ("today", "yesterday"):
        day = today.date() - timedelta(days=1 if lowered == "yesterday" else 0)
        return _day_bound(datetime.combine(day, datetime.min.time()), zone, end)
    relative = _RELATIVE.fullmatch(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        try:
            moment = instant(today) - timedelta(**{_UNITS[unit]: amount})
        except OverflowError:
            raise out_of_range(label) from None
        return floor_minute(in_zone(check_bounds(moment, label), zone))
    for fmt in _MINUTE_FORMATS:
        try:
            typed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return wall_time(check_bounds(typed, label), zone, end=end)
    try:
        typed = datetime.strptime(value, _DAY_FORMAT)
    except ValueError:
        raise ConfigError(f"{label} is not a date: use {WHEN_FORMS}") from None
    return _day_bound(check_bounds(typed, label), zone, end)


def _day_bound(midnight: datetime, zone: ZoneInfo, end: bool) -> datetime:
    wall = midnight.replace(hour=23, minute=59) if end else midnight
    return floor_minute(wall_time(wall, zone, end=end))


def parse_range(
    start: str | None = None,
    end: str | None = None,
    since: str | None = None,
    *,
    now: datetime,
    zone: ZoneInfo = API_ZONE,
) -> tuple[datetime, datetime]:
    """The range of the command line's ``--start``/``--since`` and ``--end`` options.

    ``since`` is another name for ``start`` (reads better with ages: ``--since 7d``); the
    start defaults to today 00:00 and the end to now, on ``zone``'s clock. Raises
    :class:`ConfigError` when both start and since are given, a date is unreadable or out
    of range, or the range ends before it starts.
    """
    if start is not None and since is not None:
        raise ConfigError("give --start or --since, not both")
    option = "--since" if since is not None else "--start"
    first = parse_when(start or since or "today", now=now, zone=zone, option=option)
    last = parse_when(end or "now", now=now, end=True, zone=zone, option="--end")
    if instant(last) < instant(first):
        raise ConfigError(
            f"the range ends ({range_text(last, zone)}) before it starts "
            f"({range_text(first, zone)})"
        )
    return first, last


def piece_end(start: datetime, end: datetime, longest: timedelta | None) -> datetime:
    """The end of the first request of ``[start, end]`` when a request may cover ``longest``.

    ``start`` and ``end`` are naive wall times on the PBX's clock: the server knows no
    zone, so it measures a range on its clock, and so does this (a piece across a clock
    change is as long there as any other). A piece covers the minutes from its start to
    its end, both inclusive: at most ``longest`` of them (``None``: no limit, the whole
    range). The next piece starts the minute after, so pieces cover a range exactly, no
    minute asked twice.
    """
    if longest is None:
        return end
    return min(start + max(longest, MINUTE) - MINUTE, end)


def covered(start: datetime, end: datetime) -> timedelta:
    """How much of the clock ``[start, end]`` asks for, its end minute included."""
    return floor_minute(end) - floor_minute(start) + MINUTE


_TOO_LONG = re.compile(
    r"too (long|large|wide|big|many days)|exceed|at most|maximum|\bmax\b|longer than|"
    r"more than|greater than|\blimit",
    re.IGNORECASE,
)
_ABOUT_RANGE = re.compile(r"\b(range|period|interval|span|days?|dates?)\b", re.IGNORECASE)
_STATED = re.compile(r"(\d{1,6})\s*(minute|hour|day|week|month)s?\b", re.IGNORECASE)
_UNIT_LENGTHS = {
    "minute": MINUTE,
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=28),  # the shortest month: a stated month is never overshot
}


def refused_as_too_long(error: ApiError) -> bool:
    """True when ``error`` is the server saying a call-history range is too long.

    The API documentation names no limit, so only the refusal says there is one: a 400
    (or a framework's 422) whose message speaks of the range and of a maximum, such as
    ``Date range too long: at most 31 days per request``.
    """
    message = error.detail or str(error)
    return (
        error.status in (400, 422)
        and _TOO_LONG.search(message) is not None
        and _ABOUT_RANGE.search(message) is not None
    )


def stated_limit(error: ApiError) -> timedelta | None:
    """The longest range a too-long refusal names (``at most 31 days``), or None."""
    match = _STATED.search(error.detail or str(error))
    if match is None or int(match.group(1)) < 1:
        return None
    return int(match.group(1)) * _UNIT_LENGTHS[match.group(2).lower()]
