"""A fake clock for the pacer, the client and the sandbox: time moves only when slept."""

from __future__ import annotations

#: The Unix time at which a fake clock starts (2027-01-15 08:00 UTC).
EPOCH = 1_800_000_000.0


class FakeTime:
    """Monotonic and wall clocks that move only when someone sleeps.

    Pass ``clock``/``wall``/``sleep`` to a :class:`~connector.api.pacing.Pacer`, ``sleep``
    to a client and ``clock`` to a sandbox: a wait of minutes then takes no time at all,
    and ``slept`` records every wait.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Let time pass without anyone sleeping (a token expiring between two runs)."""
        self.now += seconds
