"""What the apply engine carries out: a plan's writes, checked, and which server they are for.

A plan file holds every item the reconciler decided; only ``add``, ``update`` and
``delete`` items are operations. :func:`load_plan_file` reads a plan file into a
:class:`PlanTarget` and refuses one made against another server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.errors import PlanError
from connector.model import ContactFields
from connector.reconcile.plan import Plan
from connector.reconcile.planfile import in_plan_file, load_plan

WRITE_ACTIONS = ("add", "update", "delete")


@dataclass(frozen=True)
class Operation:
    """One write the plan asks for. ``idx`` is the item's position in the plan."""

    idx: int
    action: str
    contact_id: str | None
    before: ContactFields | None
    after: ContactFields | None
    source_key: str | None = None
    location: str | None = None

    @property
    def label(self) -> str:
        """A short description for reports: ``add "Jane Doe"``, ``update 30001 "Jane Doe"``."""
        fields = self.after or self.before
        name = fields.name if fields else "?"
        target = f" {self.contact_id}" if self.contact_id else ""
        return f'{self.action}{target} "{name}"'


@dataclass(frozen=True)
class PlanTarget:
    """What the engine needs from a plan file: its identity, its base and its writes."""

    plan_id: str
    server: str
    base: str | None
    operations: tuple[Operation, ...]


def plan_target(plan: Plan) -> PlanTarget:
    """Take the identity and the write operations out of a plan."""
    operations = []
    for idx, item in enumerate(plan.items):
        if item.action not in WRITE_ACTIONS:
            continue
        op = Operation(
            idx=idx,
            action=item.action,
            contact_id=item.id,
            before=item.before,
            after=item.after,
            source_key=item.source.key if item.source else None,
            location=item.source.location if item.source else None,
        )
        _check_operation(op)
        operations.append(op)
    return PlanTarget(plan.plan_id, plan.server, plan.base or None, tuple(operations))


def read_plan_document(data: Mapping[str, Any]) -> PlanTarget:
    """The :class:`PlanTarget` of a plan's JSON object (as written by ``plan --out``)."""
    return plan_target(Plan.from_json(data))


def load_plan_file(path: str | Path, *, server: str | None = None) -> PlanTarget:
    """Read a plan file written by ``sipalto-sync plan --out``.

    With ``server`` (the base URL about to be written to), a plan made against another
    server is refused: its ids and its ``before`` values describe that server's phonebook.
    """
    plan = load_plan(path)  # its errors name the file
    try:
        target = plan_target(plan)
    except PlanError as exc:
        raise in_plan_file(path, exc) from exc
    if server and target.server and not same_server(target.server, server):
        raise PlanError(
            f"{path} was made against {target.server}, but the target is "
            f"{server}; make a new plan against this server"
        )
    return target


def _check_operation(op: Operation) -> None:
    problem = None
    if op.action == "add" and (op.after is None or not op.after.name or not op.after.phone1):
        problem = "an add needs a name and phone1 in 'after'"
    elif op.action == "update" and (op.contact_id is None or op.before is None or op.after is None):
        problem = "an update needs an id, 'before' and 'after'"
    elif op.action == "update" and op.after and (not op.after.name or not op.after.phone1):
        problem = "an update needs a name and phone1 in 'after'"
    elif op.action == "delete" and (op.contact_id is None or op.before is None):
        problem = "a delete needs an id and 'before'"
    if problem:
        raise PlanError(f"plan item {op.idx + 1}: {problem}")


def same_server(a: str, b: str) -> bool:
    """True when two base URLs name the same server (scheme, host, port; case-blind)."""

    def key(url: str) -> tuple[str, str, int | None]:
        parts = urlsplit(url.strip().rstrip("/"))
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
        return (parts.scheme.lower(), (parts.hostname or "").lower(), port)

    return key(a) == key(b)
