"""The plan as one self-contained web page, for the person who signs a migration off.

Written by ``plan --format html``, ``report PLAN.json`` and a sync job (``-plan.html``
beside each run's plan file). One file, nothing fetched: it opens from an email
attachment, offline. Its parts::

    header      the source, the phonebook (server, fingerprint, time), the settings,
                the count per action (each with its text-preview mark)
    warnings    the plan's own, then every item warning with its item
    sections    one per action: a table each (updates before/after side by side,
                reviews with their candidates, rejected records with what was read)

Every table is static HTML first, so the page reads (and prints, on A4) with scripts off:
all rows of a plan of at most :data:`STATIC_ALL_ROWS` items, else the first
:data:`PAGE_ROWS` rows of each section and a ``<noscript>`` note of how many are not
shown. The rows are also in the page as JSON (``<script type="application/json">``),
from which the page's script filters by action, searches, sorts and pages, rendering one
page of rows at a time: a 100,000-item plan opens in a few seconds, where as many static
rows would take the browser far longer to lay out.

Every value comes from a file or a server, so none is trusted: text is HTML-escaped,
the JSON has ``<``, ``>``, ``&`` and the two JavaScript line separators escaped (nothing
in it can end its ``<script>`` element), the script builds rows with ``textContent``
only, no attribute, event handler or URL is made from data, and the page's
Content-Security-Policy allows its own inline script and style (by their SHA-256) and
nothing else: no other script, no request, no form, no base URL.

The cells of a row are computed here once (:func:`page_model`) and drawn twice by the
same rules: by :func:`plan_html_chunks` as static HTML, by the script from the JSON. A
cell is text, a number (or null), a list of text lines, or a list of contact fields
``[label, value, mark]`` (``mark``: ``+ - ~`` for a changed field, else empty).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timezone
from functools import cache
from importlib import resources
from typing import Any, TextIO

import msgspec

from adapters.locations import is_url
from connector import __version__
from connector.config import clean_server
from connector.errors import ConfigError
from connector.model import ContactFields
from connector.reconcile.phones import PhoneNormaliser
from connector.reconcile.plan import ACTIONS, Plan, PlanItem
from connector.ui.plan_view import (
    FIELDS,
    SYMBOLS,
    dropped_note,
    field_changes,
    merge_dropped,
    nothing_to_apply,
    summary_line,
    warning_kind,
)
from connector.ui.words import count

__all__ = [
    "PAGE_ROWS",
    "STATIC_ALL_ROWS",
    "Column",
    "content_security_policy",
    "embed_json",
    "page_model",
    "plan_html_chunks",
    "render_plan_html",
    "write_plan_html",
]

#: Rows per page of a section, in the script's pages and the static first page.
PAGE_ROWS = 100
#: A plan of at most this many items shows every row as static HTML (and in print).
STATIC_ALL_ROWS = 2000

# Cell kinds, shared with the script (plan_page.js).
TEXT, NUM, LIST, FIELDS_KIND = "text", "num", "list", "fields"


@dataclass(frozen=True)
class Column:
    """A column of a section's table: its heading and the kind of its cells."""

    label: str
    kind: str = TEXT

    def to_json(self) -> dict[str, str]:
        """``{label, kind}``, as the script reads it."""
        return {"label": self.label, "kind": self.kind}


_NUMBER = Column("#", NUM)
_ID = Column("Contact")
_LOCATION = Column("Location")
_NAME = Column("Name")
_PHONES = Column("Phones", LIST)
_SCORE = Column("Score", NUM)
_REASON = Column("Reason")
_WARNINGS = Column("Warnings", LIST)

