"""Showing a source file as read (``sipalto-sync inspect``), and the mapping presets.

The table lists every record with its location, key, name and raw numbers, then each
rejected record with its reason, each note, and a count line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import TextIO

from connector.errors import ConfigError
from connector.model import SourceRecord
from connector.ui.tables import new_table, print_all
from connector.ui.words import count

RECORD_FORMATS = ("table", "json")


def write_records(
    records: Sequence[SourceRecord],
    fmt: str,
    out: TextIO,
    *,
    color: bool = False,
    terminal: bool | None = None,
) -> None:
    """Write source records to ``out`` in one of :data:`RECORD_FORMATS`.

    ``color`` and ``terminal`` matter to the table only (see :func:`new_table`).
    """
    if fmt == "table":
        out.write(render_source_table(records, color=color, terminal=terminal))
    elif fmt == "json":
        out.write(render_source_json(records) + "\n")
    else:
        raise ConfigError(f"unknown record format {fmt!r}: use {', '.join(RECORD_FORMATS)}")


def render_source_table(
    records: Sequence[SourceRecord], *, color: bool = False, terminal: bool | None = None
) -> str:
    """Records as read from a source: a table, then every problem and note with its place."""
    table = new_table(color=color, terminal=terminal)
    for column in ("location", "key", "name", "phones"):
        table.add_column(column, overflow="fold")
    for record in records:
        phones = ", ".join(f"{p.value} ({p.label})" if p.label else p.value for p in record.phones)
        name = record.name if record.ok else f"{record.name} [rejected]"
        table.add_row(record.location, record.key, name, phones)
    buffer = io.StringIO()
    print_all(buffer, table, color=color)
    rejected = sum(1 for r in records if r.problems)
    lines = [buffer.getvalue().rstrip(), *rejection_lines(records)]
    lines.extend(f"{r.location}: note: {note}" for r in records for note in r.notes)
    lines.append(f"{count(len(records), 'record')}, {len(records) - rejected} usable, "
                 f"{rejected} rejected.")  # fmt: skip
    return "\n".join(lines) + "\n"


def rejection_lines(records: Sequence[SourceRecord]) -> list[str]:
    """``contacts.csv:17: rejected: no phone number``, one line per rejected record."""
    return [f"{r.location}: rejected: {'; '.join(r.problems)}" for r in records if r.problems]


def write_presets(presets: Iterable[tuple[str, str, str]], out: TextIO) -> None:
    """The mapping presets, one per line: name, kind (``file`` or ``crm``), what it reads."""
    for name, kind, description in presets:
        out.write(f"{name:<18} {kind:<5} {description}\n")


def render_source_json(records: Sequence[SourceRecord]) -> str:
    """Records as a JSON list, phones with their labels, problems and notes included."""
    rows = [
        {
            "key": r.key,
            "location": r.location,
            "name": r.name,
            "phones": [
                {"value": p.value, "label": p.label, "preferred": p.preferred} for p in r.phones
            ],
            "problems": list(r.problems),
            "notes": list(r.notes),
        }
        for r in records
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False)
