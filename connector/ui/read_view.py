"""Progress of a slow source read (a CRM's pages): a live line on a terminal, plain lines in logs.

The source calls the display after each page with a
:class:`~adapters.base.ReadProgress`; on a terminal a transient status line shows the
records so far, the pages and the rate; elsewhere a line every few seconds, and one at
the end, say the same, so a log shows that a long read is alive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.base import ReadProgress
from connector.ui.words import count

#: Seconds between two plain progress lines in a log.
LOG_EVERY = 10.0


def describe_progress(progress: ReadProgress) -> str:
    """``hubspot: 1,200 records, 12 pages, 340 records/s``."""
    records = f"{progress.records:,} record{'' if progress.records == 1 else 's'}"
    text = f"{progress.source}: {records}, {count(progress.pages, 'page')}"
    if progress.elapsed >= 0.5:
        text += f", {progress.rate:,.0f} records/s"
    return text


class ReadProgressDisplay:
    """Call it with each :class:`ReadProgress`; use as a context manager (the terminal line
    goes away at the end, and a log gets a last line)."""

    def __init__(self, *, terminal: bool, quiet: bool, echo: Callable[[str], None] = print):
        self.terminal = terminal and not quiet
        self.quiet = quiet
        self.echo = echo
        self._status: Any = None  # a rich Status, imported only when a terminal shows it
        self._last_line = -LOG_EVERY
        self._last: ReadProgress | None = None
        self._shown: ReadProgress | None = None

    def __enter__(self) -> ReadProgressDisplay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        last = self._last
        if last is not None and not self.quiet and exc_info[0] is None and last is not self._shown:
            self.echo(f"{describe_progress(last)}: read")

    def __call__(self, progress: ReadProgress) -> None:
        self._last = progress
        if self.quiet:
            return
        if self.terminal:
            self._live(describe_progress(progress))
            return
        if progress.elapsed - self._last_line >= LOG_EVERY:
            self._last_line = progress.elapsed
            self._shown = progress
            self.echo(describe_progress(progress))

    def _live(self, text: str) -> None:
        if self._status is None:
            from rich.console import Console

            self._status = Console(stderr=True).status(text)
            self._status.start()
        else:
            self._status.update(text)
