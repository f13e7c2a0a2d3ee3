"""How long each stage of a command took, for benchmarks and for finding what is slow.

Stages are logged at DEBUG on the ``sipalto_sync.timings`` logger, one line each:
``stage read source: 1.234 s, peak RSS 210 MB``. Nothing is measured unless that logger
is enabled, so the library pays one ``isEnabledFor`` per stage. The command line turns it
on when ``SIPALTO_SYNC_TIMINGS=1`` is set (``benchmarks/bench_plan.py`` reads the lines);
a library user may enable the logger like any other.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LOGGER", "Laps", "stage"]

LOGGER = logging.getLogger("sipalto_sync.timings")


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Log how long the ``with`` block took, and the process's peak RSS after it."""
    if not LOGGER.isEnabledFor(logging.DEBUG):
        yield
        return
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    LOGGER.debug("stage %s: %.3f s, peak RSS %.0f MB", name, seconds, _peak_mb())


class Laps:
    """Stages that follow one another: each call logs the time since the one before
    (or since the ``Laps`` was made), for code that is one long function of steps."""

    def __init__(self) -> None:
        self._enabled = LOGGER.isEnabledFor(logging.DEBUG)
        self._last = time.perf_counter() if self._enabled else 0.0

    def __call__(self, name: str) -> None:
        """Log the stage ``name`` as ending now."""
        if not self._enabled:
            return
        now = time.perf_counter()
        LOGGER.debug("stage %s: %.3f s, peak RSS %.0f MB", name, now - self._last, _peak_mb())
        self._last = now


def _peak_mb() -> float:
    """The process's peak resident memory so far, in MB (0 where it cannot be read)."""
    try:
        import resource  # Unix only
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)
