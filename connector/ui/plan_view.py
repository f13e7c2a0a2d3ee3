"""Showing a plan to people: a text preview, a CSV for spreadsheets, and JSON.

The text preview reads like a careful ``terraform plan``: one block per item with its
field-level changes, the reason, and any warnings, then the summary line::

      ~ update 30001 John Smith  (contacts.csv:4)
          ~ name:   "Jon Smith" -> "John Smith"
          + phone2: "07730885627"
          # name alike (92.9), same number 07852902011; name differs; adds 07730885627

    Plan: 12 to add, 3 to update, 0 to delete, 2 to review, 1 rejected.

Unchanged (and skipped) items are shown only when asked (``verbose``). Colour is the
caller's choice (the CLI turns it off when piped or with ``NO_COLOR``).

The ``decisions`` format is a decisions file to fill in (YAML): the plan's decisions with
the record and contact each was made about, and an empty decision for each review item.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TextIO

import yaml

from connector.errors import ConfigError
from connector.formulas import escape_formula
from connector.model import MAX_PHONES, ContactFields
from connector.reconcile.decisions import Decision, Snapshot, format_candidates
from connector.reconcile.fit import recorded_decisions
from connector.reconcile.phones import PhoneNormaliser
from connector.reconcile.plan import Plan, PlanItem
from connector.reconcile.planfile import plan_file_text
from connector.reconcile.planner import slot_numbers
from connector.ui.words import count

__all__ = [
    "CSV_COLUMNS",
    "FIELDS",
    "PREVIEW_FORMATS",
    "SYMBOLS",
    "FieldChange",
    "dropped_note",
    "field_changes",
    "merge_dropped",
    "nothing_to_apply",
    "render_plan_csv",
    "render_plan_decisions",
    "render_plan_json",
    "render_plan_text",
    "summary_line",
    "warning_kind",
    "write_plan",
]

#: A contact's fields, in the order every preview shows them.
FIELDS = ("name", "phone1", "phone2", "phone3")
# Each field's label in a field line, padded so the values line up: "name:  ", "phone1:".
_LABELS = {field: f"{field}:".ljust(7) for field in FIELDS}

#: Each action's mark, in the text preview and on the web page: colour is never the only
#: signal of what happens to a contact.
SYMBOLS = {
    "add": "+",
    "update": "~",
    "delete": "-",
    "review": "?",
    "rejected": "!",
    "duplicate": "=",
    "unchanged": " ",
    "skip": ".",
}
_COLOURS = {
    "add": "32",  # green
    "update": "33",  # yellow
    "delete": "31",  # red
    "review": "35",  # magenta
    "rejected": "1;31",  # bold red
    "duplicate": "36",  # cyan
    "unchanged": "2",  # dim
    "skip": "2",
}
_DIM = "2"
_WARN = "33"
_QUIET = frozenset({"unchanged", "skip"})
# A field value as a JSON string, quotes and escapes included, by one encoder made once:
# json.dumps with an option makes a new encoder on every call.
_quoted = json.JSONEncoder(ensure_ascii=False).encode

_Paint = Callable[[str, str], str]

#: What ``plan --format`` can write.
PREVIEW_FORMATS = ("text", "json", "csv", "decisions", "html")

#: Columns of the CSV preview; ``decision`` is for a reviewer to fill in. ``source_name``
#: and ``source_phones`` are the record as read, what a decision on the row is made about.
CSV_COLUMNS = (
    "action",
    "source_key",
    "source_location",
    "source_name",
    "source_phones",
    "id",
    *(f"{field}_before" for field in FIELDS),
    *(f"{field}_after" for field in FIELDS),
    "score",
    "reason",
    "warnings",
    "candidates",
    "decision",
)


def write_plan(
    plan: Plan,
    fmt: str,
    out: TextIO,
    *,
    verbose: bool = False,
    color: bool = False,
    source: str | None = None,
) -> None:
    """Write the preview of ``plan`` to ``out`` in one of :data:`PREVIEW_FORMATS`;
    ``source`` is what the plan was made from, for the web page's header (``html``)."""
    if fmt == "text":
        out.write(render_plan_text(plan, verbose=verbose, color=color) + "\n")
    elif fmt == "json":
        out.write(render_plan_json(plan) + "\n")
    elif fmt == "csv":
        render_plan_csv(plan, out)
    elif fmt == "decisions":
        out.write(render_plan_decisions(plan))
    elif fmt == "html":
        # Imported here: the page's assets are read only by a command that writes one.
        from connector.ui.plan_html import write_plan_html

        write_plan_html(plan, out, source=source)
    else:
        raise ConfigError(f"unknown preview format {fmt!r}: use {', '.join(PREVIEW_FORMATS)}")


