"""How long a server asks a client to wait: the one reading of ``Retry-After`` and of
rate-limit reset headers, for the Sipalto client's pacer and for the CRM reader."""

from __future__ import annotations

import email.utils
import math

__all__ = ["header_number", "parse_delay"]


def header_number(value: str | None) -> float | None:
    """A header's value as a finite number of 0 or more, or None."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def parse_delay(value: str | None, wall: float) -> float | None:
    """Seconds to wait, from a ``Retry-After`` or ``X-RateLimit-Reset`` header.

    Reads a number of seconds, a Unix time (some APIs' reset) or an HTTP date; ``wall``
    is the current Unix time. A moment already past is no wait (0); a missing, negative,
    infinite or unreadable value is ``None``. The one reading of these headers: the
    client's :class:`~connector.errors.RateLimited` carries the delay the pacer obeyed.
    """
    number = header_number(value)
    if number is not None:
        # Nobody asks to wait 30 years: a number this large is a point in time.
        return max(0.0, number - wall) if number > 1e9 else number
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - wall)
