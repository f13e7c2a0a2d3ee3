"""What CSV and Excel sources share: finding the header row and turning rows into records.

Both adapters reduce their file to rows of text cells with a line (or sheet row) number;
this module picks the header among the first rows, binds the mapping to it (the one
given, a recognised preset, or recognised common headers, whose phone columns must also
hold numbers in the rows below) and builds one :class:`SourceRecord` per non-blank row.
:func:`fit_layout` says why no row fits instead of raising, so a workbook can try its
sheets in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path

from adapters.base import (
    MAX_FIELD_CHARS,
    NO_NAME,
    NO_PHONE,
    build_record,
    is_formula,
    is_non_voice,
    is_plain_phone,
)
from adapters.guessing import (
    guess_mapping,
    left_out_columns,
    non_voice_columns,
    unreadable_phone_columns,
)
from adapters.mapping import BoundMapping, Mapping, describe_headers, detect_preset
from connector.errors import SourceError
from connector.formulas import unescape_formula
from connector.model import KEY_POSITION, RawPhone, SourceRecord, preferred_first

#: How many non-blank rows at the top of a table are searched for the header row.
HEADER_SEARCH_ROWS = 20

Row = tuple[int, list[str]]


@dataclass(frozen=True, slots=True)
class Layout:
    """A table's header row, where it is, and the mapping bound to it."""

    line: int
    headers: tuple[str, ...]
    bound: BoundMapping
    messages: tuple[str, ...]

    @property
    def width(self) -> int:
        """The number of columns up to the last one with a header."""
        named = [i for i, h in enumerate(self.headers) if h]
        return named[-1] + 1 if named else 0


def is_blank(cells: Sequence[str]) -> bool:
    """True for a row with no text in any cell."""
    return not "".join(cells).strip()


@dataclass(frozen=True, slots=True)
class Misfit:
    """Why no row of a table can be its header.

    ``reason`` says why, ``line`` is the row it is about (when one is), ``advice`` what
    to do; ``empty`` is true for a table with no rows at all. A workbook lists the misfits
    of all its sheets in one message, so the parts are kept apart.
    """

    reason: str
    line: int | None = None
    advice: str = ""
    empty: bool = False

    def error(self, path: Path) -> SourceError:
        """The error for a table that is read on its own."""
        text = f"{self.reason}; {self.advice}" if self.advice else self.reason
        return SourceError(text, path=path, line=self.line)


#: What to do when no header is recognised.
MAPPING_ADVICE = "give --mapping NAME|FILE (see `sipalto-sync mappings list`)"


def find_layout(
    rows: Iterable[Row],
    *,
    path: Path,
    where: str,
    mapping: Mapping | None,
    header_row: int | None,
) -> Layout:
    """Find the header among the first non-blank ``rows`` and bind a mapping to it.

    ``header_row`` (a line or sheet row number) forces the header; otherwise the
    first row the mapping binds to is the header, or, without a mapping, the first
    row that matches a preset or has recognisable name and phone columns. ``where``
    names the table in messages (``contacts.csv``, ``book.xlsx sheet Sheet1``). Raises
    :class:`SourceError` when no row fits (:func:`fit_layout` says why instead).
    """
    found = fit_layout(rows, path=path, where=where, mapping=mapping, header_row=header_row)
    if isinstance(found, Misfit):
        raise found.error(path)
    return found


def fit_layout(
    rows: Iterable[Row],
    *,
    path: Path,
    where: str,
    mapping: Mapping | None,
    header_row: int | None,
) -> Layout | Misfit:
    """:func:`find_layout`, returning a :class:`Misfit` rather than raising when no row fits.

    Recognised headers are checked against the values below them
    (:func:`adapters.guessing.unreadable_phone_columns`), so the rows after the header
    are read too, up to :data:`~adapters.guessing.VALUE_CHECK_ROWS` of them.
    """
    rows = iter(rows)
    candidates = _candidates(rows, header_row)
    if not candidates:
        if header_row is not None:
            return Misfit(f"row {header_row} is empty; it cannot be the header")
        return Misfit(f"no data: {where} holds no rows", empty=True)
    if mapping is not None:
        return _with_mapping(candidates, path=path, where=where, mapping=mapping)
    for position, (line, cells) in enumerate(candidates):
        below = chain(candidates[position + 1 :], rows)
        found = _recognised(line, cells, below, path=path, where=where)
        if found is not None:
            return found
    line, cells = _likely_header(candidates)
    return Misfit(
        "cannot tell which columns hold names and phone numbers "
        f"(the header row has: {describe_headers(cells)})",
        line=line,
        advice=MAPPING_ADVICE,
    )


def _candidates(rows: Iterator[Row], header_row: int | None) -> list[Row]:
    found: list[Row] = []
    for line, cells in rows:
        if header_row is not None:
            if line == header_row:
                return [] if is_blank(cells) else [(line, cells)]
            if line > header_row:
                return []
            continue
        if not is_blank(cells):
            found.append((line, cells))
            if len(found) >= HEADER_SEARCH_ROWS:
                break
    return found