# Each action's heading and columns. Every row starts with the action's mark, then the
# item's number in the plan (as every message counts items: from 1).
_SECTIONS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "add": ("Adds", (_NUMBER, _LOCATION, _NAME, _PHONES, _REASON, _WARNINGS)),
    "update": (
        "Updates",
        (
            _NUMBER,
            _ID,
            _LOCATION,
            Column("Before", FIELDS_KIND),
            Column("After", FIELDS_KIND),
            Column("Changed"),
            _SCORE,
            _REASON,
            _WARNINGS,
        ),
    ),
    "delete": ("Deletes", (_NUMBER, _ID, _NAME, _PHONES, _REASON, _WARNINGS)),
    "review": (
        "To review",
        (
            _NUMBER,
            _LOCATION,
            Column("Record"),
            Column("Record's phones", LIST),
            Column("Candidates", LIST),
            _SCORE,
            _REASON,
            _WARNINGS,
        ),
    ),
    "rejected": (
        "Rejected",
        (
            _NUMBER,
            _LOCATION,
            Column("Name read"),
            Column("Phones read", LIST),
            Column("Why"),
            _WARNINGS,
        ),
    ),
    "duplicate": (
        "Duplicates",
        (_NUMBER, _ID, _LOCATION, _NAME, _PHONES, _SCORE, _REASON, _WARNINGS),
    ),
    "unchanged": ("Unchanged", (_NUMBER, _ID, _LOCATION, _NAME, _PHONES, _REASON, _WARNINGS)),
    "skip": ("Skipped", (_NUMBER, _LOCATION, _NAME, _PHONES, _REASON, _WARNINGS)),
}
_WARNING_COLUMNS = (_NUMBER, Column("Action"), _LOCATION, _NAME, Column("Warning"))
# Sections shown collapsed: nothing happens to their contacts.
_COLLAPSED = frozenset({"unchanged", "skip"})

_Cell = Any  # str | float | None | list[str] | list[list[str]]


# -- the model: every cell, computed once ------------------------------------------------


def page_model(plan: Plan) -> dict[str, Any]:
    """The rows of every section and of the warnings table, as the page's JSON holds them:
    ``{"pageRows", "sections": [{"id", "title", "mark", "columns", "rows"}],
    "warnings": {"columns", "rows"}}``. Sections follow :data:`ACTIONS`' order; a row is
    a list of cells, one per column."""
    phones = PhoneNormaliser(plan.settings.region)
    rows: dict[str, list[list[_Cell]]] = {action: [] for action in ACTIONS}
    warnings: list[list[_Cell]] = []
    for number, item in enumerate(plan.items, start=1):
        dropped = merge_dropped(plan, item, phones)
        notes = [dropped_note(dropped), *item.warnings] if dropped else list(item.warnings)
        rows[item.action].append(_row(number, item, notes))
        if notes:
            where, name = _location(item), _name(item)
            action = f"{SYMBOLS[item.action]} {item.action}"
            warnings.extend([number, action, where, name, note] for note in notes)
    sections = [
        {
            "id": action,
            "title": _SECTIONS[action][0],
            "mark": SYMBOLS[action],
            "columns": [column.to_json() for column in _SECTIONS[action][1]],
            "rows": rows[action],
        }
        for action in ACTIONS
    ]
    return {
        "pageRows": PAGE_ROWS,
        "sections": sections,
        "warnings": {"columns": [c.to_json() for c in _WARNING_COLUMNS], "rows": warnings},
    }


def _row(number: int, item: PlanItem, notes: list[str]) -> list[_Cell]:
    """The cells of ``item``'s row in its section (the columns of :data:`_SECTIONS`)."""
    reason = f"{item.reason} (sync: {item.sync})" if item.sync else item.reason
    where = _location(item)
    action = item.action
    if action == "update":
        before, after = _update_fields(item.before, item.after)
        changed = ", ".join(c.field for c in _changes(item.before, item.after))
        return [number, item.id, where, before, after, changed, item.score, reason, notes]
    if action == "review":
        source = item.source
        name, read = (source.name, list(source.phones)) if source else ("", [])
        if not name and item.after is not None:  # a plan file older than the record's fields
            name, read = item.after.name, list(item.after.phones)
        return [number, where, name, read, _candidates(item), item.score, reason, notes]
    if action == "rejected":
        source = item.source
        name, read = (source.name, list(source.phones)) if source else ("", [])
        return [number, where, name, read, reason, notes]
    fields = item.after or item.before
    name = fields.name if fields else ""
    numbers = list(fields.phones) if fields else []
    if action in ("add", "skip"):
        return [number, where, name, numbers, reason, notes]
    if action == "delete":
        return [number, item.id, name, numbers, reason, notes]
    if action == "duplicate":
        return [number, item.id, where, name, numbers, item.score, reason, notes]
    return [number, item.id, where, name, numbers, reason, notes]  # unchanged


