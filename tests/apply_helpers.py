"""Helpers for apply tests: plan documents written by hand, in the documented schema."""

from __future__ import annotations

import uuid
from typing import Any

from connector.reconcile.plan import PlanSettings


def contact(name: str, phone1: str, phone2: str = "", phone3: str = "") -> dict[str, str]:
    """A ``before``/``after`` value."""
    return {"name": name, "phone1": phone1, "phone2": phone2, "phone3": phone3}


def add(name: str, *phones: str, key: str | None = None) -> dict[str, Any]:
    """A plan item adding a contact."""
    return {
        "action": "add",
        "id": None,
        "before": None,
        "after": contact(name, *phones),
        "source": {"key": key or name, "location": f"test.csv:{name}"},
        "reason": "new",
        "score": None,
        "warnings": [],
    }


def update(contact_id: str, before: dict[str, str], after: dict[str, str]) -> dict[str, Any]:
    """A plan item updating a contact."""
    return {
        "action": "update",
        "id": contact_id,
        "before": before,
        "after": after,
        "source": {"key": after["name"], "location": "test.csv"},
        "reason": "changed",
        "score": 100.0,
        "warnings": [],
    }


def delete(contact_id: str, before: dict[str, str]) -> dict[str, Any]:
    """A plan item deleting a contact."""
    return {
        "action": "delete",
        "id": contact_id,
        "before": before,
        "after": None,
        "source": None,
        "reason": "owned and gone from the source",
        "score": None,
        "warnings": [],
    }


def plan_doc(items: list[dict[str, Any]], *, server: str = "", base: str | None = None) -> dict:
    """A whole plan document around ``items``."""
    return {
        "version": 1,
        "plan_id": uuid.uuid4().hex,
        "created_at": "2026-11-27T10:00:00+00:00",
        "server": server,
        "base": base or "",
        "settings": PlanSettings().to_json(),
        "items": items,
    }


def expected_phonebook(start: list[dict[str, str]], items: list[dict[str, Any]]) -> list[tuple]:
    """The phonebook (as sorted field tuples, ids ignored for adds) a plan should leave."""
    book = {c["id"]: c for c in start}
    added = []
    for item in items:
        if item["action"] == "update":
            book[item["id"]] = {"id": item["id"], **item["after"]}
        elif item["action"] == "delete":
            book.pop(item["id"], None)
        elif item["action"] == "add":
            added.append(item["after"])
    rows = [*book.values(), *added]
    return sorted((r["name"], r["phone1"], r["phone2"], r["phone3"]) for r in rows)


def phonebook_rows(contacts: list[dict[str, str]]) -> list[tuple]:
    """A phonebook as sorted field tuples, comparable with :func:`expected_phonebook`."""
    return sorted((c["name"], c["phone1"], c["phone2"], c["phone3"]) for c in contacts)