def _likely_header(candidates: list[Row]) -> Row:
    # A title line ("Contacts export 2024") sits alone; the header has several cells.
    for line, cells in candidates:
        if sum(1 for c in cells if c.strip()) >= 2:
            return line, cells
    return candidates[0]


def _with_mapping(
    candidates: list[Row], *, path: Path, where: str, mapping: Mapping
) -> Layout | Misfit:
    failures: dict[int, SourceError] = {}
    for line, cells in candidates:
        try:
            bound = mapping.bind(_headers(cells), path=path, line=line)
        except SourceError as exc:
            failures[line] = exc
            continue
        origin = mapping.origin or mapping.name
        return _layout(line, cells, bound, [f"{where}: using mapping {origin}: {bound.summary}"])
    # Report the missing columns against the row that looks most like a header.
    failure = failures[_likely_header(candidates)[0]]
    return Misfit(failure.reason, line=failure.line)


def _recognised(
    line: int, cells: list[str], below: Iterable[Row], *, path: Path, where: str
) -> Layout | Misfit | None:
    headers = _headers(cells)
    preset = detect_preset(headers)
    if preset is not None:
        bound = preset.bind(headers, path=path, line=line)
        message = f"{where}: recognised preset {preset.name}: {preset.description.strip()}"
        return _layout(line, cells, bound, [message, f"{where}: using columns {bound.summary}"])
    guessed = guess_mapping(headers)
    if guessed is None:
        return None
    data = (row_cells for _, row_cells in below if not is_blank(row_cells))
    unreadable = unreadable_phone_columns(headers, (p.column for p in guessed.phones), data)
    left_out = {column.header for column in unreadable}
    phones = tuple(p for p in guessed.phones if p.column not in left_out)
    if not phones:
        reasons = "; ".join(column.reason() for column in unreadable)
        return Misfit(f"no column holds phone numbers: {reasons}", line=line, advice=MAPPING_ADVICE)
    bound = replace(guessed, phones=phones).bind(headers, path=path, line=line)
    messages = [f"{where}: no mapping given; using columns {bound.summary}"]
    skipped = non_voice_columns(headers)
    if skipped:
        messages.append(f"{where}: not importing fax/pager columns: {', '.join(skipped)}")
    messages.extend(
        f"{where}: column {header!r} left out: its header is about {topic}"
        for header, topic in left_out_columns(headers)
    )
    messages.extend(
        f"{where}: {column.reason()}; a --mapping naming it would import it"
        for column in unreadable
    )
    return _layout(line, cells, bound, messages)


def _headers(cells: Sequence[str]) -> list[str]:
    return [cell.replace("\ufeff", "").strip() for cell in cells]


def _layout(line: int, cells: list[str], bound: BoundMapping, messages: list[str]) -> Layout:
    return Layout(line=line, headers=tuple(_headers(cells)), bound=bound, messages=tuple(messages))


@dataclass
class RecordMaker:
    """Builds the records of one pass over a table (keys must be unique within it)."""

    layout: Layout
    location: Callable[[int], str]
    seen_keys: dict[str, str] = field(default_factory=dict)
    _plain: _PlainColumns | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._plain = _PlainColumns.of(self.layout.bound)

    def record(
        self,
        line: int,
        cells: Sequence[str],
        *,
        problems: Iterable[str] = (),
        notes: Iterable[str] = (),
        unsaved: dict[int, str] | None = None,
    ) -> SourceRecord:
        """The record for the data row at ``line``; ``problems`` and ``notes`` come from
        the reader (a ragged row, a repaired encoding). ``unsaved`` maps the column index
        of each formula cell with no saved value to its reference (``C4``): such a cell
        reads as empty, and the record says why rather than just ``no phone number``."""
        if not problems and not notes and not unsaved:
            plain = self.plain(line, cells)
            if plain is not None:
                return plain
        bound = self.layout.bound
        if bound.mapping.unescape_formulas:
            cells = [unescape_formula(cell) for cell in cells]
        location = self.location(line)
        problems_out = list(problems)
        notes_out = list(notes)
        key = bound.key_of(cells)
        if bound.key is not None and not key:
            notes_out.append("the key column is empty; keyed by row number instead")
        if key:
            first = self.seen_keys.setdefault(key, location)
            if first != location:
                problems_out.append(f"duplicate key {key!r} (first used at {first})")
        record = build_record(
            key=key or f"row:{line}",
            location=location,
            name=bound.name_of(cells),
            phones=bound.phones_of(cells),
            notes=notes_out,
            problems=problems_out,
            formulas_are_text=bound.mapping.unescape_formulas,
            key_kind=bound.mapping.key_is if key else KEY_POSITION,
        )
        return _explain_unsaved(record, bound, unsaved) if unsaved else record

    def plain(self, line: int, cells: Sequence[str]) -> SourceRecord | None:
        """The record of a row whose cells need none of the rules but collapsing spaces
        (:class:`_PlainColumns`), as :meth:`record` would make it with no problem or note
        from the reader; None for any other row (a blank one too)."""
        if self._plain is None:
            return None
        return self._plain.record(line, cells, self.location, self.seen_keys)

    def unreadable(self, line: int, problem: str) -> SourceRecord:
        """A rejected record for a row the reader could not split into cells."""
        return SourceRecord(
            key=f"row:{line}", location=self.location(line), name="", problems=(problem,)
        )


