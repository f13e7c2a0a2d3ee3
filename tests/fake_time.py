"""A fake clock for the pacer, the client and the sandbox: time moves only when slept."""

from __future__ import annotations

import threading

#: The Unix time at which a fake clock starts (2027-01-15 08:00 UTC).
EPOCH = 1_800_000_000.0


class FakeTime:
    """Monotonic and wall clocks that move only when someone sleeps.

    Pass ``clock``/``wall``/``sleep`` to a :class:`~connector.api.pacing.Pacer`, ``sleep``
    to a client and ``clock``/``sleep_async`` to a sandbox: a wait of minutes then takes
    no time at all, and ``slept`` records every wait of ``sleep``.

    Threads may share one clock. A thread's wait counts from its own last look at the
    clock, so waits that several threads begin at the same moment overlap as real ones
    do: four threads that each see 0.0 and pause for 0.1 s leave the clock at 0.1, not
    0.4.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._lock = threading.Lock()
        self._looked_at: dict[int, float] = {}

    def clock(self) -> float:
        with self._lock:
            self._looked_at[threading.get_ident()] = self.now
            return self.now

    def wall(self) -> float:
        return EPOCH + self.clock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            start = self._looked_at.pop(threading.get_ident(), self.now)
            self.now = max(self.now, start + seconds)

    async def sleep_async(self, seconds: float) -> None:
        """The sandbox's latency: every request's wait adds up (a fake wait never yields to
        the event loop, so no two requests wait at once)."""
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Let time pass without anyone sleeping (a token expiring between two runs)."""
        with self._lock:
            self.now += seconds
            self._looked_at.clear()
