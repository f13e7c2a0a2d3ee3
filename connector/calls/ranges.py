"""Date ranges for call history: what a user types, and cutting a range into requests.

Times are naive datetimes in the API's own clock (``YYYY-MM-DD HH:ii``), to the minute.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from connector.api.client import MAX_RANGE_DAYS, RANGE_FORMAT
from connector.errors import ConfigError

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


def floor_minute(moment: datetime) -> datetime:
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
        return floor_minute(now)
    if lowered in ("today", "yesterday"):
        day = now.date() - timedelta(days=1 if lowered == "yesterday" else 0)
        return _day_bound(datetime.combine(day, datetime.min.time()), end)
    relative = _RELATIVE.fullmatch(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        try:
            return floor_minute(now - timedelta(**{_UNITS[unit]: amount}))
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
    last = parse_when(end, now=now, end=True) if end is not None else floor_minute(now)
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
    first, last = floor_minute(start), floor_minute(end)
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
