"""Hold the sandbox's requests from a chosen one on, so a test can kill a CLI mid-apply."""

from __future__ import annotations

import asyncio
import math
import subprocess
import threading
import time


class Stall:
    """The sandbox's latency, with a stop: requests wait out the latency as usual until the
    armed one arrives, and from then on every request is held until :meth:`release`.

    Pass :meth:`sleep` as the sandbox's ``sleep``; the sandbox waits on it only when its
    ``Faults.latency`` is above zero, so give it some.

    A CLI whose requests are held is mid-apply for as long as the test likes, however
    fast the sandbox answers, so killing it then is killing it mid-apply. Released after
    the kill, a held delete is carried out with nobody to hear the answer, while a held
    form post finds its client gone before its body is read (Starlette raises
    ``ClientDisconnect``, which uvicorn logs) and changes nothing.
    """

    def __init__(self) -> None:
        self.arrived = 0
        self.stalled = threading.Event()
        self._stall_at = math.inf
        self._held: list[asyncio.Task] = []
        self._go: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def arm(self, after: int) -> None:
        """Hold the request that arrives ``after`` requests from now, and all that follow."""
        self._stall_at = self.arrived + after

    async def sleep(self, seconds: float) -> None:
        """The sandbox's ``sleep``."""
        self.arrived += 1
        if self.arrived < self._stall_at:
            await asyncio.sleep(seconds)
            return
        if self._go is None:
            self._go, self._loop = asyncio.Event(), asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self._held.append(task)
        self.stalled.set()
        await self._go.wait()

    def release(self) -> None:
        """Disarm, let the held requests go on without their client, and wait until they
        have ended: only then may the next run start (a late write would race it)."""
        self._stall_at = math.inf
        self.stalled.clear()
        if self._go is None or self._loop is None:
            return

        async def drain(go: asyncio.Event, held: list[asyncio.Task]) -> None:
            go.set()
            await asyncio.wait(held)

        done = asyncio.run_coroutine_threadsafe(drain(self._go, self._held), self._loop)
        done.result(timeout=10)
        self._go, self._held = None, []


def reaches(stall: Stall, process: subprocess.Popen, timeout: float = 30.0) -> bool:
    """Wait until ``process`` has a request held by ``stall`` (True) or has ended (False)."""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if stall.stalled.wait(timeout=0.01):
            return True
        assert time.monotonic() < deadline, "the apply neither ended nor reached the stall"
    return False