@dataclass(frozen=True, slots=True)
class _PlainColumns:
    """The columns of a mapping of the usual kind (a key column or none, name columns, phone
    columns with fixed labels), for the fast path of :meth:`RecordMaker.record`.

    A row whose cells are all plain text (printable, of a sensible length) with a key, a
    name and at least one phone value, none a formula and every phone value one number as
    written, needs none of the rules of :func:`adapters.base.build_record` but collapsing
    spaces: it is made here in one step, with the very record the rules would give
    (``tests/test_adapters_plain_rows.py`` holds the two to each other). Any other row
    is left to the rules, and so is every row of another kind of mapping.
    """

    key: int | None
    names: tuple[int, ...]
    phones: tuple[tuple[int, str, bool], ...]  # (column, label, preferred)
    key_kind: str
    #: Whether a phone column is marked preferred: its numbers then go first.
    preferred: bool

    @classmethod
    def of(cls, bound: BoundMapping) -> _PlainColumns | None:
        """The columns of ``bound``, or None for a mapping of another kind."""
        key = bound.key.column if bound.key is not None else None
        names = tuple(template.column for template in bound.names)
        if bound.mapping.unescape_formulas or (bound.key is not None and key is None):
            return None
        if any(p.label_index is not None or is_non_voice(p.label) for p in bound.phones):
            return None
        columns = tuple(c for c in names if c is not None)
        if len(columns) < len(names):
            return None
        phones = tuple((p.index, p.label, p.preferred) for p in bound.phones)
        preferred = any(p.preferred for p in bound.phones)
        return cls(key, columns, phones, bound.mapping.key_is, preferred)

    def record(
        self, line: int, cells: Sequence[str], location: Callable[[int], str], seen: dict[str, str]
    ) -> SourceRecord | None:
        """The record of a plain row, or None for a row the rules must see."""
        text = "".join(cells)
        if len(text) > MAX_FIELD_CHARS or not text.isprintable():
            return None
        width = len(cells)
        key = ""
        if self.key is not None:
            key = cells[self.key].strip() if self.key < width else ""
            if not key or is_formula(key):
                return None
        name = ""
        for index in self.names:
            if index < width:
                name = " ".join(cells[index].split())
                if name:
                    break
        if not name or is_formula(name):
            return None
        phones = []
        for index, label, preferred in self.phones:
            value = cells[index].strip() if index < width else ""
            if value:
                if not is_plain_phone(value):
                    return None
                phones.append(RawPhone(value, label, preferred))
        if not phones:
            return None
        where = location(line)
        if key and seen.setdefault(key, where) != where:
            return None  # a duplicate key: a problem
        ordered = preferred_first(phones) if self.preferred else tuple(phones)
        if not key:
            return SourceRecord(f"row:{line}", where, name, ordered, (), (), KEY_POSITION)
        return SourceRecord(key, where, name, ordered, (), (), self.key_kind)


def _unsaved_formula(reference: str) -> str:
    """What a record says of a formula cell that has no saved value."""
    return f"cell {reference} is a formula with no saved value (open and save the file in Excel)"


def _explain_unsaved(
    record: SourceRecord, bound: BoundMapping, unsaved: dict[int, str]
) -> SourceRecord:
    """``record`` with each used cell that is a formula with no saved value named: in
    place of ``no phone number`` or ``no name`` when that cell is why, else as a note."""

    def said(indexes: Iterable[int]) -> list[str]:
        return [_unsaved_formula(unsaved[i]) for i in dict.fromkeys(indexes) if i in unsaved]

    name_columns = (p for template in bound.names for p in template.parts if isinstance(p, int))
    key_columns = (p for p in bound.key.parts if isinstance(p, int)) if bound.key else ()
    problems = list(record.problems)
    notes = list(record.notes)
    for lost, missing in (
        (said(p.index for p in bound.phones), NO_PHONE),
        (said(name_columns), NO_NAME),
        (said(key_columns), None),
    ):
        if lost and missing in problems:
            at = problems.index(missing)
            problems[at : at + 1] = lost
        else:
            notes.extend(lost)
    return replace(record, problems=tuple(problems), notes=tuple(notes))


def width_problem(layout: Layout, cells: Sequence[str], first: int, last: int) -> str | None:
    """The ragged-row problem for a CSV row spanning lines ``first``..``last``, if any.

    Trailing empty fields past the header are tolerated (some writers pad rows);
    anything else that does not line up with the header is reported, because a
    shifted row puts names in phone columns.
    """
    count = len(cells)
    if count == len(layout.headers):  # the common row: it lines up, whatever the width
        return None
    while count > len(layout.headers) and not cells[count - 1].strip():
        count -= 1
    if layout.width <= count <= len(layout.headers):
        return None
    problem = f"row has {count} fields, header has {layout.width}"
    if last > first:
        problem += f" (the row runs from line {first} to {last}: is a quote left open?)"
    return problem