def _changes(before: ContactFields | None, after: ContactFields | None) -> list[Any]:
    return field_changes(before, after) if before and after else []


def _update_fields(
    before: ContactFields | None, after: ContactFields | None
) -> tuple[list[list[str]], list[list[str]]]:
    """The before and after cells: the same fields on both sides (any field either side
    fills), so they line up, each changed one with its mark."""
    marks = {change.field: change.mark for change in _changes(before, after)}
    old_cell, new_cell = [], []
    for field in FIELDS:
        old = getattr(before, field) if before else ""
        new = getattr(after, field) if after else ""
        if old or new:
            mark = marks.get(field, "")
            old_cell.append([field, old, mark])
            new_cell.append([field, new, mark])
    return old_cell, new_cell


def _candidates(item: PlanItem) -> list[str]:
    return [
        f"{c.id} {c.fields.name} [{', '.join(c.fields.phones)}] score {c.score:g}: {c.reason}"
        for c in item.candidates
    ]


def _location(item: PlanItem) -> str:
    return item.source.location if item.source else ""


def _name(item: PlanItem) -> str:
    fields = item.after or item.before
    if fields is not None and fields.name:
        return fields.name
    return item.source.name if item.source else ""


# -- the page ----------------------------------------------------------------------------


def write_plan_html(plan: Plan, out: TextIO, *, source: str | None = None) -> None:
    """Write the page of ``plan`` to ``out``, a piece at a time (see
    :func:`plan_html_chunks`)."""
    for chunk in plan_html_chunks(plan, source=source):
        out.write(chunk)


def render_plan_html(plan: Plan, *, source: str | None = None) -> str:
    """The page of ``plan`` as one string (see :func:`plan_html_chunks`)."""
    return "".join(plan_html_chunks(plan, source=source))


def plan_html_chunks(plan: Plan, *, source: str | None = None) -> Iterator[str]:
    """The page of ``plan``, in pieces: the whole page is never held as one string.

    ``source`` is what the plan was made from (a file, or a CRM's URL: shown without
    userinfo, query or fragment); None when not known (a plan file), when the page names
    the files the items' locations name.
    """
    return map(_encodable, _page_chunks(plan, source))


def _encodable(chunk: str) -> str:
    """``chunk``, any lone surrogate in it (a ``"\\ud800"`` read from a plan file's JSON,
    which no UTF-8 can hold) made U+FFFD."""
    try:
        chunk.encode("utf-8")
    except UnicodeEncodeError:
        return chunk.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return chunk


def _page_chunks(plan: Plan, source: str | None) -> Iterator[str]:
    model = page_model(plan)
    script, style = _asset("plan_page.js"), _asset("plan_page.css")
    static_rows = None if len(plan.items) <= STATIC_ALL_ROWS else PAGE_ROWS
    yield _head(plan, style, script)
    yield _header(plan, source)
    yield '<main id="main">\n'
    yield _controls(plan)
    yield _plan_warnings(plan)
    if model["warnings"]["rows"]:
        yield from _table_section(
            "warnings",
            "Item warnings",
            "!",
            _WARNING_COLUMNS,
            model["warnings"]["rows"],
            static_rows,
            collapsed=False,
        )
    for section in model["sections"]:
        action = section["id"]
        if not section["rows"]:
            continue
        yield from _table_section(
            action,
            section["title"],
            section["mark"],
            _SECTIONS[action][1],
            section["rows"],
            static_rows,
            collapsed=action in _COLLAPSED,
        )
    yield "</main>\n"
    yield (
        f"<footer><p>Made by sipalto-sync {_e(__version__)}. Nothing has been changed yet:"
        " this is the plan; <code>sipalto-sync apply</code> carries it out.</p></footer>\n"
    )
    yield '<script type="application/json" id="plan-data">'
    yield embed_json(model)
    yield "</script>\n"
    yield f"<script>{script}</script>\n</body>\n</html>\n"


