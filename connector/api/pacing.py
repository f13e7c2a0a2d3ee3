"""Client-side pacing: one shared gate that every request passes before it is sent.

The Sipalto API limits requests per *user*, not per token, and answers 429 when the
budget is spent. Pacing is therefore shared by every thread of one client. The
:class:`Pacer` combines three signals:

* a token bucket at the rate the caller configured or the server announced
  (``X-RateLimit-Limit`` over the ``X-RateLimit-Reset`` window), so a steady stream
  stays just under the limit instead of bursting into 429s;
* ``X-RateLimit-Remaining``: when the server says the window is spent, everyone waits
  for the reset instead of each thread discovering it with its own 429;
* ``Retry-After`` on a 429: a shared pause, so N threads do not each retry at once
  (the storm that makes throttling worse).

Time and sleep are injected so tests run without waiting.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Callable, Mapping

#: The longest pause one answer can impose on every thread, in seconds.
MAX_PAUSE = 300.0


def _number(value: str | None) -> float | None:
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
    number = _number(value)
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


class Pacer:
    """A thread-safe gate that spaces requests out.

    ``rate`` is requests per second (``None``: learn it from the server's headers,
    unlimited until then). ``burst`` is how many requests may go at once after a
    quiet spell.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._rate = rate
        self._fixed_rate = rate is not None
        self._burst = max(1.0, burst)
        self._tokens = self._burst
        self._stamp = clock()
        self._paused_until = 0.0
        #: How many 429 answers this pacer has seen (for reports and benchmarks).
        self.throttled = 0

    @property
    def rate(self) -> float | None:
        """The current pace in requests per second, or ``None`` when unlimited."""
        return self._rate

    def acquire(self) -> None:
        """Block until one request may be sent."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._paused_until - now
                if wait <= 0:
                    wait = self._take_token(now)
                    if wait <= 0:
                        return
            self._sleep(wait)

    def _take_token(self, now: float) -> float:
        """Take a token if there is one; else say how long until there is. Lock held."""
        if self._rate is None:
            return 0.0
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        # The epsilon absorbs float error: a wait computed to refill exactly one token
        # can leave 0.9999999, and a tiny wait added to a large clock is lost.
        if self._tokens >= 1.0 - 1e-9:
            self._tokens = max(0.0, self._tokens - 1.0)
            return 0.0
        return (1.0 - self._tokens) / self._rate

    def observe(self, status: int, headers: Mapping[str, str]) -> float | None:
        """Learn from a response's status and rate-limit headers.

        Returns the ``Retry-After`` delay of a 429 (or ``None``), as :func:`parse_delay`
        reads it.
        """
        lowered = {key.lower(): value for key, value in headers.items()}
        limit = _number(lowered.get("x-ratelimit-limit"))
        remaining = _number(lowered.get("x-ratelimit-remaining"))
        wall = self._wall()
        reset = parse_delay(lowered.get("x-ratelimit-reset"), wall)
        retry_after = parse_delay(lowered.get("retry-after"), wall)
        with self._lock:
            now = self._clock()
            if limit and not self._fixed_rate:
                window = reset if reset and reset <= 3600 and remaining == limit - 1 else None
                # The window length is only known for sure when a fresh window starts;
                # until then assume the common one-second window.
                self._learn_rate(limit / (window or 1.0))
            if remaining is not None and remaining <= 0:
                self._pause(now + (reset if reset is not None else 1.0))
            if status == 429:
                self.throttled += 1
                self._pause(now + (retry_after if retry_after is not None else 1.0))
                # Having been throttled means we were too fast: drain the bucket so the
                # threads resume one by one rather than in a burst.
                self._tokens = 0.0
        return retry_after if status == 429 else None

    def _learn_rate(self, rate: float) -> None:
        # Keep a small margin under the announced limit: clocks and windows on the two
        # sides never line up exactly.
        paced = rate * 0.97
        if self._rate is None or abs(self._rate - paced) > 1e-9:
            self._rate = paced
            self._burst = max(1.0, min(self._burst, paced))

    def _pause(self, until: float) -> None:
        # A server asking for an hour's silence is refused by the client instead
        # (``RetryPolicy.max_retry_after``); never freeze every thread that long.
        until = min(until, self._clock() + MAX_PAUSE)
        self._paused_until = max(self._paused_until, until)
