"""Restore planning: the plan that brings the phonebook back to a backup, and its guards.

:func:`plan_restore` is pure: from the backup (read and checked by
:func:`connector.apply.backup.load_backup`) and the phonebook as it is now, it makes the
plan (the same :class:`~connector.reconcile.plan.Plan` as ``sipalto-sync plan``) that
brings the phonebook back, so it is previewed and applied like any other plan.

A restore can do more harm than any sync, so two guards stand before it:

- :func:`check_backup_server`: a backup made on another server is refused (its ids
  name other contacts here), unless the caller forces it; then contacts are paired by
  their fields only.
- :class:`Deletes`: a restore that deletes more than :data:`MASS_DELETE_COUNT`
  contacts, or more than :data:`MASS_DELETE_SHARE` of the phonebook (a backup holding
  ``[]`` deletes everything), needs a go-ahead of its own, as rsync's ``--max-delete``:
  the number of deletes allowed, given explicitly.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from connector import paths
from connector.apply.backup import Backup
from connector.apply.target import same_server
from connector.errors import ConfigError, PlanError
from connector.model import Contact, ContactFields, phonebook_fingerprint
from connector.reconcile.plan import Plan, PlanItem, PlanSettings, SourceRef
from connector.reconcile.planfile import save_plan

__all__ = [
    "MASS_DELETE_COUNT",
    "MASS_DELETE_SHARE",
    "Deletes",
    "check_backup_server",
    "plan_restore",
    "save_restore_plan",
]

#: A restore deleting more contacts than this needs its own go-ahead...
MASS_DELETE_COUNT = 10
#: ... and so does one deleting more than this share of the phonebook.
MASS_DELETE_SHARE = 0.5


def check_backup_server(backup: Backup, server: str, *, force: bool = False) -> None:
    """Refuse a backup made on a server other than ``server`` unless ``force``.

    A plain export does not say where it was made, so it is let through (the preview
    says its origin is unknown).
    """
    if force or backup.server is None or same_server(backup.server, server):
        return
    raise PlanError(
        f"{backup.path} is a backup of {backup.server}, but the target is {server}: "
        "restoring it would replace this server's phonebook with that one's; "
        "pass --force-other-server if that is what you want"
    )


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
    made_on: str | None = None,
    plan_id: str | None = None,
    created_at: datetime | None = None,
) -> Plan:
    """The plan that turns ``current`` back into ``backup``.

    Contacts are paired by id; a contact deleted and later re-created with the same
    fields (so under a new id) is paired by its fields instead, so it is neither
    deleted nor added again. Re-added contacts get new ids: the API cannot choose them.

    ``made_on`` is the server the backup was made on (``None``: unknown, as for a plain
    export; the plan warns). A backup made on another server is paired by fields only:
    its ids name other contacts on ``server``.
    """
    foreign = made_on is not None and not same_server(made_on, server)
    now = {} if foreign else {c.id: c for c in current}
    saved_ids = set() if foreign else {c.id for c in backup}
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
            if foreign:
                reason = f"already here as contact {twin.id}"
            items.append(_item("unchanged", twin.id, twin, old, source, reason))
            continue
        reason = "not on this server" if foreign else "removed since the backup"
        items.append(_item("add", None, None, old, source, reason))
    leftovers = {c.id for group in spare.values() for c in group}
    for contact in extra:
        if contact.id in leftovers:
            reason = "not in the backup" if foreign else "added since the backup"
            items.append(_item("delete", contact.id, contact, None, source, reason))
    return Plan(
        plan_id=plan_id or uuid.uuid4().hex,
        created_at=created_at or datetime.now(timezone.utc),
        server=server,
        base=phonebook_fingerprint(current),
        settings=PlanSettings(),
        items=tuple(items),
        warnings=_warnings(source, server, made_on, foreign),
    )


def _warnings(source: str, server: str, made_on: str | None, foreign: bool) -> tuple[str, ...]:
    warnings = [f"restore of {source}: contacts removed since are added again under new ids"]
    if made_on is None:
        warnings.append(
            f"{source} does not say which server it was made on (a plain export): its origin "
            "is unknown; check that it is this server's phonebook"
        )
    elif foreign:
        warnings.append(
            f"{source} was made on {made_on}, not on {server}: its ids mean nothing here, "
            "so contacts are paired by their fields"
        )
    return tuple(warnings)


@dataclass(frozen=True)
class Deletes:
    """How many contacts a restore deletes, out of how many in the phonebook now."""

    count: int
    total: int

    @classmethod
    def of(cls, plan: Plan, current: Sequence[Contact]) -> Deletes:
        """The deletes of ``plan`` against the phonebook ``current``."""
        return cls(plan.summary["delete"], len(current))

    @property
    def mass(self) -> bool:
        """More than a few contacts, or most of the phonebook."""
        return self.count > MASS_DELETE_COUNT or self.count > self.total * MASS_DELETE_SHARE

    @property
    def statement(self) -> str:
        """``This restore DELETES 57 of 60 contacts in the phonebook.``, said plainly."""
        noun = "contact" if self.total == 1 else "contacts"
        said = f"This restore DELETES {self.count} of {self.total} {noun} in the phonebook"
        if self.count == self.total:
            return f"{said}: all of them, the phonebook will be empty."
        return f"{said} (every contact not in the backup)."

    def needs_consent(self, max_delete: int | None) -> bool:
        """True when the deletes need a go-ahead beyond ``--yes``.

        ``max_delete`` is the number of deletes allowed explicitly (``None``: not
        given): more deletes than that is an error; as many or fewer need nothing else.
        Without it, a mass delete needs consent.
        """
        if max_delete is None:
            return self.mass
        if self.count > max_delete:
            raise ConfigError(
                f"this restore deletes {self.count} of {self.total} contacts, more than "
                f"--max-delete {max_delete} allows; nothing was changed"
            )
        return False


def save_restore_plan(plan: Plan) -> Path:
    """Keep a restore plan in the data directory, so an interrupted restore resumes with
    ``sipalto-sync apply PATH``; returns the path."""
    path = paths.private_dir(paths.plans_dir()) / f"restore-{plan.plan_id}.json"
    save_plan(plan, path)
    return path
