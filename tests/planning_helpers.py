"""Helpers for planner tests: records and contacts in one line, a fixed-identity plan, and an
in-memory apply so "plan, apply, plan again" can be checked without a server."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from connector.model import KEY_POSITION, Contact, RawPhone, SourceRecord
from connector.reconcile.plan import Plan, PlanItem, PlanSettings
from connector.reconcile.planner import make_plan

CREATED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def record(
    key: str,
    name: str,
    *phones: str,
    problems: Sequence[str] = (),
    notes: Sequence[str] = (),
    key_kind: str = KEY_POSITION,
) -> SourceRecord:
    """A source record keyed ``key`` at ``contacts.csv:<key>`` (a row key unless
    ``key_kind`` says otherwise)."""
    return SourceRecord(
        key=key,
        location=f"contacts.csv:{key}",
        name=name,
        phones=tuple(RawPhone(phone) for phone in phones),
        problems=tuple(problems),
        notes=tuple(notes),
        key_kind=key_kind,
    )


def contact(contact_id: str, name: str, *phones: str) -> Contact:
    """A phonebook contact with up to three numbers."""
    slots = [*phones, "", "", ""][:3]
    return Contact(contact_id, name, *slots)


def plan(
    records: Iterable[SourceRecord],
    contacts: Sequence[Contact] = (),
    **settings: Any,
) -> Plan:
    """``make_plan`` with a fixed id and time, settings given as keywords."""
    decisions = settings.pop("decisions", None)
    owned_ids = settings.pop("owned_ids", None)
    return make_plan(
        records,
        contacts,
        PlanSettings(**settings),
        decisions=decisions,
        owned_ids=owned_ids,
        server="https://pbx.example",
        plan_id="0" * 32,
        created_at=CREATED,
    )


def item_for(result: Plan, key: str) -> PlanItem:
    """The item of the source record ``key``."""
    (found,) = [item for item in result.items if item.source and item.source.key == key]
    return found


def apply_plan(result: Plan, contacts: Sequence[Contact]) -> list[Contact]:
    """The phonebook after the plan's adds, updates and deletes, done in memory.

    New contacts get ids after the highest numeric id, as Sipalto hands them out.
    """
    book = {c.id: c for c in contacts}
    next_id = max((int(i) for i in book if i.isdigit()), default=30000) + 1
    for item in result.items:
        if item.action == "add":
            assert item.after is not None
            book[str(next_id)] = Contact(str(next_id), **item.after.to_json())
            next_id += 1
        elif item.action == "update":
            assert item.id is not None and item.after is not None
            book[item.id] = Contact(item.id, **item.after.to_json())
        elif item.action == "delete":
            assert item.id is not None
            del book[item.id]
    return list(book.values())
