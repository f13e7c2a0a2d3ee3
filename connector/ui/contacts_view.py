"""Write a phonebook out: a table for people, CSV/JSON for backups and edits, vCard for phones.

The CSV header is ``id,name,phone1,phone2,phone3``, which the ``sipalto`` mapping preset
reads back, so an export can be edited in a spreadsheet and imported again. A cell a
spreadsheet would run as a formula (a contact named ``=HYPERLINK(...)``) gets a leading
apostrophe (:mod:`connector.formulas`), which the preset takes off again, so the export
still reads back to exactly what the server holds; phone numbers are written as they are.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import TextIO

import vobject

from connector.errors import ConfigError
from connector.formulas import escape_formula
from connector.model import Contact
from connector.ui.tables import new_table, print_all
from connector.ui.words import count

FORMATS = ("table", "csv", "json", "vcf")
FIELDS = ("id", "name", "phone1", "phone2", "phone3")


def write_contacts(
    contacts: Sequence[Contact],
    fmt: str,
    out: TextIO,
    *,
    color: bool = False,
    terminal: bool | None = None,
) -> None:
    """Write ``contacts`` to ``out`` in one of :data:`FORMATS`.

    ``color`` and ``terminal`` matter to the table only (see :func:`new_table`).
    """
    if fmt == "table":
        _table(contacts, out, color, terminal)
        return
    writers = {"csv": _csv, "json": _json, "vcf": _vcf}
    if fmt not in writers:
        raise ConfigError(f"unknown contact list format {fmt!r}: use {', '.join(FORMATS)}")
    writers[fmt](contacts, out)


def _table(contacts: Sequence[Contact], out: TextIO, color: bool, terminal: bool | None) -> None:
    table = new_table(color=color, terminal=terminal)
    for name in FIELDS:
        table.add_column(name, no_wrap=name != "name", overflow="fold")
    for contact in contacts:
        table.add_row(*(getattr(contact, name) for name in FIELDS))
    print_all(out, table, count(len(contacts), "contact"), color=color)


def _csv(contacts: Sequence[Contact], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for contact in contacts:
        writer.writerow([escape_formula(getattr(contact, name)) for name in FIELDS])


def _json(contacts: Sequence[Contact], out: TextIO) -> None:
    json.dump([c.to_dict() for c in contacts], out, indent=2, ensure_ascii=False)
    out.write("\n")


def _vcf(contacts: Sequence[Contact], out: TextIO) -> None:
    for contact in contacts:
        card = vobject.vCard()
        card.add("fn").value = contact.name
        card.add("n").value = vobject.vcard.Name(family="", given=contact.name)
        for index, number in enumerate(contact.phones):
            tel = card.add("tel")
            tel.value = number
            tel.params["TYPE"] = ["VOICE"] if index else ["VOICE", "PREF"]
        card.add("x-sipalto-id").value = contact.id
        out.write(card.serialize())
