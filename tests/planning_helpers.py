"""Helpers for planner tests: records and contacts in one line, a fixed-identity plan, and an
in-memory apply so "plan, apply, plan again" can be checked without a server."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from connector.model import KEY_POSITION, Contact, RawPhone, SourceRecord
from connector.reconcile.plan import Bound, Plan, PlanItem, PlanSettings
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
    bindings = settings.pop("bindings", None)
    foreign_ids = settings.pop("foreign_ids", frozenset())
    partial = settings.pop("partial", False)
    return make_plan(
        records,
        contacts,
        PlanSettings(**settings),
        bindings=bindings,
        foreign_ids=foreign_ids,
        decisions=decisions,
        owned_ids=owned_ids,
        partial=partial,
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
    return apply_plan_ids(result, contacts)[0]


def apply_plan_ids(
    result: Plan, contacts: Sequence[Contact]
) -> tuple[list[Contact], dict[int, str]]:
    """:func:`apply_plan`, and the id each add got, by the add's position in the plan
    (what the apply journal's ``new_id`` tells a sync)."""
    book = {c.id: c for c in contacts}
    next_id = max((int(i) for i in book if i.isdigit()), default=30000) + 1
    new_ids: dict[int, str] = {}
    for n, item in enumerate(result.items):
        if item.action == "add":
            assert item.after is not None
            book[str(next_id)] = Contact(str(next_id), **item.after.to_json())
            new_ids[n] = str(next_id)
            next_id += 1
        elif item.action == "update":
            assert item.id is not None and item.after is not None
            book[item.id] = Contact(item.id, **item.after.to_json())
        elif item.action == "delete":
            assert item.id is not None
            del book[item.id]
    return list(book.values()), new_ids


def bindings_after(
    result: Plan, new_ids: dict[int, str], earlier: dict[str, Bound] | None = None
) -> dict[str, Bound]:
    """The bindings a sync keeps after applying ``result``, as the runner records them: an
    add binds its key to the new contact (owned), an update or unchanged item to its
    contact (owned as before), with the fields written (``after``); a kept item confirms
    ``before``; the other items leave the key's binding as it was."""
    bindings = dict(earlier or {})
    for n, item in enumerate(result.items):
        if item.source is None:
            continue
        key = item.source.key
        if item.action == "add":
            assert item.after is not None
            bindings[key] = Bound(new_ids[n], item.after, owned=True)
        elif item.action in ("update", "unchanged"):
            assert item.id is not None and item.after is not None
            old = bindings.get(key)
            owned = old is not None and old.owned and old.contact_id == item.id
            bindings[key] = Bound(item.id, item.after, owned=owned)
    return bindings
