"""CSV and other delimited text (``.csv``, ``.tsv``, Excel's "Unicode text" ``.txt``).

The file is streamed row by row; only a prefix (:data:`~adapters.textfile.SNIFF_BYTES`)
is read up front, to find the encoding and the delimiter
(:func:`connector.delimited.sniff_delimiter`: Excel's ``sep=;`` line, else whichever
of ``,`` ``;`` tab ``|`` splits the sample rows most consistently). Quoted fields may
hold newlines; a row whose field count does not match the header is reported with
its line number rather than read with its columns shifted.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, NamedTuple

from adapters.mapping import Mapping, load_mapping
from adapters.tabular import RecordMaker, find_layout, is_blank, width_problem
from adapters.textfile import SNIFF_BYTES, detect_encoding, read_prefix, repair_text
from connector.delimited import DELIMITER_NAMES, sniff_delimiter
from connector.errors import ConfigError, SourceError
from connector.model import SourceRecord

# Excel's trick to keep a leading zero: ="07700900123".
_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)
_REPAIRED_NOTE = "some text was not valid UTF-8 and was read as Windows-1252"


class CsvSource:
    """A delimited text file read as a table of contacts."""

    format_name: ClassVar[str] = "csv"

    def __init__(
        self,
        path: str | Path,
        *,
        mapping: str | Path | Mapping | None = None,
        encoding: str | None = None,
        sheet: str | int | None = None,
        header_row: int | None = None,
    ):
        if sheet is not None:
            raise ConfigError("--sheet applies to Excel workbooks, not to CSV files")
        self.path = Path(path)
        prefix = read_prefix(self.path)
        self.encoding = detect_encoding(prefix, path=self.path, forced=encoding)
        sample = _sample_text(prefix, self.encoding.codec)
        if not sample.strip():
            raise SourceError("the file is empty", path=self.path)
        self._skip_sep_line, self.delimiter = sniff_delimiter(sample)
        self.layout = find_layout(
            ((row.first, row.cells) for row in self._rows()),
            path=self.path,
            where=self.path.name,
            mapping=load_mapping(mapping) if mapping is not None else None,
            header_row=header_row,
        )
        self.cut_short: str | None = None
        self.messages: list[str] = [
            f"{self.path.name}: read as {self.encoding.description}, "
            f"{DELIMITER_NAMES[self.delimiter]}-separated, header on line {self.layout.line}",
            *self.layout.messages,
        ]

    def records(self) -> Iterator[SourceRecord]:
        """Stream one record per non-blank row after the header."""
        name = self.path.name
        maker = RecordMaker(self.layout, location=lambda line: f"{name}:{line}")
        short: _Row | None = None  # the last row, when it has fewer fields than the header
        for row in self._rows():
            if row.first <= self.layout.line:
                continue
            short = None
            if row.unreadable is not None:
                yield maker.unreadable(row.first, row.unreadable)
                continue
            if is_blank(row.cells):
                continue
            problem = width_problem(self.layout, row.cells, row.first, row.last)
            if problem and len(row.cells) < self.layout.width:
                short = row
            yield maker.record(
                row.first,
                row.cells,
                problems=[problem] if problem else [],
                notes=[_REPAIRED_NOTE] if row.repaired else [],
            )
        if short is not None and (
            short.last > short.first or short.open_end or not self._ends_with_line_break()
        ):
            # An export that stopped part way ends in the middle of a row (or of a quoted
            # field, which then runs to the end of the file).
            self.cut_short = (
                f"{self.path.name}:{short.first}: the last row has {len(short.cells)} of "
                f"{self.layout.width} fields and the file ends there: is the file cut short?"
            )

    def _ends_with_line_break(self) -> bool:
        with self.path.open("rb") as raw:
            raw.seek(0, io.SEEK_END)
            raw.seek(max(0, raw.tell() - 4))
            tail = raw.read().rstrip(b"\x00")  # UTF-16 writes a line break as \n\0 or \0\n
        return tail.endswith((b"\n", b"\r"))

    def _rows(self) -> Iterator[_Row]:
        """Every row, blank ones too; a row the csv module cannot read says why."""
        encoding = self.encoding
        repairs = encoding.repairs
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(
                raw, encoding=encoding.codec, errors=encoding.errors, newline=""
            )
            reader = csv.reader(text, delimiter=self.delimiter)
            first = 1
            while True:
                try:
                    cells = next(reader, None)
                except csv.Error as exc:
                    if reader.line_num < first:  # nothing was consumed: it would fail again
                        raise SourceError(
                            f"cannot read CSV: {exc}", path=self.path, line=first
                        ) from exc
                    # The reader starts afresh on the next line, so one bad row (a field
                    # over the csv module's size limit) does not cost the rest of the file.
                    yield _Row(first, reader.line_num, [], unreadable=_unreadable_reason(exc))
                    first = reader.line_num + 1
                    continue
                except UnicodeError as exc:
                    reason = getattr(exc, "reason", None) or str(exc)
                    raise SourceError(
                        f"not valid {encoding.description} text ({reason}); "
                        "give the right --encoding",
                        path=self.path,
                        line=_undecodable_line(self.path, encoding.codec),
                    ) from exc
                if cells is None:
                    return
                last = reader.line_num
                if not (self._skip_sep_line and first == 1):
                    cleaned, repaired = _clean(cells, repairs)
                    # The reader strips a row's line break, so a last field ending in one
                    # is a quoted field still open when the file ended.
                    open_end = bool(cells) and cells[-1].endswith(("\n", "\r"))
                    yield _Row(first, last, cleaned, repaired, None, open_end)
                first = last + 1


class _Row(NamedTuple):
    """A row as read: where it is, its cells, and why it could not be read, if so.

    A named tuple rather than a frozen dataclass: one is made per row, and it is made in a
    fifth of the time.
    """

    first: int
    last: int
    cells: list[str]
    repaired: bool = False
    unreadable: str | None = None
    #: The row's last field is a quoted one that the end of the file cut off.
    open_end: bool = False


def _unreadable_reason(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return (
            f"a field holds more than {csv.field_size_limit()} characters, far more than a "
            "name or a phone number (is a quote left open?)"
        )
    return f"the row cannot be read as CSV ({exc})"


def _undecodable_line(path: Path, codec: str) -> int | None:
    """The line holding the first byte ``codec`` cannot decode.

    The reader decodes ahead in blocks, so where it stood when decoding failed says
    nothing about where the bad byte is. Only codecs that write a line break as the
    single byte ``\\n`` can be split into lines before decoding; for others, no line.
    """
    if "\n".encode(codec, "ignore") != b"\n":
        return None
    decoder = codecs.getincrementaldecoder(codec)()
    number = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                decoder.decode(line)
            except UnicodeError:
                return number
    try:
        decoder.decode(b"", final=True)
    except UnicodeError:
        return number
    return None


def _sample_text(prefix: bytes, codec: str) -> str:
    text = prefix.decode(codec, errors="replace")
    if len(prefix) >= SNIFF_BYTES:
        text = text.rsplit("\n", 1)[0]  # the last line is probably cut short
    return text.lstrip("\ufeff")


def _clean(cells: list[str], repairs: bool) -> tuple[list[str], bool]:
    """The cells with stray Windows-1252 bytes repaired (when ``repairs``) and Excel's
    ``="..."`` taken off, and whether a repair was made."""
    joined = "".join(cells)
    if '="' not in joined and (not repairs or joined.isascii()):
        return cells, False  # most rows: no Excel text, and no stray byte (all are non-ASCII)
    repaired = False
    out = []
    for cell in cells:
        if repairs:
            fixed = repair_text(cell)
            repaired = repaired or fixed != cell
            cell = fixed
        match = _EXCEL_TEXT.match(cell) if cell.startswith('="') else None
        out.append(match.group(1) if match else cell)
    return out, repaired
