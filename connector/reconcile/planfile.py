"""Plan files: a :class:`~connector.reconcile.plan.Plan` stored as JSON, and read back.

The file is the plan's JSON object indented by two spaces, except that each item of
``items`` is one line, written compact (no space after ``:`` or ``,``) by ``msgspec``:
``json.dumps(indent=2)`` runs Python's encoder written in Python (its C encoder does not
indent), and even the C encoder took most of a second for the 100,000 items of a bulk
migration, where ``msgspec`` takes a sixth of that. An item spread over twenty lines is no easier to
read than one line, which ``grep`` finds whole. Any JSON layout of the same object is
read alike, so files written before load as they did.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from connector.errors import PlanError
from connector.files import atomic_write
from connector.model import ContactFields
from connector.reconcile.plan import Plan, PlanItem, SourceRef, candidate_to_json

__all__ = ["load_plan", "plan_file_text", "save_plan"]

_ITEM_INDENT = b"    "


class _Item(msgspec.Struct, omit_defaults=True):
    """An item as :func:`~connector.reconcile.plan.item_to_json` writes it, for msgspec to
    encode straight from the plan's dataclasses, without a dict per item and per field
    (a third of the time of writing a 100,000-item plan). ``sync`` and ``own`` are left
    out when None, as ``item_to_json`` leaves them; a property test holds the two to the
    same bytes."""

    action: str
    id: str | None
    before: ContactFields | None
    after: ContactFields | None
    source: SourceRef | None
    reason: str
    score: float | None
    warnings: tuple[str, ...]
    candidates: list[dict[str, Any]]
    sync: str | None = None
    own: ContactFields | None = None


def _item(item: PlanItem) -> _Item:
    candidates = [candidate_to_json(c) for c in item.candidates]
    return _Item(
        item.action,
        item.id,
        item.before,
        item.after,
        item.source,
        item.reason,
        item.score,
        item.warnings,
        candidates,
        item.sync,
        item.own,
    )


# Items are written in batches of this many lines: one write per item costs more than
# encoding it, and the whole text of a large plan would double the command's memory.
_BATCH = 1024
_encode = msgspec.json.Encoder().encode


def save_plan(plan: Plan, path: str | Path) -> None:
    """Write the plan file (JSON, UTF-8), atomically: a reader never sees half a plan.

    The text is written as it is made, a batch of items at a time, never held whole in
    memory.
    """
    atomic_write(path, _chunks(plan))


def plan_file_text(plan: Plan) -> str:
    """The plan file's text (as :func:`save_plan` writes it), without the final newline."""
    return b"".join(_chunks(plan)).decode("utf-8")[:-1]


def _chunks(plan: Plan) -> Iterator[bytes]:
    head = json.dumps(plan.head_to_json(), indent=2, ensure_ascii=False)
    # The head ends "\n}": the items go in before that brace, as the object's last key.
    opening = (head[: -len("\n}")] + ',\n  "items": [').encode("utf-8")
    items = plan.items
    if not items:
        yield opening + b"]\n}\n"
        return
    yield opening + b"\n" + _ITEM_INDENT
    separator = b",\n" + _ITEM_INDENT
    for start in range(0, len(items), _BATCH):
        if start:
            yield separator
        yield separator.join([_encode(_item(item)) for item in items[start : start + _BATCH]])
    yield b"\n  ]\n}\n"


def load_plan(path: str | Path) -> Plan:
    """Read a plan file; ``PlanError`` if it cannot be read or is not a plan, its message
    starting with the file's name."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{path}: cannot read plan file ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}: not a plan file (invalid JSON: {exc})") from exc
    except ValueError as exc:  # an integer of thousands of digits
        raise PlanError(f"{path}: not a plan file ({exc})") from exc
    except RecursionError as exc:
        raise PlanError(f"{path}: not a plan file (nested too deeply)") from exc
    try:
        return Plan.from_json(data)
    except PlanError as exc:
        raise PlanError(f"{path}: {str(exc).removeprefix('plan file: ')}") from exc