def summary_line(plan: Plan) -> str:
    """``Plan: 12 to add, 3 to update, 0 to delete, 2 to review, 1 rejected.``"""
    s = plan.summary
    return (
        f"Plan: {s['add']} to add, {s['update']} to update, {s['delete']} to delete, "
        f"{s['review']} to review, {s['rejected']} rejected."
    )


def render_plan_text(plan: Plan, *, verbose: bool = False, color: bool = False) -> str:
    """The human preview: changed items (all items with ``verbose``), then the summary."""
    paint = _painter(color)
    phones = PhoneNormaliser(plan.settings.region)
    shown = [item for item in plan.items if verbose or item.action not in _QUIET]
    repeats = _RepeatedWarnings(limit=None if verbose else SHOWN_WARNINGS_OF_A_KIND)
    blocks = [
        _item_text(item, paint, merge_dropped(plan, item, phones), repeats.keep(item.warnings))
        for item in shown
    ]
    s = plan.summary
    tail = [
        summary_line(plan),
        f"Also: {s['unchanged']} unchanged, {s['duplicate']} duplicate, {s['skip']} skipped.",
    ]
    if not plan.has_changes:
        tail.insert(0, nothing_to_apply(plan))
    warnings = [paint(_WARN, f"Warning: {warning}") for warning in plan.warnings]
    warnings += [paint(_WARN, f"Warning: {line}") for line in repeats.summary()]
    return "\n\n".join([*blocks, "\n".join([*warnings, *tail])])


#: How many items the text preview shows a warning of one kind on (``-v``: all of them).
SHOWN_WARNINGS_OF_A_KIND = 3
# What makes two warnings "the same": the numbers and quoted values they name aside.
_WARNING_DETAIL = re.compile(r"'[^']*'|\"[^\"]*\"|[+(]?\d[\d ()./-]*\d|\d")


def warning_kind(warning: str) -> str:
    """What makes two warnings "the same": their words, the numbers and quoted values they
    name replaced by ``#``."""
    return _WARNING_DETAIL.sub("#", warning)


class _RepeatedWarnings:
    """Item warnings of one kind (the same words, other numbers or values) are shown on
    the first few items; the others are counted and summed up once at the end."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.seen: dict[str, int] = {}
        self.first: dict[str, str] = {}

    def keep(self, warnings: Sequence[str]) -> tuple[str, ...]:
        if self.limit is None:
            return tuple(warnings)
        kept = []
        for warning in warnings:
            kind = warning_kind(warning)
            self.first.setdefault(kind, warning)
            self.seen[kind] = self.seen.get(kind, 0) + 1
            if self.seen[kind] <= self.limit:
                kept.append(warning)
        return tuple(kept)

    def summary(self) -> list[str]:
        limit = self.limit
        if limit is None:  # every warning was shown
            return []
        return [
            f"{count(n - limit, 'more warning')} like {self.first[kind]!r} not shown "
            "above (-v shows every one; the plan file and --format csv hold them all)"
            for kind, n in self.seen.items()
            if n > limit
        ]


def nothing_to_apply(plan: Plan) -> str:
    """The first line of a plan with nothing to apply: it matches the source only when no
    record is waiting for review or was rejected."""
    review, rejected = plan.summary["review"], plan.summary["rejected"]
    pending = []
    if review:
        pending.append(f"{count(review, 'record')} {'needs' if review == 1 else 'need'} review")
    if rejected:
        pending.append(
            f"{rejected} rejected" if review else f"{count(rejected, 'record')} rejected"
        )
    if not pending:
        return "No changes. The phonebook already matches the source."
    return f"Nothing to apply; {', '.join(pending)}."


def render_plan_json(plan: Plan) -> str:
    """The plan file's JSON, as ``--format json`` prints it (the plan file's very text)."""
    return plan_file_text(plan)


def render_plan_csv(plan: Plan, fh: TextIO) -> None:
    """One row per item for review in a spreadsheet (see :data:`CSV_COLUMNS`).

    Cells a spreadsheet would run as a formula get a leading apostrophe
    (:func:`connector.formulas.escape_formula`; phone numbers stay as they are);
    ``load_decisions`` takes it off again. The ``decision`` column holds the decision
    the plan was made with, else is empty. A filled-in row is also what its decision was
    made about (:mod:`connector.reconcile.decisions`): the record, and the contact of its
    ``id`` or of its ``candidates`` cell.
    """
    decisions = plan.settings.decisions
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in plan.items:
        source = item.source
        key = source.key if source else ""
        decision = decisions.get(key) if key else None
        row = [
            item.action,
            key,
            source.location if source else "",
            source.name if source else "",
            ", ".join(source.phones) if source else "",
            item.id or "",
            *_field_cells(item.before),
            *_field_cells(item.after),
            "" if item.score is None else f"{item.score:g}",
            item.reason,
            "; ".join(item.warnings),
            format_candidates(
                (c.id, c.fields.name, c.fields.phones, c.score) for c in item.candidates
            ),
            str(decision) if decision else "",
        ]
        writer.writerow([escape_formula(cell) for cell in row])


def render_plan_decisions(plan: Plan) -> str:
    """A decisions file (YAML) for the plan, in source order: each decision it was made
    with, with the record and contact it was made about
    (:func:`connector.reconcile.fit.recorded_decisions`), and for each review item an
    entry whose ``decision`` is left empty, with the record and its candidates."""
    decided = recorded_decisions(plan)
    blocks = [_DECISIONS_HEADER]
    for item in plan.items:
        if item.source is None:
            continue
        key = item.source.key
        if key in decided:
            blocks.append(_decision_entry(key, decided.pop(key), _note(item)))
        elif item.action == "review":
            blocks.append(_template_entry(key, item))
    for key, decision in sorted(decided.items()):  # for keys the source no longer has
        blocks.append(_decision_entry(key, decision, "# no such source record: not used"))
    return "\n\n".join(blocks) + "\n"


_DECISIONS_HEADER = """\
# Decisions for `sipalto-sync plan SOURCE --decisions THIS_FILE`, by source key.
# decision: match <contact id>, add or skip (left empty: not decided); match: <id> is the
# same as decision: match <id>. record and contact are what a decision was made about:
# when the record or the contact no longer fits them, the record goes to review instead."""


