"""A plan holding every kind of item, with names written to run as code if a page let them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from connector.model import ContactFields
from connector.reconcile.plan import Candidate, Plan, PlanItem, PlanSettings, SourceRef

#: Names that run code, or make a link or a handler, when put in a page as markup.
HOSTILE = (
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    '"><svg onload=window.__pwned=1>',
    "javascript:window.__pwned=1",
    "</script><script>window.__pwned=1</script>",
    "<!--<script>window.__pwned=1//-->",
    "' onmouseover='window.__pwned=1",
    "\u2028line\u2029separators & <b>bold</b>",
)


def _fields(name: str, *phones: str) -> ContactFields:
    slots = [*phones, "", "", ""][:3]
    return ContactFields(name, *slots)


def _source(n: int, name: str, *phones: str) -> SourceRef:
    return SourceRef(f"row:{n}", f"contacts.csv:{n}", name, phones)


def _from_record(
    action: str, n: int, name: str, *phones: str, reason: str, **more: Any
) -> PlanItem:
    """An item about row ``n`` of the source, which would write the record as read."""
    return PlanItem(
        action, after=_fields(name, *phones), source=_source(n, name, *phones), reason=reason,
        **more,
    )  # fmt: skip


def with_adds(plan: Plan, count: int) -> Plan:
    """``plan`` and ``count`` more adds, ``Person 000``, ``Person 001``, ..."""
    adds = tuple(
        PlanItem(
            "add",
            after=ContactFields(f"Person {n:03d}", f"0770090{n:04d}"),
            source=SourceRef(f"row:{n}", f"big.csv:{n}"),
            reason="new contact",
        )
        for n in range(count)
    )
    return replace(plan, items=plan.items + adds)


def every_kind_plan() -> Plan:
    """A plan with items of all eight actions, a sync tag, warnings, candidates and hostile
    text in every field a person can write (names, reasons, warnings, locations)."""
    hostile = HOSTILE
    items = [
        PlanItem(
            "add",
            after=_fields(hostile[0], "07700900001"),
            source=_source(2, hostile[0], "07700900001"),
            reason="new contact",
            warnings=(f"odd name {hostile[1]}",),
        ),
        _from_record("add", 3, "Megan Price", "01632960001", "07700900002", reason="new contact"),
        PlanItem(
            "update",
            id="30001",
            before=_fields("Jon Smith", "07852902011"),
            after=_fields("John Smith", "07852902011", "07730885627"),
            source=_source(4, "John Smith", "07852902011", "07730885627"),
            reason="name alike (92.9), same number 07852902011",
            score=92.857142,
        ),
        PlanItem(
            "update",
            id="30002",
            before=_fields(hostile[2], "01134960000", "01134960001"),
            after=_fields(hostile[3], "01134960000"),
            source=_source(5, hostile[3], "01134960000"),
            reason=hostile[4],
            score=100.0,
            warnings=(hostile[5],),
        ),
        PlanItem(
            "delete",
            id="30003",
            before=_fields(hostile[6], "01614960803"),
            reason="gone from the source",
        ),
        _from_record(
            "review",
            6,
            "Siobhan Murphy",
            "01614960900",
            reason="two contacts alike",
            score=88.0,
            candidates=(
                Candidate("30004", _fields("Siobhán Murphy", "01614960900"), 88.0, hostile[7]),
                Candidate("30005", _fields(hostile[1], "01614960901"), 71.5, "name alike"),
            ),
        ),
        _from_record(
            "review",
            7,
            "Zara Quinn",
            "07700900301",
            reason="edited in the phonebook since the last sync",
            id="30006",
            before=_fields("Zara Quinn", "07700900300"),
            sync="edited",
        ),
        PlanItem(
            "rejected",
            source=_source(8, hostile[1], "not a number"),
            reason=f"no usable phone number ({hostile[0]})",
            warnings=("phone 'not a number' is not a number",),
        ),
        PlanItem(
            "rejected",
            source=_source(9, "", "07700900400"),
            reason="no name",
        ),
        PlanItem(
            "duplicate",
            id="30007",
            before=_fields("Anna Berg", "07700900500"),
            source=_source(10, "Anna Berg", "07700900500"),
            reason="repeats row 11",
            score=100.0,
        ),
        PlanItem(
            "unchanged",
            id="30008",
            before=_fields("Chidi Okafor", "07700900600"),
            after=_fields("Chidi Okafor", "07700900600"),
            source=_source(12, "Okafor, Chidi", "07700900600"),
            reason="already the same",
        ),
        PlanItem(
            "unchanged",
            id="30009",
            before=_fields(hostile[4], "07700900700"),
            after=_fields(hostile[4], "07700900700"),
            source=_source(13, hostile[4], "07700900700"),
            reason="already the same",
            sync="kept",
        ),
        _from_record(
            "skip", 14, "Bob Lee", "07700900800", reason="skipped by a reviewer's decision"
        ),
    ]
    return Plan(
        plan_id="p-every-kind",
        created_at=datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc),
        server="http://127.0.0.1:9/",
        base="sha256:" + "ab" * 32,
        settings=PlanSettings(),
        items=tuple(items),
        warnings=(f"the source has a column {hostile[0]} that no mapping reads",),
    )
