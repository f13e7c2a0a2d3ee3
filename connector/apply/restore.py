"""Restore planning: the plan that brings the phonebook back to a backup.

:func:`plan_restore` is pure: from the backup (read by
:func:`connector.apply.backup.load_backup`) and the phonebook as it is now, it makes the
plan (the same :class:`~connector.reconcile.plan.Plan` as ``sipalto-sync plan``) that
brings the phonebook back, so it is previewed and applied like any other plan.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from connector import paths
from connector.model import Contact, ContactFields, phonebook_fingerprint
from connector.reconcile.plan import Plan, PlanItem, PlanSettings, SourceRef
from connector.reconcile.planfile import save_plan

__all__ = ["plan_restore", "save_restore_plan"]


def _item(
    action: str, contact_id: str | None, before: Contact | None, after: Contact | None,
    source: str, reason: str,
) -> PlanItem:  # fmt: skip
    origin = after or before
    assert origin is not None
    return PlanItem(
        action=action,
        id=contact_id,
        before=before.fields if before else None,
        after=after.fields if after else None,
        source=SourceRef(key=f"backup:{origin.id}", location=f"{source} contact {origin.id}"),
        reason=reason,
    )


def plan_restore(
    backup: Sequence[Contact],
    current: Sequence[Contact],
    *,
    server: str,
    source: str,
    plan_id: str | None = None,
    created_at: datetime | None = None,
) -> Plan:
    """The plan that turns ``current`` back into ``backup``.

    Contacts are paired by id; a contact deleted and later re-created with the same
    fields (so under a new id) is paired by its fields instead, so it is neither
    deleted nor added again. Re-added contacts get new ids: the API cannot choose them.
    """
    now = {c.id: c for c in current}
    saved_ids = {c.id for c in backup}
    extra = [c for c in current if c.id not in saved_ids]
    spare: dict[ContactFields, list[Contact]] = defaultdict(list)
    for contact in extra:
        spare[contact.fields].append(contact)
    items: list[PlanItem] = []
    for old in backup:
        if old.id in now:
            if now[old.id].fields != old.fields:
                items.append(_item("update", old.id, now[old.id], old, source, "reverted"))
            else:
                items.append(_item("unchanged", old.id, old, old, source, "as in the backup"))
            continue
        twins = spare.get(old.fields)
        if twins:
            twin = twins.pop(0)
            reason = f"re-created since as contact {twin.id}"
            items.append(_item("unchanged", twin.id, twin, old, source, reason))
            continue
        items.append(_item("add", None, None, old, source, "removed since the backup"))
    leftovers = {c.id for group in spare.values() for c in group}
    for contact in extra:
        if contact.id in leftovers:
            items.append(
                _item("delete", contact.id, contact, None, source, "added since the backup")
            )
    return Plan(
        plan_id=plan_id or uuid.uuid4().hex,
        created_at=created_at or datetime.now(timezone.utc),
        server=server,
        base=phonebook_fingerprint(current),
        settings=PlanSettings(),
        items=tuple(items),
        warnings=(f"restore of {source}: contacts removed since are added again under new ids",),
    )


def save_restore_plan(plan: Plan) -> Path:
    """Keep a restore plan in the data directory, so an interrupted restore resumes with
    ``sipalto-sync apply PATH``; returns the path."""
    path = paths.private_dir(paths.plans_dir()) / f"restore-{plan.plan_id}.json"
    save_plan(plan, path)
    return path