def _note(item: PlanItem) -> str:
    where = item.source.location if item.source else ""
    return _comment(f"{where}: {item.action}: {item.reason}")


def _comment(text: str) -> str:
    # One line, whatever the reason holds; a control character (a key or name read from a
    # cell) is escaped, as YAML refuses one even in a comment.
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " ".join(text.split()))
    return "# " + shown


def _decision_entry(key: str, decision: Decision, note: str) -> str:
    data = decision.to_json()
    if not isinstance(data, dict) or list(data) == ["match"]:
        return f"{note}\n{_flow(key)}: {_flow(data)}"
    return "\n".join([note, f"{_flow(key)}:", *(f"  {k}: {_flow(v)}" for k, v in data.items())])


def _template_entry(key: str, item: PlanItem) -> str:
    source = item.source
    assert source is not None
    record = Snapshot(source.name, source.phones)
    if not source.name and item.after is not None:  # a plan file older than those fields
        record = Snapshot(item.after.name, item.after.phones)
    lines = [
        _note(item),
        f"{_flow(key)}:",
        "  decision:  # match <contact id>, add or skip",
        f"  record: {_flow(record.to_json())}",
    ]
    if item.candidates:
        lines.append("  candidates:")
        lines.extend(
            "  - "
            + _flow(
                {
                    "id": c.id,
                    "name": c.fields.name,
                    "phones": list(c.fields.phones),
                    "score": int(c.score) if c.score == int(c.score) else c.score,
                }
            )
            for c in item.candidates
        )
    return "\n".join(lines)


def _flow(value: object) -> str:
    """``value`` as one line of YAML (flow style), phone numbers double-quoted (YAML would
    read an unquoted ``01234567`` as an octal number), everything else quoted only where
    YAML needs it; all double-quoted, with escapes, if a value holds a line break (of any
    kind YAML knows)."""
    options: dict[str, Any] = {"default_flow_style": True, "allow_unicode": True}
    options |= {"width": 1 << 30, "sort_keys": False, "Dumper": _Dumper}
    value = _quote_phones(value)
    text = yaml.dump(value, **options).removesuffix("\n...\n").rstrip("\n")
    if len(text.splitlines()) > 1:  # also U+0085 and U+2028, line breaks to YAML too
        text = yaml.dump(value, default_style='"', **options).rstrip("\n")
    return text


class _Phone(str):
    """A phone number to write double-quoted."""


class _Dumper(yaml.SafeDumper):
    """``SafeDumper`` that double-quotes :class:`_Phone` values."""


_Dumper.add_representer(
    _Phone, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, '"')
)


def _quote_phones(value: object) -> object:
    if isinstance(value, dict):
        return {
            key: [_Phone(phone) for phone in item] if key == "phones" else _quote_phones(item)
            for key, item in value.items()
        }
    return value


# -- text details ------------------------------------------------------------------------------


