"""Render a scheduled sync: its events as it runs (text lines or JSON lines), its end, and
``sync status``.

Text is for people and cron mail; JSON lines (``--log-format json``) are for log
collectors: one object per event, with the time, the job, the event's kind and level,
its message and its data. Neither ever holds a secret: the runner's events carry none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TextIO

from connector.apply.report import ApplyObserver
from connector.sync.events import SyncEvent, SyncObserver
from connector.sync.result import SyncResult
from connector.sync.state import RunRecord
from connector.sync.status import JobStatus, run_state

__all__ = [
    "LOG_FORMATS",
    "EventLog",
    "render_status",
    "render_summary",
    "status_json",
]

#: ``--log-format`` choices: ``text`` for people, ``json`` for log collectors.
LOG_FORMATS = ("text", "json")
_LEVELS = {"info": 0, "warning": 1, "error": 2}
#: Events a text log leaves to the summary printed at the end, so nothing is said twice.
_SAID_IN_THE_SUMMARY = frozenset({"run.end", "valve", "apply.unfinished"})


class EventLog(SyncObserver):
    """Writes a run's events to ``stream``: as text lines (``text``) or one JSON object a
    line (``json``). ``quiet`` keeps only errors (``-q``: nothing on success).

    ``progress`` is the apply engine's progress display (text only; in JSON the runner
    turns the engine's progress into events).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        fmt: str,
        job: str,
        quiet: bool,
        progress: ApplyObserver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.stream = stream
        self.fmt = fmt
        self.job = job
        self.quiet = quiet
        #: The apply engine's progress display (text only).
        self.progress = progress
        self._clock = clock

    def event(self, event: SyncEvent) -> None:
        if self.quiet and _LEVELS.get(event.level, 0) < _LEVELS["error"]:
            return
        if self.fmt == "json":
            self.stream.write(json.dumps(self.json_line(event), ensure_ascii=False) + "\n")
        elif event.kind not in _SAID_IN_THE_SUMMARY:
            prefix = {"warning": "warning: ", "error": "error: "}.get(event.level, "")
            self.stream.write(f"{prefix}{event.message}\n")
        self.stream.flush()

    def json_line(self, event: SyncEvent) -> dict[str, Any]:
        """The JSON object of ``event``: time, job, event, level, message, then its data."""
        return {
            "time": self._clock().isoformat(timespec="milliseconds"),
            "job": self.job,
            "event": event.kind,
            "level": event.level,
            "message": event.message,
            **event.data,
        }

    def error(self, message: str) -> None:
        """A failure that ended the run (an exception), as the format wants it."""
        self.event(SyncEvent("error", message, "error"))

    def apply_observer(self) -> ApplyObserver | None:
        return self.progress if self.fmt == "text" else None


def render_summary(result: SyncResult) -> str:
    """The run's end as text (the same lines the report's summary file holds), with
    where its report was written."""
    lines = result.summary_lines()
    written = [path for path in result.reports if path.name.endswith("-summary.txt")]
    if written:
        lines.append(f"Report: {written[-1].with_name(written[-1].name[: -len('-summary.txt')])}-*")
    return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _run_line(record: RunRecord, running: dict[str, str] | None) -> str:
    ended = run_state(record, running)
    took = ""
    if record.finished_at is not None:
        seconds = (record.finished_at - record.started_at).total_seconds()
        took = f" in {seconds:.0f} s"
    counts = record.counts
    done = ""
    if counts:
        done = (
            f": {counts.get('added', 0)} added, {counts.get('updated', 0)} updated, "
            f"{counts.get('deleted', 0)} deleted, {counts.get('held', 0)} held for review, "
            f"{counts.get('rejected', 0)} rejected"
        )
    where = f" (process {record.pid} on {record.host})" if ended in ("running", "killed") else ""
    return f"{_when(record.started_at)}, {ended}{took}{where}{done}"


def render_status(status: JobStatus) -> str:
    """``sync status`` as text."""
    lines = [f"Job {status.job} against {status.server}", f"State: {status.state_path}"]
    if status.running:
        holder = status.running
        who = f"process {holder.get('pid', '?')} on {holder.get('host', '?')}"
        since = f" since {holder['since']}" if holder.get("since") else ""
        lines.append(f"Running now: yes, {who}{since}")
    else:
        lines.append("Running now: no")
    if not status.exists:
        lines.append("Last run: never (no state file yet)")
        return "\n".join(lines)
    if status.mismatch:
        lines.append(
            f"Warning: the state file was {status.mismatch}; the next run resets it and "
            "binds by matching again"
        )
    last = status.last_run
    lines.append(f"Last run: {_run_line(last, status.running) if last else 'never'}")
    if status.last_failure is not None:
        failure = status.last_failure
        why = failure.error or "it was killed before it finished"
        ended = run_state(failure, status.running)
        lines.append(f"Last failure: {_when(failure.started_at)}, {ended}: {why}")
    else:
        lines.append("Last failure: none")
    if not status.mismatch:
        lines.append(f"Owned contacts: {status.owned} (bound: {status.bound})")
    if status.pending_plan:
        lines.append(
            f"Unfinished apply: plan {status.pending_plan[:8]}; the next run resumes it first"
        )
    if status.held:
        lines.append(f"Held for review ({len(status.held)}):")
        lines.extend(f"  {h.key}: {h.reason} (since {_when(h.since)})" for h in status.held)
    return "\n".join(lines)


def status_json(status: JobStatus) -> str:
    """``sync status --format json``: the status as one JSON object."""
    data = status.to_json()
    if status.last_run is not None:
        data["last_run"]["state"] = run_state(status.last_run, status.running)
    return json.dumps(data, indent=2, ensure_ascii=False)
