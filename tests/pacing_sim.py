"""Several client threads pacing against a simulated rate-limited server, on virtual time.

The threads are real (the pacer's locking and per-thread answers are exercised as the
client uses them); the clock moves only when every thread sleeps, so a run of a minute
of simulated traffic takes a fraction of a second and never depends on the machine's
load. The server is the sandbox's own :class:`~connector.sandbox.limits.RateLimiter`.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from dataclasses import dataclass, field

from fake_time import EPOCH

from connector.api.pacing import Pacer
from connector.sandbox.limits import RateLimit, RateLimiter


class VirtualTime:
    """A clock shared by ``threads`` real threads that moves only when all of them sleep.

    Once all have slept, they run one at a time, in the order of their waking times
    (ties: by thread name, then by when they went to sleep): what happens at one instant
    happens in a fixed order, so a run's outcome never depends on how the machine
    schedules the threads (it did: a run's throughput varied from 84 % to 95 % of the
    limit with the same seed).
    """

    def __init__(self, threads: int) -> None:
        self.now = 0.0
        self._condition = threading.Condition()
        self._awake = threads
        self._sleepers: list[tuple[float, str, int, list[bool]]] = []
        self._order = 0

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    def sleep(self, seconds: float) -> None:
        with self._condition:
            woken = [False]
            self._order += 1
            name = threading.current_thread().name
            wake = (self.now + max(0.0, seconds), name, self._order, woken)
            heapq.heappush(self._sleepers, wake)
            self._awake -= 1
            self._advance()
            while not woken[0]:
                self._condition.wait()

    def leave(self) -> None:
        """A thread is done: time no longer waits for it."""
        with self._condition:
            self._awake -= 1
            self._advance()

    def _advance(self) -> None:
        if self._awake > 0 or not self._sleepers:
            return
        at, _, _, woken = heapq.heappop(self._sleepers)  # one thread at a time
        self.now = max(self.now, at)
        woken[0] = True
        self._awake = 1
        self._condition.notify_all()


@dataclass
class Exchange:
    """One request: when it was let go, reached the server, and what the server said."""

    sent: float
    arrived: float
    status: int


@dataclass
class Run:
    """What a simulated run did, and the pacer as the run left it."""

    limit: RateLimit
    pacer: Pacer
    exchanges: list[Exchange] = field(default_factory=list)
    end: float = 0.0

    @property
    def accepted(self) -> int:
        return sum(1 for e in self.exchanges if e.status == 200)

    @property
    def refusals(self) -> list[float]:
        """When each 429 was decided, in order."""
        return sorted(e.arrived for e in self.exchanges if e.status == 429)

    @property
    def share(self) -> float:
        """Accepted requests per second over the whole run, as a share of the limit."""
        return self.accepted / self.end / (self.limit.requests / self.limit.window)

    def most_refusals_in_a_window(self) -> int:
        """The most 429s decided within any one window's length of each other."""
        times = self.refusals
        return max(
            (
                sum(1 for t in times[i:] if t - start < self.limit.window)
                for i, start in enumerate(times)
            ),
            default=0,
        )

    def longest_silence(self) -> float:
        """The longest time in which no request was let go (after the first)."""
        sent = sorted(e.sent for e in self.exchanges)
        return max((b - a for a, b in itertools.pairwise(sent)), default=0.0)


def simulate(
    limit: RateLimit,
    *,
    requests: int,
    threads: int = 4,
    latency: float = 0.05,
    jitter: float = 0.004,
    seed: int = 1,
    pacer_rate: float | None = None,
    spike_rate: float = 0.0,
    spike: float = 0.0,
    used_before: int = 0,
) -> Run:
    """``threads`` workers share ``requests`` jobs, each retried after a 429 as the client does.

    Every request takes ``latency`` (half each way) plus up to ``jitter`` each way, and
    with probability ``spike_rate`` ``spike`` seconds more on its way to the server.
    ``used_before`` requests of the user's budget were spent just before the run began
    (another program, or an earlier run).
    """
    time = VirtualTime(threads)
    pacer = Pacer(pacer_rate, clock=time.clock, sleep=time.sleep, wall=time.wall)
    server = RateLimiter(limit)
    for _ in range(used_before):
        server.hit("demo", 0.0, time.wall())
    run = Run(limit, pacer)
    jobs = iter(range(requests))
    lock = threading.Lock()
    failures: list[BaseException] = []

    def worker(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        try:
            while True:
                with lock:
                    if next(jobs, None) is None:
                        return
                while True:
                    pacer.acquire()
                    sent = time.now
                    delay = latency / 2 + rng.uniform(0, jitter)
                    if spike_rate and rng.random() < spike_rate:
                        delay += spike
                    time.sleep(delay)
                    arrived = time.now
                    verdict = server.hit("demo", arrived, time.wall())
                    time.sleep(latency / 2 + rng.uniform(0, jitter))
                    status = 200 if verdict.allowed else 429
                    pacer.observe(status, verdict.headers)
                    with lock:
                        run.exchanges.append(Exchange(sent, arrived, status))
                        run.end = max(run.end, time.now)
                    if verdict.allowed:
                        break
        except BaseException as exc:  # pragma: no cover - reported by the caller
            failures.append(exc)
        finally:
            time.leave()

    workers = [
        threading.Thread(target=worker, args=(n,), name=f"worker-{n}", daemon=True)
        for n in range(threads)
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in workers), "the simulation hung"
    if failures:
        raise failures[0]
    return run
