"""Client-side pacing: one shared gate that every request passes before it is sent.

The Sipalto API limits requests per *user*, not per token, and answers 429 when the
budget is spent. Pacing is therefore shared by every thread of one client.

Servers announce their limit in different ways. Some send ``X-RateLimit-Limit``,
``-Remaining`` and ``-Reset`` on every answer; Laravel's throttle middleware (a common
PHP API stack) sends only ``Limit`` and ``Remaining``, and says when to come back only on
the 429, in whole seconds; none says how long its window is, and the window may be
fixed or sliding. So the :class:`Pacer` *learns* the window from what it sees:

* Every answer's ``Remaining`` says how many requests the server counts in its window
  now (``limit - remaining``). The pacer remembers when each of its requests reached
  the server (halfway through its round trip), so the n-th latest of them is the oldest
  one the server still counts: the window is longer than the time since then. The one
  before it has left the window, which bounds the window from above (for a fixed
  window, from when the window it belonged to began; for a sliding one, from its own
  time). Which kind the server has shows too: only a sliding window still counts a
  request whose own answer counted older ones that have since left.
* ``X-RateLimit-Reset`` (on any answer) and ``Retry-After`` (on a 429) say when the
  oldest counted request stops counting, to the second (or better): bounds both ways.
* Between the bounds, a round length (whole seconds, a minute, an hour) is preferred:
  servers are configured in round numbers. Until a bound from above is seen, the
  shortest common length above the lower bound is assumed (one second at first).
* A request whose round trip was far longer than usual (a latency spike) reached the
  server at a moment nobody knows: what it would teach is ignored.

Requests are then spaced evenly at ``limit / window`` with a small margin, which keeps
both kinds of window just under the limit without a 429. When ``Remaining`` says the
window is spent, everyone waits until its oldest request stops counting (never longer
than the window); a 429 pauses everyone for its ``Retry-After`` (for a whole-second
``Retry-After`` that rounds up a window the pacer knows, only until the window turns).
After such a wait, while the window is not known for sure, one request goes alone to
see whether the server agrees before the others follow: no storm of 429s.

Time and sleep are injected so tests run without waiting.
"""

from __future__ import annotations

import heapq
import math
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connector.delays import header_number, parse_delay

#: The longest pause one answer can impose on every thread, in seconds.
MAX_PAUSE = 300.0

#: The share of ``limit / window`` the pacer aims at: room for jitter between the two
#: clocks (a request let go on time can reach the server a little early or late).
MARGIN = 0.97
#: After each 429 the pacer did not expect, it aims this much lower, down to MIN_MARGIN.
MARGIN_STEP = 0.98
MIN_MARGIN = 0.8

#: Window lengths servers are commonly configured with, in seconds, shortest first: the
#: guesses tried one after the other while nothing bounds the window from above.
COMMON_WINDOWS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200,
                  86400)  # fmt: skip
#: Every length a server may be configured with (Laravel counts in whole seconds): the
#: choices between a lower and an upper bound.
ROUND_WINDOWS = tuple(sorted({*range(1, 61), 90, *COMMON_WINDOWS}))
#: How far apart a measured bound and a round window may be and still agree: the
#: jitter of the network and of a busy machine blurs every measurement by some
#: milliseconds (half a usual round trip, at most this share of the window). Less than
#: 1 - MARGIN, so a round window chosen this far below a lower bound still paces under
#: the limit.
TOLERANCE = 0.03
#: A round window counts as known for sure when the upper bound is this close to it.
SURE = 1.1
#: How many bounds are remembered (the newest win, so a server that changes is followed).
BOUNDS_KEPT = 256
#: How long a request sent alone to test the window may stay unanswered before another goes.
PROBE_TIMEOUT = 10.0
#: The window assumed for a ``Remaining: 0`` from a server that gives no limit and no reset.
DEFAULT_WINDOW = 1.0
#: The shortest window the pacer believes in, in seconds.
MIN_WINDOW = 0.001