def content_security_policy(style: str, script: str) -> str:
    """The page's policy: nothing but its own inline ``style`` and ``script`` (by hash).

    ``img-src data:`` only for the empty icon the page names, so the browser asks for no
    ``favicon.ico``; a data block (``type="application/json"``) is not run, so needs no
    hash.
    """
    return (
        f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def embed_json(data: object) -> str:
    """``data`` as JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` as
    ``\\u003c`` and so on (no ``</script>`` or ``<!--`` can appear), and U+2028/U+2029
    escaped too (line breaks to older JavaScript). ``JSON.parse`` reads it unchanged."""
    try:
        text = msgspec.json.encode(data).decode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate read from a plan file: made U+FFFD later
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # One replace a character, each a pass in C: str.translate with a table looked up
    # every character of the page's data, 1.5 s at 100,000 items.
    for character, escaped in _JSON_ESCAPES:
        text = text.replace(character, escaped)
    return text


_JSON_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


@cache
def _asset(name: str) -> str:
    return resources.files("connector.ui").joinpath(name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _e(value: object) -> str:
    """Text as HTML (quotes too: the same escape serves text and attribute values)."""
    return html.escape(str(value), quote=True)


def _head(plan: Plan, style: str, script: str) -> str:
    policy = content_security_policy(style, script)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(policy)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>Phonebook plan {_e(plan.plan_id)}: {_e(summary_line(plan))}</title>\n"
        f"<style>{style}</style>\n</head>\n<body>\n"
        '<a class="skip" href="#main">Skip to the items</a>\n'
    )


def _header(plan: Plan, source: str | None) -> str:
    created = plan.created_at
    if created.tzinfo is not None:
        created = created.astimezone(timezone.utc)
    facts = [
        ("Source", _source_text(plan, source)),
        ("Phonebook", _shown(plan.server)),
        ("Phonebook fingerprint", plan.base),
        ("Read and planned at", created.isoformat(sep=" ", timespec="seconds")),
        ("Plan id", plan.plan_id),
    ]
    lines = ["<header>", "<h1>Phonebook plan</h1>"]
    if not plan.has_changes:
        lines.append(f'<p class="lead">{_e(nothing_to_apply(plan))}</p>')
    lines.append(f'<p class="lead">{_e(summary_line(plan))}</p>')
    lines.append('<dl class="facts">')
    lines.extend(f"<dt>{_e(term)}</dt><dd>{_e(value)}</dd>" for term, value in facts)
    lines.append("</dl>")
    lines.append('<div class="tables">')
    lines.append(_counts_table(plan))
    lines.append(_settings_table(plan))
    lines.append("</div>\n</header>\n")
    return "\n".join(lines)


def _counts_table(plan: Plan) -> str:
    summary = plan.summary
    rows = []
    for action in ACTIONS:
        label = _e(action)
        if summary[action]:  # a link to its section (ids are fixed words, never data)
            label = f'<a href="#s-{action}">{label}</a>'
        rows.append(
            f'<tr><td class="mark">{_e(SYMBOLS[action])}</td><th scope="row">{label}</th>'
            f'<td class="num">{summary[action]:,}</td></tr>'
        )
    return (
        '<table class="counts"><caption>Items per action</caption>\n'
        '<thead><tr><th scope="col">Mark</th><th scope="col">Action</th>'
        '<th scope="col" class="num">Items</th></tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + f'\n</tbody>\n<tfoot><tr><td></td><th scope="row">all</th>'
        f'<td class="num">{len(plan.items):,}</td></tr></tfoot></table>'
    )


def _settings_table(plan: Plan) -> str:
    settings = plan.settings.to_json()
    match = ", ".join(f"{key} {value}" for key, value in settings["match"].items())
    decided = len(settings["decisions"])
    shown = [
        ("Region", settings["region"]),
        ("Phones", settings["phones"]),
        ("Names", settings["names"]),
        ("Delete", settings["delete"]),
        ("On a phonebook edit", settings["on_phonebook_edit"]),
        ("Add deleted contacts again", "yes" if settings["readd_deleted"] else "no"),
        ("Matching thresholds", match),
        ("Reviewers' decisions", count(decided, "decision") if decided else "none"),
    ]
    rows = "\n".join(
        f'<tr><th scope="row">{_e(key)}</th><td>{_e(value)}</td></tr>' for key, value in shown
    )
    return (
        '<table class="settings"><caption>Settings</caption>\n'
        '<thead><tr><th scope="col">Setting</th><th scope="col">Value</th></tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody></table>"
    )


def _source_text(plan: Plan, source: str | None) -> str:
    if source is not None:
        return _shown(source)
    files = Counter(_location_file(item.source.location) for item in plan.items if item.source)
    if not files:
        return "not recorded in the plan file"
    named = [name for name, _ in files.most_common(3)]
    more = f" and {count(len(files) - 3, 'other')}" if len(files) > 3 else ""
    return f"{', '.join(named)}{more} (as the items' locations name it)"


def _location_file(location: str) -> str:
    """``contacts.csv`` of ``contacts.csv:4``; a location without a line number whole."""
    head, _, tail = location.rpartition(":")
    return head if head and tail.strip().isdigit() else location


def _shown(place: str) -> str:
    """A URL without userinfo, query or fragment (a password or token may be in them)."""
    if not is_url(place):
        return place
    try:
        return clean_server(place)
    except ConfigError:
        return "a URL (not shown: it is not a valid http(s) URL)"


def _controls(plan: Plan) -> str:
    """The filters: shown by the script (``hidden`` until then), as they need it."""
    summary = plan.summary
    boxes = "\n".join(
        f'<label><input type="checkbox" name="action" value="{action}" checked> '
        f'<span class="mark">{_e(SYMBOLS[action])}</span> {_e(action)} '
        f'<span class="muted">({summary[action]:,})</span></label>'
        for action in ACTIONS
        if summary[action]
    )
    return (
        '<form class="controls" id="controls" hidden role="search" aria-label="Filter the items">'
        f"\n<fieldset><legend>Show actions</legend>\n{boxes}\n</fieldset>\n"
        '<p><label for="search">Search every column</label> '
        '<input type="search" id="search" autocomplete="off" '
        'placeholder="a name, number, id, location, reason"></p>\n'
        '<p><label for="page-size">Rows per page</label> <select id="page-size">'
        + "".join(
            f'<option value="{n}"{" selected" if n == PAGE_ROWS else ""}>{n:,}</option>'
            for n in (50, 100, 500, 1000)
        )
        + '</select></p>\n<p id="status" role="status" aria-live="polite"></p>\n</form>\n'
    )


def _plan_warnings(plan: Plan) -> str:
    if not plan.warnings:
        return ""
    items = "\n".join(f"<li>! {_e(warning)}</li>" for warning in plan.warnings)
    return (
        '<section class="plan-warnings" aria-labelledby="h-plan-warnings">\n'
        f'<h2 id="h-plan-warnings">! Warnings about the whole plan</h2>\n<ul>\n{items}\n</ul>\n'
        "</section>\n"
    )


def _table_section(
    key: str,
    title: str,
    mark: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[_Cell]],
    static_rows: int | None,
    *,
    collapsed: bool,
) -> Iterator[str]:
    """A section's heading, then its table with the first ``static_rows`` rows (all when
    None), then the note of what scripts off do not show."""
    total = len(rows)
    shown = rows if static_rows is None else rows[:static_rows]
    yield (
        f'<section id="s-{key}" class="plan-section" data-section="{key}"'
        f' aria-labelledby="h-{key}">\n'
        f'<h2 id="h-{key}"><span class="mark">{_e(mark)}</span> {_e(title)}'
        f' <span class="muted">({total:,})</span></h2>\n'
    )
    if key == "warnings":
        yield _warning_kinds(rows)
    if collapsed:
        yield f"<details><summary>Show the {total:,} {_e(title.lower())} items</summary>\n"
    yield f'<div class="scroll"><table id="t-{key}">\n<caption>{_e(title)}</caption>\n'
    yield "<thead><tr>" + _th("Mark") + "".join(_th(c.label, c.kind) for c in columns)
    yield f'</tr></thead>\n<tbody id="b-{key}">\n'
    for start in range(0, len(shown), 500):
        yield "".join(_row_html(mark, columns, row) for row in shown[start : start + 500])
    yield "</tbody></table></div>\n"
    hidden = total - len(shown)
    if hidden:
        yield (
            f'<noscript><p class="note">{hidden:,} more {_e(title.lower())} rows are not shown'
            f" here: with scripts on, this page pages through all {total:,}; the plan file"
            " and <code>plan --format csv</code> hold them all.</p></noscript>\n"
        )
    if collapsed:
        yield "</details>\n"
    yield "</section>\n"


