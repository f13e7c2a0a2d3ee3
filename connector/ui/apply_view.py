"""Render an apply: its start, its progress, and its end (what was done, skipped or failed, why)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from connector.apply.engine import INTERRUPTED, OUT_OF_TIME
from connector.apply.journal import DONE, FAILED, PENDING, SENDING, SKIPPED, UNKNOWN
from connector.apply.report import ApplyObserver, ApplyReport, OpResult, RunStart, Tally
from connector.apply.target import PlanTarget
from connector.ui.words import count

_ORDER = (DONE, SKIPPED, FAILED, UNKNOWN, SENDING, PENDING)
_ACTIONS = ("add", "update", "delete")
#: How many of a plan's undone changes a report names.
_SHOWN = 5


def describe_operations(target: PlanTarget) -> str:
    """One line saying what applying ``target`` will write."""
    counts = {action: 0 for action in _ACTIONS}
    for op in target.operations:
        counts[op.action] += 1
    return (
        f"Apply plan {target.plan_id[:8]}: {counts['add']} to add, "
        f"{counts['update']} to update, {counts['delete']} to delete."
    )


def render_run_start(start: RunStart) -> list[str]:
    """What a run says once it has read the phonebook, before any progress."""
    lines = []
    if start.resumed:
        lines.append(
            f"Resumed plan {start.plan_id[:8]} from its journal: {start.tally.finished} of "
            f"{count(start.tally.total, 'operation')} already ended."
        )
    if start.backup_path:
        lines.append(f"Backup of the phonebook as it was: {start.backup_path}")
    return lines


def render_apply_report(
    report: ApplyReport, *, verbose: bool = False, start_shown: bool = False
) -> str:
    """The report as text: a count line per action, every skip and failure with why, the
    requests it took, and whether the phonebook is now as planned.

    ``start_shown``: the run's start (the backup path) was already printed; it is said
    again only when the run did not complete.
    """
    if report.applied_at is not None:
        return _already_applied(report)
    if report.stopped == INTERRUPTED and not report.results:
        return "Interrupted before anything was changed."
    lines = []
    if report.backup_path and (not start_shown or not report.ok):
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
    lines.extend(_result_lines(report.results, verbose=verbose))
    lines.extend(f"  removed  {text}" for text in report.duplicates_removed)
    lines.extend(f"  not as planned: {text}" for text in report.unresolved)
    lines.extend(report.notes)
    lines.append(_requests_line(report))
    lines.append(_ending(report))
    return "\n".join(lines)


def _result_lines(results: list[OpResult], *, verbose: bool) -> list[str]:
    """A line per skip and failure (per operation with ``verbose``); the counts say the rest."""
    lines = []
    for result in results:
        routine = result.state != FAILED and (
            result.state != SKIPPED or result.reason == "already as planned"
        )
        if routine and not verbose:
            continue
        where = f" ({result.op.location})" if result.op.location else ""
        detail = f": {result.reason}" if result.reason else ""
        new_id = f" -> id {result.new_id}" if result.new_id else ""
        lines.append(f"  {result.state:<8} {result.op.label}{where}{new_id}{detail}")
    return lines


def _requests_line(report: ApplyReport) -> str:
    return (
        f"Requests: {report.requests_retried} retried, {report.resent} re-sent after "
        f"checking the phonebook, {report.requests_throttled} throttled (429); "
        f"{count(report.logins, 'login')}."
    )


def _ending(report: ApplyReport) -> str:
    total = len(report.results)
    ended = sum(1 for r in report.results if r.state in (DONE, SKIPPED))
    if report.stopped == INTERRUPTED:
        return (
            f"Interrupted: {ended} of {count(total, 'operation')} done or skipped, "
            f"{total - ended} not yet. Run the same command again to resume: nothing done "
            "is repeated."
        )
    if report.stopped == OUT_OF_TIME:
        return (
            f"Stopped: the time budget (--max-time) ran out with {total - ended} of "
            f"{count(total, 'operation')} not done or not yet verified. Run the same "
            "command again to continue: nothing done is repeated."
        )
    if report.ok:
        return "Apply complete. A final read of the phonebook agrees with the plan."
    return (
        "Apply incomplete: run the same command again to retry what failed "
        "(nothing done is repeated)."
    )


def _already_applied(report: ApplyReport) -> str:
    when = _when(report.applied_at or "")
    plan = f"Plan {report.plan_id[:8]} was already applied on {when}"
    if not report.undone:
        return f"{plan}; its changes are still in place. Nothing to do."
    changes = count(len(report.results), "change")
    lines = [
        f"{plan}, but the phonebook has changed since: {len(report.undone)} of its "
        f"{changes} are no longer in place:"
    ]
    lines.extend(f"  {text}" for text in report.undone[:_SHOWN])
    if len(report.undone) > _SHOWN:
        lines.append(f"  ... and {len(report.undone) - _SHOWN} more")
    lines.append(
        "Applying it again changes nothing: make a new plan (sipalto-sync plan) to change "
        "the phonebook again."
    )
    return "\n".join(lines)


def _when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _states(tally: Tally) -> str:
    states = tally.states
    ended = ", ".join(f"{states[s]} {s}" for s in (DONE, SKIPPED, FAILED) if states.get(s))
    checking = tally.states.get(UNKNOWN, 0) + tally.states.get(SENDING, 0)
    if checking:
        return f"{ended or 'none ended'}; {checking} being checked"
    return ended or "none ended yet"


class ProgressDisplay(ApplyObserver):
    """Progress of an apply: a bar with counts and ETA on a terminal, plain lines in logs.

    Use as a context manager and hand it to the engine as its observer. The run's start
    (resumed, where the backup is) is printed when the run reports it, before any progress.
    """

    def __init__(self, *, terminal: bool, quiet: bool, echo: Callable[[str], None] = print):
        self.terminal = terminal and not quiet
        self.quiet = quiet
        self.echo = echo
        self._bar: Any = None  # a rich Progress, imported only when a terminal shows it
        self._task: Any = None
        self._last_line = 0.0
        self._last_finished = -1

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def started(self, start: RunStart) -> None:
        if self.quiet:
            return
        for line in render_run_start(start):
            self.echo(line)
        if self.terminal and start.tally.total:
            self._start_bar(start.tally)

    def _start_bar(self, tally: Tally) -> None:
        from rich.console import Console
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
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(
            "apply", total=tally.total, completed=tally.finished, states=_states(tally)
        )

    def changed(self, tally: Tally, result: OpResult) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=tally.finished, states=_states(tally))
            return
        if self.quiet:
            return
        now = time.monotonic()
        # In logs, a line every few seconds (and the last one) is enough.
        if tally.finished == self._last_finished:
            return
        if now - self._last_line >= 5 or tally.finished >= tally.total:
            self._last_line = now
            self._last_finished = tally.finished
            self.echo(f"progress: {tally.finished}/{tally.total} ({_states(tally)})")

    def waiting(self, seconds: float, why: str) -> None:
        if self.quiet or seconds < 1:
            return
        self._say(f"waiting {seconds:.0f}s: {why}")

    def stopping(self, in_flight: int) -> None:
        if not self.quiet:
            self._say(f"Stopping: waiting for {count(in_flight, 'request')} in flight to end...")

    def _say(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            self.echo(text)
