"""Render the end of an apply: what was done, skipped or failed, and why."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from connector.apply.engine import ApplyReport, OpResult
from connector.apply.journal import DONE, FAILED, PENDING, SENDING, SKIPPED, UNKNOWN
from connector.apply.target import PlanTarget
from connector.ui.words import count

_ORDER = (DONE, SKIPPED, FAILED, UNKNOWN, SENDING, PENDING)
_ACTIONS = ("add", "update", "delete")


def describe_operations(target: PlanTarget) -> str:
    """One line saying what applying ``target`` will write."""
    counts = {action: 0 for action in _ACTIONS}
    for op in target.operations:
        counts[op.action] += 1
    return (
        f"Apply plan {target.plan_id[:8]}: {counts['add']} to add, "
        f"{counts['update']} to update, {counts['delete']} to delete."
    )


def render_apply_report(report: ApplyReport, *, verbose: bool = False) -> str:
    """The report as text: a count line per action, then every skip and failure with why."""
    lines = []
    if report.resumed:
        lines.append(f"Resumed plan {report.plan_id[:8]} from its journal.")
    if report.backup_path:
        lines.append(f"Backup of the phonebook as it was: {report.backup_path}")
    if report.phonebook_changed:
        lines.append(
            "Note: the phonebook changed since the plan was made; every target was checked "
            "against the plan's 'before' and changed ones were left alone."
        )
    counts = report.counts()
    for action in _ACTIONS:
        states = counts.get(action)
        if not states:
            continue
        parts = [f"{states[s]} {s}" for s in _ORDER if states.get(s)]
        lines.append(f"  {action:<7} {', '.join(parts)}")
    for result in report.results:
        if result.state == DONE and not verbose:
            continue
        if result.state == SKIPPED and not verbose and result.reason == "already as planned":
            continue
        where = f" ({result.op.location})" if result.op.location else ""
        detail = f": {result.reason}" if result.reason else ""
        new_id = f" -> id {result.new_id}" if result.new_id else ""
        lines.append(f"  {result.state:<8} {result.op.label}{where}{new_id}{detail}")
    lines.extend(report.notes)
    if report.requests_throttled:
        throttled = count(report.requests_throttled, "request")
        lines.append(f"The server throttled {throttled} (429); paced.")
    if report.ok:
        lines.append("Apply complete.")
    else:
        lines.append(
            "Apply incomplete: run the same command again to retry what failed "
            "(nothing done is repeated)."
        )
    return "\n".join(lines)


class ProgressDisplay:
    """Progress of an apply: a bar with counts and ETA on a terminal, plain lines in logs.

    Use as a context manager; call it as the engine's ``progress`` callback.
    """

    def __init__(
        self, total: int, *, terminal: bool, quiet: bool, echo: Callable[[str], None] = print
    ) -> None:
        self.total = total
        self.terminal = terminal and not quiet
        self.quiet = quiet
        self.echo = echo
        self._bar: Any = None  # a rich Progress, imported only when a terminal shows it
        self._task: Any = None
        self._last_line = 0.0
        self._counts: dict[str, int] = {}

    def __enter__(self) -> ProgressDisplay:
        if self.terminal and self.total:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("applying"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[states]}"),
                TimeRemainingColumn(),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("apply", total=self.total, states="")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, finished: int, total: int, result: OpResult) -> None:
        self._counts[result.state] = self._counts.get(result.state, 0) + 1
        states = ", ".join(f"{n} {s}" for s, n in sorted(self._counts.items()))
        if self._bar is not None:
            self._bar.update(self._task, completed=finished, states=states)
            return
        if self.quiet:
            return
        now = time.monotonic()
        # In logs, a line every few seconds (and the last one) is enough.
        if now - self._last_line >= 5 or finished >= total:
            self._last_line = now
            self.echo(f"progress: {finished}/{total} ({states})")
