"""The sandbox's per-user rate limit: fixed or sliding windows, and the headers servers send.

Real APIs announce their limits in different ways, and a client must cope with each:

* ``full``: ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds until the count
  next drops) on every answer, ``Retry-After`` on a ``429``. Many hosted APIs do this.
* ``laravel``: what Laravel's ``throttle`` middleware (a common PHP API stack) sends:
  only ``Limit`` and ``Remaining`` on an answer that passes; a ``429`` adds
  ``Retry-After`` and ``X-RateLimit-Reset``, both in whole seconds (the reset as a Unix
  time). The window's length is never announced.
* ``laravel-bare``: as ``laravel``, without ``X-RateLimit-Reset`` on the ``429``.

A *fixed* window starts with the first request after the previous one ended (as
Laravel's does) and lets ``requests`` through until it ends; a *sliding* window lets a
request through when fewer than ``requests`` were let through in the last ``window``
seconds. A refused request is not counted.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field

from connector.errors import ConfigError

#: How a server announces its limit (see the module docstring).
HEADER_STYLES = ("full", "laravel", "laravel-bare")
#: How a server counts requests against its limit.
WINDOW_KINDS = ("fixed", "sliding")
#: The longest window a sandbox accepts, in seconds (a day).
MAX_WINDOW = 86400.0


def parse_rate(text: str) -> tuple[int, float]:
    """``"25"``, ``"25/s"``, ``"25/1"``, ``"100/60"`` -> (requests, window seconds)."""
    count, _, window = text.strip().partition("/")
    try:
        requests = int(count)
        seconds = 1.0 if window.strip() in ("", "s") else float(window.strip().rstrip("s"))
    except ValueError:
        raise ConfigError(f"rate limit {text!r}: write N or N/S, e.g. 25/1") from None
    # NaN passes every comparison, so the range is checked the way round that refuses it.
    if requests < 1 or not 0 < seconds <= MAX_WINDOW:
        raise ConfigError(
            f"rate limit {text!r}: N must be at least 1 and S between 0 and {MAX_WINDOW:.0f} "
            "seconds (e.g. 25/1)"
        )
    return requests, seconds


@dataclass(frozen=True)
class RateLimit:
    """A limit of ``requests`` per ``window`` seconds per user, and how it is announced."""

    requests: int
    window: float
    headers: str = "full"
    kind: str = "fixed"

    def __post_init__(self) -> None:
        if self.requests < 1 or not 0 < self.window <= MAX_WINDOW:
            raise ConfigError(
                f"rate limit {self.requests}/{self.window}: N must be at least 1 and S "
                f"between 0 and {MAX_WINDOW:.0f} seconds"
            )
        if self.headers not in HEADER_STYLES:
            raise ConfigError(
                f"rate-limit headers {self.headers!r}: choose {', '.join(HEADER_STYLES)}"
            )
        if self.kind not in WINDOW_KINDS:
            raise ConfigError(f"rate-limit window {self.kind!r}: choose {', '.join(WINDOW_KINDS)}")


@dataclass(frozen=True)
class Verdict:
    """Whether one request may pass, and the rate-limit headers its answer carries."""

    allowed: bool
    headers: dict[str, str]


@dataclass
class _Window:
    """One user's count: the times of the requests let through in the current window."""

    start: float = -math.inf
    times: deque[float] = field(default_factory=deque)


class RateLimiter:
    """Counts each user's requests against a :class:`RateLimit`. Thread-safe.

    Time is passed in (``now`` from the sandbox's monotonic clock, ``wall`` the Unix
    time) so tests decide it.
    """

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def hit(self, key: str, now: float, wall: float) -> Verdict:
        """Count a request of ``key`` made at ``now``; refuse it when the window is spent."""
        limit, window = self.limit.requests, self.limit.window
        with self._lock:
            current = self._windows.setdefault(key, _Window())
            if self.limit.kind == "fixed":
                if now - current.start >= window:
                    current.start = now
                    current.times.clear()
            else:
                while current.times and now - current.times[0] >= window:
                    current.times.popleft()
            allowed = len(current.times) < limit
            if allowed:
                current.times.append(now)
            # When the count next drops: the fixed window's end, or the oldest request
            # leaving the sliding window.
            oldest = current.start if self.limit.kind == "fixed" else current.times[0]
            reset = max(0.0, oldest + window - now)
            remaining = limit - len(current.times)
        return Verdict(allowed, self._headers(allowed, remaining, reset, wall))

    def _headers(self, allowed: bool, remaining: int, reset: float, wall: float) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit.requests),
            "X-RateLimit-Remaining": str(remaining),
        }
        # Whole seconds, rounded up: a client that waits this long never arrives early.
        retry_after = max(1, math.ceil(reset))
        if self.limit.headers == "full":
            # Rounded up to the millisecond for the same reason.
            headers["X-RateLimit-Reset"] = f"{math.ceil(reset * 1000) / 1000:.3f}"
            if not allowed:
                headers["Retry-After"] = str(retry_after)
            return headers
        if allowed:
            return headers
        headers["Retry-After"] = str(retry_after)
        if self.limit.headers == "laravel":
            headers["X-RateLimit-Reset"] = str(math.ceil(wall + reset))
        return headers
