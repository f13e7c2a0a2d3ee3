"""What CSV and Excel sources share: finding the header row and turning rows into records.

Both adapters reduce their file to rows of text cells with a line (or sheet row) number;
this module picks the header among the first rows, binds the mapping to it (the one
given, a recognised preset, or recognised common headers) and builds one
:class:`SourceRecord` per non-blank row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from adapters.base import build_record
from adapters.guessing import guess_mapping, non_voice_columns
from adapters.mapping import BoundMapping, Mapping, describe_headers, detect_preset
from connector.errors import SourceError
from connector.formulas import unescape_formula
from connector.model import KEY_POSITION, SourceRecord

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
    return not any(cell.strip() for cell in cells)


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
    names the table in messages (``contacts.csv``, ``book.xlsx sheet Sheet1``).
    """
    candidates = _candidates(rows, header_row)
    if not candidates:
        if header_row is not None:
            raise SourceError(f"row {header_row} is empty; it cannot be the header", path=path)
        raise SourceError(f"no data: {where} holds no rows", path=path)
    if mapping is not None:
        return _with_mapping(candidates, path=path, where=where, mapping=mapping)
    for line, cells in candidates:
        layout = _recognised(line, cells, path=path, where=where)
        if layout is not None:
            return layout
    line, cells = _likely_header(candidates)
    raise SourceError(
        "cannot tell which columns hold names and phone numbers "
        f"(the header row has: {describe_headers(cells)}); give --mapping NAME|FILE "
        "(see `sipalto-sync mappings list`)",
        path=path,
        line=line,
    )


def _candidates(rows: Iterable[Row], header_row: int | None) -> list[Row]:
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


def _with_mapping(candidates: list[Row], *, path: Path, where: str, mapping: Mapping) -> Layout:
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
    raise failures[_likely_header(candidates)[0]]


def _recognised(line: int, cells: list[str], *, path: Path, where: str) -> Layout | None:
    headers = _headers(cells)
    preset = detect_preset(headers)
    if preset is not None:
        bound = preset.bind(headers, path=path, line=line)
        message = f"{where}: recognised preset {preset.name}: {preset.description.strip()}"
        return _layout(line, cells, bound, [message, f"{where}: using columns {bound.summary}"])
    guessed = guess_mapping(headers)
    if guessed is None:
        return None
    bound = guessed.bind(headers, path=path, line=line)
    messages = [f"{where}: no mapping given; using columns {bound.summary}"]
    skipped = non_voice_columns(headers)
    if skipped:
        messages.append(f"{where}: not importing fax/pager columns: {', '.join(skipped)}")
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

    def record(
        self,
        line: int,
        cells: Sequence[str],
        *,
        problems: Iterable[str] = (),
        notes: Iterable[str] = (),
    ) -> SourceRecord:
        """The record for the data row at ``line``; ``problems`` and ``notes`` come from
        the reader (a ragged row, a repaired encoding)."""
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
        return build_record(
            key=key or f"row:{line}",
            location=location,
            name=bound.name_of(cells),
            phones=bound.phones_of(cells),
            notes=notes_out,
            problems=problems_out,
            formulas_are_text=bound.mapping.unescape_formulas,
            key_kind=bound.mapping.key_is if key else KEY_POSITION,
        )

    def unreadable(self, line: int, problem: str) -> SourceRecord:
        """A rejected record for a row the reader could not split into cells."""
        return SourceRecord(
            key=f"row:{line}", location=self.location(line), name="", problems=(problem,)
        )


def width_problem(layout: Layout, cells: Sequence[str], first: int, last: int) -> str | None:
    """The ragged-row problem for a CSV row spanning lines ``first``..``last``, if any.

    Trailing empty fields past the header are tolerated (some writers pad rows);
    anything else that does not line up with the header is reported, because a
    shifted row puts names in phone columns.
    """
    count = len(cells)
    while count > len(layout.headers) and not cells[count - 1].strip():
        count -= 1
    if layout.width <= count <= len(layout.headers):
        return None
    problem = f"row has {count} fields, header has {layout.width}"
    if last > first:
        problem += f" (the row runs from line {first} to {last}: is a quote left open?)"
    return problem
