"""Showing call history: a table with totals, CSV or JSON.

The CSV defuses cells a spreadsheet would run as a formula (a caller's name from the
phonebook such as ``=HYPERLINK(...)``) with :func:`connector.formulas.escape_formula`.
"""

from __future__ import annotations

import csv
import json
from typing import TextIO

from connector.calls.history import CallReport, format_call_time
from connector.errors import ConfigError
from connector.formulas import escape_formula
from connector.ui.tables import new_table, print_all
from connector.ui.words import count

CALL_FORMATS = ("table", "csv", "json")


def format_duration(seconds: float) -> str:
    """``41`` -> ``"0:41"``, ``754`` -> ``"12:34"``, ``5025`` -> ``"1:23:45"``."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_CSV_FIELDS = (
    "call_id",
    "date",
    "timestamp",
    "direction",
    "disposition",
    "caller",
    "caller_name",
    "callee",
    "callee_name",
    "duration",
    "duration_text",
)


def write_calls(
    report: CallReport,
    fmt: str,
    out: TextIO,
    *,
    color: bool = False,
    terminal: bool | None = None,
) -> None:
    """Write a call report as a ``table`` (with totals), ``csv`` or ``json``.

    ``color`` and ``terminal`` matter to the table only (see :func:`new_table`).
    """
    if fmt == "table":
        _calls_table(report, out, color, terminal)
        return
    writers = {"csv": _calls_csv, "json": _calls_json}
    if fmt not in writers:
        raise ConfigError(f"unknown call list format {fmt!r}: use {', '.join(CALL_FORMATS)}")
    writers[fmt](report, out)


def _calls_table(report: CallReport, out: TextIO, color: bool, terminal: bool | None) -> None:
    if not report.rows:
        print_all(out, f"No answered calls for {report.describe()}.", color=color, width=160)
        return
    table = new_table(color=color, terminal=terminal)
    table.add_column("time", no_wrap=True)
    table.add_column("direction", no_wrap=True)
    table.add_column("caller", overflow="fold")
    table.add_column("callee", overflow="fold")
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("call id", no_wrap=True)
    for row in report.rows:
        table.add_row(
            format_call_time(row.call.date),
            row.call.direction,
            row.caller_display,
            row.callee_display,
            format_duration(row.call.duration),
            row.call.call_id,
        )
    total = f"{count(len(report.rows), 'call')}, total {format_duration(report.total_seconds)}"
    print_all(out, table, total, color=color, width=160)


def _calls_csv(report: CallReport, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_CSV_FIELDS)
    for row in report.rows:
        data = row.to_dict()
        data["duration_text"] = format_duration(row.call.duration)
        writer.writerow([escape_formula(str(data[name])) for name in _CSV_FIELDS])


def _calls_json(report: CallReport, out: TextIO) -> None:
    json.dump([row.to_dict() for row in report.rows], out, indent=2, ensure_ascii=False)
    out.write("\n")