def _warning_kinds(rows: Sequence[Sequence[_Cell]]) -> str:
    """How many item warnings of each kind (the text preview's grouping), most first."""
    kinds: Counter[str] = Counter()
    first: dict[str, str] = {}
    for row in rows:
        kind = warning_kind(row[-1])
        kinds[kind] += 1
        first.setdefault(kind, row[-1])
    if len(rows) < 10 or len(kinds) == len(rows):  # nothing repeats: the table says it all
        return ""
    items = "\n".join(
        f"<li>{n:,} like &#8220;{_e(first[kind])}&#8221;</li>" for kind, n in kinds.most_common(10)
    )
    more = f"<li>and {count(len(kinds) - 10, 'other kind')}</li>" if len(kinds) > 10 else ""
    return f'<ul class="kinds" aria-label="Warnings by kind">\n{items}\n{more}</ul>\n'


def _th(label: str, kind: str = TEXT) -> str:
    numeric = ' class="num"' if kind == NUM else ""
    return f'<th scope="col"{numeric}>{_e(label)}</th>'


def _row_html(mark: str, columns: Sequence[Column], row: Sequence[_Cell]) -> str:
    cells = [f'<td class="mark">{_e(mark)}</td>']
    for column, value in zip(columns, row, strict=True):
        if column is _NUMBER:  # the item's number heads its row
            cells.append(f'<th scope="row" class="num">{value}</th>')
        else:
            cells.append(_cell_html(column.kind, value))
    return f"<tr>{''.join(cells)}</tr>\n"


def _cell_html(kind: str, value: _Cell) -> str:
    if kind == NUM:
        return f'<td class="num">{"" if value is None else f"{value:g}"}</td>'
    if kind == LIST:
        return f"<td>{_list_html(value)}</td>"
    if kind == FIELDS_KIND:
        return f"<td>{_fields_html(value)}</td>"
    return f"<td>{_e(value or '')}</td>"


def _list_html(lines: Iterable[str]) -> str:
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    return f'<ul class="lines">{items}</ul>' if items else ""


def _fields_html(fields: Iterable[Sequence[str]]) -> str:
    items = []
    for label, value, mark in fields:
        changed = ' class="chg"' if mark else ""
        shown = _e(value) if value else '<span class="muted">(empty)</span>'
        items.append(
            f'<li{changed}><span class="mark">{_e(mark or " ")}</span> '
            f'<span class="lbl">{_e(label)}:</span> {shown}</li>'
        )
    return f'<ul class="fields">{"".join(items)}</ul>'