def _third(bounds: deque[float], *, largest: bool) -> float:
    """The third largest (or smallest) bound; the least telling one when fewer are known."""
    if not bounds:
        return 0.0 if largest else math.inf
    pick = heapq.nlargest if largest else heapq.nsmallest
    return pick(3, bounds)[-1]


@dataclass(frozen=True)
class _Moment:
    """A moment a server named (on the monotonic clock), known to within ``resolution``
    seconds before it: a whole-second ``Retry-After: 1`` means "within the next second"."""

    at: float
    resolution: float


@dataclass(eq=False)
class _Ticket:
    """One request let through the gate, and what its answer said about the window."""

    seq: int
    sent: float
    #: It was paced to a window the pacer knew for sure.
    sure: bool = False
    answered: float | None = None
    #: When it most likely reached the server (known once it is answered).
    arrival: float | None = None
    #: Its round trip was far longer than usual, or it never got an answer: when it
    #: reached the server (if it did) is anyone's guess.
    late: bool = False
    #: Answered 429: the server did not count it.
    refused: bool = False
    #: How many requests the server counted in its window with this one.
    count: int | None = None
    #: When the oldest request counted with this one reached the server.
    opened: float | None = None


class Pacer:
    """A thread-safe gate that spaces requests out.

    ``rate`` is requests per second (``None``: learn it from the server's headers,
    unlimited until then). ``burst`` is how many requests may go at once after a
    quiet spell.

    :meth:`acquire` blocks until a request may go; :meth:`observe` reads its answer.
    Each thread sends one request at a time, so an answer is matched to the request its
    thread was let go with.
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
        self._local = threading.local()
        self._seq = 0
        self._tickets: deque[_Ticket] = deque()
        self._round_trips: deque[float] = deque(maxlen=32)
        self._usual_trip = 0.0
        # What the server has said about its window.
        self._limit: int | None = None
        # Bounds measured from counts and times, and from the moments the server named
        # (measured against the pacer's own times too: a few may be off).
        self._lower: deque[float] = deque(maxlen=BOUNDS_KEPT)
        self._upper: deque[float] = deque(maxlen=BOUNDS_KEPT)
        self._stated_lower: deque[float] = deque(maxlen=BOUNDS_KEPT)
        self._stated_upper: deque[float] = deque(maxlen=BOUNDS_KEPT)
        self._sliding_votes = 0
        self._fixed_votes = 0
        self._margin = MARGIN
        self._window = DEFAULT_WINDOW
        self._sure = False
        # The newest answer that said how much of the window is left.
        self._latest: _Ticket | None = None
        self._remaining = 0
        self._latest_reset: _Moment | None = None
        # A request sent alone to see whether the window has turned. The very first one
        # goes alone too: until an answer says what the limit is, a burst could exceed it.
        self._probe_next = True
        self._probe: _Ticket | None = None
        #: How many 429 answers this pacer has seen (for reports and benchmarks).
        self.throttled = 0

    @property
    def rate(self) -> float | None:
        """The current pace in requests per second, or ``None`` when unlimited."""
        return self._rate

    @property
    def window(self) -> float | None:
        """The server's window as the pacer understands it, in seconds (``None``: no limit)."""
        return self._window if self._limit is not None else None

    # -- letting requests go -------------------------------------------------------

    def acquire(self) -> None:
        """Block until one request may be sent."""
        while True:
            wait = self._try_acquire()
            if wait <= 0:
                return
            self._sleep(wait)

    def _try_acquire(self) -> float:
        """Let this thread's request go now if it may (0), else say how long to wait."""
        with self._lock:
            now = self._clock()
            self._forget_unanswered(now)
            wait = max(self._paused_until - now, self._capacity_wait(now), self._probe_busy(now))
            if wait <= 0:
                wait = self._take_token(now)
            if wait > 0:
                return min(wait, MAX_PAUSE)
            self._issue(now)
            return 0.0

    def _forget_unanswered(self, now: float) -> None:
        """This thread's previous request got no answer (a network error): stop waiting on it.

        It may have been counted, so it stays in the log as counted.
        """
        previous: _Ticket | None = getattr(self._local, "ticket", None)
        if previous is not None and previous.answered is None:
            previous.answered = now
            previous.late = True
        self._local.ticket = None

    def _issue(self, now: float) -> None:
        self._seq += 1
        ticket = _Ticket(self._seq, now, sure=self._sure)
        self._tickets.append(ticket)
        # Enough history to look a whole window back, twice.
        keep = max(64, 2 * (self._limit or 0) + 16)
        while len(self._tickets) > keep:
            self._tickets.popleft()
        if self._probe_next:
            self._probe_next = False
            self._probe = ticket
        self._local.ticket = ticket

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

    def _capacity_wait(self, now: float) -> float:
        """How long until the server has room, judging by the newest ``Remaining``."""
        latest = self._latest
        if latest is None:
            return 0.0
        # Requests sent since, and any held up on the way: the server counts them too.
        overdue = now - self._late_after()
        pending = sum(
            1
            for t in self._tickets
            if not t.refused
            and (
                (t.seq > latest.seq and (t.answered is None or t.count is None))
                or (t.answered is None and t.sent < overdue)
            )
        )
        if self._remaining - pending > 0:
            return 0.0
        back = self._back_at(self._latest_reset, self._model_back(latest), self._arrival(latest))
        if back > now:
            return back - now
        if self._sure and not latest.refused:
            return 0.0
        # The window should have turned, but no answer has said so yet: one request
        # goes to see, the others wait for its answer.
        wait = self._probe_busy(now)
        if wait <= 0 and self._probe is None:
            self._probe_next = True
        return wait

    def _model_back(self, latest: _Ticket) -> float:
        """When, by the learned window, the oldest request counted at ``latest`` leaves.

        While the window is a guess, a little later than that: if the request sent then
        is refused, its refusal proves the guess too short, beyond any clock jitter.
        """
        oldest = latest.opened if latest.opened is not None else self._arrival(latest)
        return oldest + self._window + (0 if self._sure else 2 * self._slack(self._window))

    def _back_at(self, server: _Moment | None, model: float, said_at: float) -> float:
        """When the window has room: the server's word (said at ``said_at``), to its resolution.

        A whole-second ``Retry-After`` rounds up a moment up to a second earlier; once
        the window is known for sure, the pacer's own moment within that second is
        used rather than stopping everything for up to a second too long. Unless the
        server's answer shows the pacer's moment wrong: by it, the window had already
        turned (requests the pacer did not send, from another program, fill it).
        """
        if server is None:
            return model
        if self._sure and math.isfinite(server.resolution) and model > said_at:
            return min(server.at, max(model, server.at - server.resolution))
        return server.at

    def _probe_busy(self, now: float) -> float:
        """While a request sent alone is unanswered, how long to wait before looking again."""
        probe = self._probe
        if probe is None:
            return 0.0
        # A probe held up on its way (a latency spike) must not hold everyone up with it.
        if probe.answered is None and now - probe.sent < min(PROBE_TIMEOUT, 2 * self._late_after()):
            return max(0.005, min(0.05, self._usual_round_trip() / 4))
        self._probe = None
        return 0.0

    # -- reading answers -----------------------------------------------------------

    def observe(self, status: int, headers: Mapping[str, str]) -> float | None:
        """Learn from the answer to this thread's request: its status and rate-limit headers.

        Returns the ``Retry-After`` delay of a 429 (or ``None``), as :func:`parse_delay`
        reads it.
        """
        lowered = {key.lower(): value for key, value in headers.items()}
        limit = header_number(lowered.get("x-ratelimit-limit"))
        remaining = header_number(lowered.get("x-ratelimit-remaining"))
        wall = self._wall()
        retry_after = parse_delay(lowered.get("retry-after"), wall)
        with self._lock:
            now = self._clock()
            ticket = self._answered(now)
            reset = self._moment(lowered.get("x-ratelimit-reset"), ticket, now, wall)
            retry = self._moment(lowered.get("retry-after"), ticket, now, wall)
            if limit is not None and limit >= 1 and int(limit) != self._limit:
                self._relearn(int(limit))
            if status == 429:
                ticket.refused = True
                self.throttled += 1
                # Retry-After is counted on the server's own clock: safer than a Unix
                # time compared across two clocks.
                server = retry or reset
                self._learn_refusal(ticket, server)
                self._note_latest(ticket, 0, self._pause_after_429(ticket, now, server))
            elif remaining is not None:
                if self._limit is not None:
                    ticket.count = max(1, self._limit - int(remaining))
                    self._learn_count(ticket, reset)
                self._note_latest(ticket, int(remaining), reset)
            self._update_rate()
        return retry_after if status == 429 else None

    def _answered(self, now: float) -> _Ticket:
        """Mark this thread's request answered (one made now if it never acquired one)."""
        ticket: _Ticket | None = getattr(self._local, "ticket", None)
        self._local.ticket = None
        if ticket is None:
            self._seq += 1
            ticket = _Ticket(self._seq, now)
            self._tickets.append(ticket)
        if ticket.answered is None:
            ticket.answered = now
            trip = now - ticket.sent
            usual = self._usual_round_trip()
            ticket.late = len(self._round_trips) >= 4 and trip > self._late_after()
            # A late request most likely waited on its way in (a server busy elsewhere).
            ticket.arrival = now - usual / 2 if ticket.late else ticket.sent + trip / 2
            self._round_trips.append(trip)
            self._usual_trip = statistics.median(self._round_trips)
        if ticket is self._probe:
            self._probe = None
        return ticket

    def _usual_round_trip(self) -> float:
        return self._usual_trip

    def _late_after(self) -> float:
        """A round trip longer than this is not the network's usual jitter."""
        if len(self._round_trips) < 4:
            return PROBE_TIMEOUT
        return 2 * self._usual_round_trip() + 0.05

    def _arrival(self, ticket: _Ticket) -> float:
        """When ``ticket`` reached (or will reach) the server, as best known."""
        if ticket.arrival is not None:
            return ticket.arrival
        return ticket.sent + self._usual_round_trip() / 2

    def _moment(self, text: str | None, ticket: _Ticket, now: float, wall: float) -> _Moment | None:
        """When (on the monotonic clock) a ``Retry-After`` or ``X-RateLimit-Reset`` falls."""
        number = header_number(text)
        if text is not None and number is not None and number <= 1e9:
            # Seconds counted from when the server handled the request; a whole number
            # is the true delay rounded up to the second.
            digits = text.strip().partition(".")[2]
            return _Moment(self._arrival(ticket) + number, 10.0 ** -len(digits))
        delay = parse_delay(text, wall)
        # A Unix time or a date compares the server's clock with ours: no lower bound.
        return None if delay is None else _Moment(now + delay, math.inf)

    def _note_latest(self, ticket: _Ticket, remaining: int, reset: _Moment | None) -> None:
        if self._latest is None or ticket.seq >= self._latest.seq:
            self._latest = ticket
            self._remaining = remaining
            self._latest_reset = reset

    def _pause_after_429(
        self, ticket: _Ticket, now: float, server: _Moment | None
    ) -> _Moment | None:
        """Pause everyone until the window has room; returns when that is.

        The window that refused it began with the oldest request the newest counted
        answer was counted with (requests of another program may fill it, unseen here).
        """
        latest = self._latest
        known = latest is not None and not latest.refused and latest.opened is not None
        model = self._model_back(latest if known and latest is not None else ticket)
        if server is None and self._limit is None:
            until = now + DEFAULT_WINDOW
        else:
            until = self._back_at(server, model, self._arrival(ticket))
        if ticket.sure:
            # The window was known and still a 429: leave the server more room.
            self._margin = max(MIN_MARGIN, self._margin * MARGIN_STEP)
        until = self._pause(until)
        # Having been throttled means we were too fast: drain the bucket, and let one
        # request test the window before the others follow.
        self._tokens = 0.0
        self._probe_next = True
        return _Moment(until, 0.0)

    def _pause(self, until: float) -> float:
        # A server asking for an hour's silence is refused by the client instead
        # (``RetryPolicy.max_retry_after``); never freeze every thread that long.
        until = min(until, self._clock() + MAX_PAUSE)
        self._paused_until = max(self._paused_until, until)
        return until

    # -- learning the window -------------------------------------------------------

    def _relearn(self, limit: int) -> None:
        """A new limit: what was learned about the old one no longer holds."""
        self._limit = limit
        for bounds in (self._lower, self._upper, self._stated_lower, self._stated_upper):
            bounds.clear()
        self._sliding_votes = self._fixed_votes = 0
        for ticket in self._tickets:
            ticket.count = ticket.opened = None

    def _counted_back(self, ticket: _Ticket, wanted: int, *, inclusive: bool) -> list[_Ticket]:
        """Up to ``wanted`` requests the server may have counted, latest first, from ``ticket``.

        In the order they reached the server; requests still unanswered are assumed
        counted.
        """
        pivot = (self._arrival(ticket), ticket.seq)
        earlier = (
            t
            for t in self._tickets
            if t is not ticket and not t.refused and (self._arrival(t), t.seq) < pivot
        )
        chain = [ticket] if inclusive else []
        chain += heapq.nlargest(
            wanted - len(chain), earlier, key=lambda t: (self._arrival(t), t.seq)
        )
        return chain

    def _learn_count(self, ticket: _Ticket, reset: _Moment | None) -> None:
        """Bounds on the window from a counted request: see the module docstring."""
        assert ticket.count is not None
        count = ticket.count
        chain = self._counted_back(ticket, count + 1, inclusive=True)
        if len(chain) < count:
            # The server counts more than this pacer sent: another client of the same
            # user, or an earlier run. Nothing to learn from the count.
            return
        oldest = chain[count - 1]
        ticket.opened = self._arrival(oldest)
        if not self._known(chain) or self._ambiguous(ticket, chain, count):
            return
        arrived = self._arrival(ticket)
        if count >= 2:
            self._lower.append(arrived - ticket.opened)
        self._vote(ticket, chain)
        if len(chain) > count:
            outside = chain[count]
            if self._sliding():
                self._upper.append(arrived - self._arrival(outside))
            elif outside.opened is not None and outside.opened < ticket.opened:
                self._upper.append(arrived - outside.opened)
        if reset is not None:
            self._learn_moment(reset, oldest)

    def _vote(self, ticket: _Ticket, chain: list[_Ticket]) -> None:
        """Fixed or sliding? Each answer may tell.

        In a fixed window the oldest request counted is the one that opened it, so its
        own count was 1; a sliding window keeps counting a request whose own answer
        counted older ones that have since left. And only a fixed window starts afresh
        (a count of 1) while requests are still going out. Requests that reached the
        server at nearly the same moment may have done so in either order: they prove
        nothing.
        """
        assert ticket.count is not None
        count = ticket.count
        oldest = chain[count - 1]
        if len(chain) > count and oldest.count is not None and oldest.count >= 3:
            gap = self._arrival(oldest) - self._arrival(chain[count])
            if gap > 0.25 * self._usual_round_trip() + 0.001:
                self._sliding_votes += 1
        elif count == 1 and len(chain) > 1:
            lower = _third(self._lower, largest=True)
            if self._arrival(ticket) - self._arrival(chain[1]) < lower / 2:
                self._fixed_votes += 1

    def _sliding(self) -> bool:
        return self._sliding_votes >= 3 and self._sliding_votes > 4 * self._fixed_votes

    def _learn_refusal(self, ticket: _Ticket, server: _Moment | None) -> None:
        """A 429: the server's window held ``limit`` requests, the oldest still counted."""
        if self._limit is None:
            return
        chain = self._counted_back(ticket, self._limit, inclusive=False)
        if len(chain) < self._limit:
            return
        oldest = chain[-1]
        ticket.opened = self._arrival(oldest)
        if ticket.late or not self._known(chain) or self._ambiguous(ticket, chain, len(chain)):
            return
        self._lower.append(self._arrival(ticket) - ticket.opened)
        if server is not None:
            self._learn_moment(server, oldest)

    @staticmethod
    def _known(chain: list[_Ticket]) -> bool:
        """Whether every request of ``chain`` is known to have reached the server, and when.

        One still on its way may or may not be counted yet; one that took far longer
        than usual, or never got an answer, reached the server at a moment nobody knows.
        """
        return all(t.answered is not None and not t.late for t in chain)

    def _ambiguous(self, ticket: _Ticket, chain: list[_Ticket], count: int) -> bool:
        """Whether the server may have seen ``chain`` in another order than the pacer thinks.

        Requests that reached it within a few milliseconds of each other may have done
        so in either order; if one of them is ``ticket`` itself, or straddles the oldest
        request counted, the count could mean a different oldest request.
        """
        near = 0.25 * self._usual_round_trip() + 0.001
        arrived = self._arrival(ticket)
        if any(
            t is not ticket and not t.refused and abs(self._arrival(t) - arrived) < near
            for t in self._tickets
        ):
            return True
        if len(chain) > count and count >= 1:
            return self._arrival(chain[count - 1]) - self._arrival(chain[count]) < near
        return False

    def _learn_moment(self, moment: _Moment, oldest: _Ticket) -> None:
        """The server says when ``oldest`` stops counting: the window, to its resolution."""
        if moment.at <= self._arrival(oldest):
            return  # "now" (a reset of 0): a window of no length says nothing
        self._stated_upper.append(moment.at - self._arrival(oldest))
        if math.isfinite(moment.resolution):
            self._stated_lower.append(moment.at - moment.resolution - self._arrival(oldest))

    def _slack(self, window: float) -> float:
        """How far a measured bound may be off for a window of this length."""
        return min(TOLERANCE * window, self._usual_round_trip() / 2 + 0.01)

    def _update_rate(self) -> None:
        if self._limit is None:
            return
        self._window, self._sure = self._estimate()
        if not self._fixed_rate:
            self._rate = self._margin * self._limit / self._window
            # A little over one token: a thread that wakes a little late (a loaded
            # machine) may catch up instead of losing the time, but never so much that
            # a window could see more than the limit.
            self._burst = 1.0 + min(0.25, self._limit * (1 - self._margin) / 2)

    def _estimate(self) -> tuple[float, bool]:
        """The window's length, and whether it is known for sure.

        Of each kind of bound the third most telling is used: one answer held up on a
        busy machine must not decide the pace.
        """
        lower = max(_third(self._stated_lower, largest=True), _third(self._lower, largest=True))
        upper = min(_third(self._stated_upper, largest=False), _third(self._upper, largest=False))
        for window in ROUND_WINDOWS if math.isfinite(upper) else COMMON_WINDOWS:
            slack = self._slack(window)
            if window + slack > lower and window - slack <= upper:
                return float(window), upper <= window * SURE
            if window > upper:
                break
        if math.isfinite(upper):
            return max(lower, upper, MIN_WINDOW), True
        # Longer than any common window and no bound from above: assume the lower bound.
        return max(lower, MIN_WINDOW), False