def _painter(color: bool) -> _Paint:
    def paint(code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    return paint


def _item_text(
    item: PlanItem, paint: _Paint, dropped: Sequence[str], warnings: Sequence[str]
) -> str:
    """One item's block; ``dropped`` are the phonebook numbers a merge has no room for,
    ``warnings`` the item's warnings to show (the first few of a kind, or all of them)."""
    colour = _COLOURS[item.action]
    if item.action == "rejected" and item.source:  # what there is of it, where and why
        source = item.source
        what = f" {source.name}" if source.name else ""
        if source.phones:
            what += f" [{', '.join(source.phones)}]"
        head = paint(colour, f"  ! rejected {source.location}{what}: {item.reason}")
        return "\n".join([head, *(paint(_WARN, f"      ! {w}") for w in warnings)])
    head = paint(colour, f"  {SYMBOLS[item.action]} {_title(item)}")
    if item.source:
        head += paint(_DIM, f"  ({item.source.location})")
    if dropped:
        head += paint(_WARN, f"  {dropped_note(dropped)}")
    lines = [head]
    lines.extend(paint(colour, line) for line in _field_lines(item))
    for candidate in item.candidates:
        phones = ", ".join(candidate.fields.phones)
        lines.append(
            f"      candidate {candidate.id} {candidate.fields.name} [{phones}]"
            f" score {candidate.score:g}: {candidate.reason}"
        )
    if item.reason:
        lines.append(paint(_DIM, f"      # {item.reason}"))
    lines.extend(paint(_WARN, f"      ! {warning}") for warning in warnings)
    return "\n".join(lines)


def dropped_note(dropped: Sequence[str]) -> str:
    """``drops phonebook number 01491833000: no free slot (Sipalto holds 3)``."""
    what = "number" if len(dropped) == 1 else "numbers"
    return f"drops phonebook {what} {', '.join(dropped)}: no free slot (Sipalto holds {MAX_PHONES})"


def merge_dropped(plan: Plan, item: PlanItem, phones: PhoneNormaliser) -> list[str]:
    """The phonebook numbers an update drops under ``merge``, which drops one only when
    the source's numbers fill every slot: a loss the item's own line must show."""
    if plan.settings.phones != "merge" or item.action != "update":
        return []
    if item.before is None or item.after is None or len(item.after.phones) < MAX_PHONES:
        return []  # a free slot left: the update itself drops it (a row of an export)
    if set(item.before.phones) <= set(item.after.phones):
        return []  # every old slot kept as written: no number to read to know that
    kept = slot_numbers(phones, item.after.phones)
    return [n for n in slot_numbers(phones, item.before.phones) if n not in kept]


def _title(item: PlanItem) -> str:
    fields = item.after or item.before
    name = fields.name if fields else ""
    parts = [item.action]
    if item.id:
        parts.append(item.id)
    if name:
        parts.append(name)
    if item.score is not None and item.action in ("review", "duplicate"):
        parts.append(f"(score {item.score:g})")
    return " ".join(parts)


def _field_lines(item: PlanItem) -> list[str]:
    """``+ field: new``, ``~ field: old -> new``, ``- field: old`` for what changes."""
    if item.action == "add":
        return _listing("+", item.after)
    if item.action == "delete":
        return _listing("-", item.before)
    if item.action == "review":
        return [f"      would add: {_inline(item.after)}"] if item.after else []
    if item.action != "update" or item.before is None or item.after is None:
        return []
    lines = []
    for change in field_changes(item.before, item.after):
        label = _LABELS[change.field]
        if change.mark == "+":
            lines.append(f"      + {label} {_quoted(change.new)}")
        elif change.mark == "-":
            lines.append(f"      - {label} {_quoted(change.old)}")
        else:
            lines.append(f"      ~ {label} {_quoted(change.old)} -> {_quoted(change.new)}")
    return lines


class FieldChange(NamedTuple):
    """A field an update changes: ``mark`` is ``+`` (filled in), ``-`` (emptied) or
    ``~`` (changed), as the text preview marks the field's line."""

    field: str
    old: str
    new: str
    mark: str


def field_changes(before: ContactFields, after: ContactFields) -> list[FieldChange]:
    """The fields that differ between ``before`` and ``after``, in :data:`FIELDS` order."""
    changes = []
    for field in FIELDS:
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            mark = "+" if not old else "-" if not new else "~"
            changes.append(FieldChange(field, old, new, mark))
    return changes


def _listing(symbol: str, fields: ContactFields | None) -> list[str]:
    if fields is None:
        return []
    return [
        f"      {symbol} {_LABELS[field]} {_quoted(value)}"
        for field in FIELDS
        if (value := getattr(fields, field))
    ]


def _inline(fields: ContactFields | None) -> str:
    if fields is None:
        return ""
    return f"{fields.name} [{', '.join(fields.phones)}]"


def _field_cells(fields: ContactFields | None) -> Sequence[str]:
    if fields is None:
        return ("", "", "", "")
    return (fields.name, fields.phone1, fields.phone2, fields.phone3)
