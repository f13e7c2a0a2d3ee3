"""Plan files: a :class:`~connector.reconcile.plan.Plan` stored as JSON, and read back.

The file is the plan's JSON object indented by two spaces, except that each item of
``items`` is one line, written compact (no space after ``:`` or ``,``) by ``msgspec``:
``json.dumps(indent=2)`` runs Python's encoder written in Python (its C encoder does not
indent), and even the C encoder took most of a second for the 100,000 items of a bulk
migration, where ``msgspec`` takes a sixth of that. An item spread over twenty lines is no easier to
read than one line, which ``grep`` finds whole. Any JSON layout of the same object is
read alike, so files written before load as they did.

Reading is quick too: ``msgspec`` decodes the items straight into typed structs, checking
each value's type in C, where the standard library's ``json`` and the plan's own checks
in Python took 3 s of the 4 s of ``report`` of a 100,000-item plan. Anything that path
does not take as it stands (a wrong type, an unknown action, a required value missing, a
lone surrogate, ``NaN``, nesting too deep) is read again the standard way, whose
messages name the item and the field: the two paths make equal plans, and a file one
refuses the other refuses alike (``tests/test_planfile_quick.py``).
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
from connector.reconcile.plan import (
    ACTIONS,
    Candidate,
    Plan,
    PlanItem,
    SourceRef,
    candidate_to_json,
)

__all__ = ["in_plan_file", "load_plan", "plan_file_text", "save_plan"]

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
# One item a line, in one call a batch: JSON text holds no raw line break (one inside a
# string is written ``\n``), so each line break ``encode_lines`` puts after an item is
# where the item separator goes.
_encode_lines = msgspec.json.Encoder().encode_lines


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
        lines = _encode_lines([_item(item) for item in items[start : start + _BATCH]])
        if start:
            yield separator
        yield lines[:-1].replace(b"\n", separator)
    yield b"\n  ]\n}\n"


def load_plan(path: str | Path) -> Plan:
    """Read a plan file; ``PlanError`` if it cannot be read or is not a plan, its message
    starting with the file's name."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{path}: cannot read plan file ({exc})") from exc
    quick = _quick_plan(text)
    try:
        if quick is not None:
            head, items = quick
            return Plan.from_json(head, items=items)
        return _plan_from_text(text)
    except PlanError as exc:
        raise in_plan_file(path, exc) from exc


def in_plan_file(path: str | Path, error: PlanError) -> PlanError:
    """``error`` (a fault in a plan's content, worded ``plan file: ...``) said of the plan
    file ``path``: its message starts with the file's name."""
    return PlanError(f"{path}: {str(error).removeprefix('plan file: ')}")


def _plan_from_text(text: str) -> Plan:
    """The plan in ``text`` read the standard way: ``json``, then the plan's own checks,
    which name the item and field of any fault."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"plan file: not a plan file (invalid JSON: {exc})") from exc
    except ValueError as exc:  # an integer of thousands of digits
        raise PlanError(f"plan file: not a plan file ({exc})") from exc
    except RecursionError as exc:
        raise PlanError("plan file: not a plan file (nested too deeply)") from exc
    return Plan.from_json(data)


# -- the quick path ----------------------------------------------------------------------------


class _FileSource(msgspec.Struct):
    key: str
    location: str
    name: str = ""
    phones: list[str] = msgspec.field(default_factory=list)


class _FileCandidate(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    reason: str
    name: str = ""
    phone1: str = ""
    phone2: str = ""
    phone3: str = ""
    score: float | None = None


class _FileItem(msgspec.Struct):
    action: str
    reason: str
    id: str | None = None
    before: dict[str, str] | None = None
    after: dict[str, str] | None = None
    source: _FileSource | None = None
    score: float | None = None
    warnings: list[str] = msgspec.field(default_factory=list)
    candidates: list[_FileCandidate] = msgspec.field(default_factory=list)
    sync: str | None = None
    own: dict[str, str] | None = None


class _FileHead(msgspec.Struct):
    """The plan's object: its items typed, the rest left to :meth:`Plan.from_json`."""

    items: list[_FileItem]
    version: Any = msgspec.UNSET
    plan_id: Any = msgspec.UNSET
    created_at: Any = msgspec.UNSET
    server: Any = msgspec.UNSET
    base: Any = msgspec.UNSET
    summary: Any = msgspec.UNSET
    settings: Any = msgspec.UNSET
    warnings: Any = msgspec.UNSET


_decode_file = msgspec.json.Decoder(_FileHead).decode
_HEAD_KEYS = tuple(name for name in _FileHead.__struct_fields__ if name != "items")
_FIELD_NAMES = frozenset(("name", "phone1", "phone2", "phone3"))


class _NotQuick(Exception):
    """An item the quick path leaves to the standard one."""


def _quick_plan(text: str) -> tuple[dict[str, Any], tuple[PlanItem, ...]] | None:
    """The plan's head (its object without the items) and its items, read by msgspec; None
    for anything the standard path must read, to say what is wrong or to read it as it
    always has."""
    try:
        plan = _decode_file(text)
        items = tuple(map(_quick_item, plan.items))
    except (msgspec.DecodeError, _NotQuick, ValueError, RecursionError):
        return None
    head = {key: getattr(plan, key) for key in _HEAD_KEYS}
    return {key: value for key, value in head.items() if value is not msgspec.UNSET}, items


def _quick_item(item: _FileItem) -> PlanItem:
    if item.action not in ACTIONS:
        raise _NotQuick
    source = item.source
    return PlanItem(  # its own checks raise ValueError for a sync tag that does not fit
        item.action,
        item.id,
        _quick_fields(item.before) if item.before else None,
        _quick_fields(item.after) if item.after else None,
        SourceRef(source.key, source.location, source.name, tuple(source.phones))
        if source is not None
        else None,
        item.reason,
        item.score,
        tuple(item.warnings),
        tuple(
            Candidate(
                c.id,
                ContactFields(c.name, c.phone1, c.phone2, c.phone3),
                0.0 if c.score is None else c.score,
                c.reason,
            )
            for c in item.candidates
        ),
        item.sync,
        _quick_fields(item.own) if item.own is not None else None,
    )


def _quick_fields(fields: dict[str, str]) -> ContactFields:
    if not fields.keys() <= _FIELD_NAMES:
        raise _NotQuick  # an unknown field: the standard path names it
    get = fields.get
    return ContactFields(get("name", ""), get("phone1", ""), get("phone2", ""), get("phone3", ""))
