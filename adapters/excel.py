"""Excel workbooks (``.xlsx``, ``.xlsm``), read with openpyxl in read-only mode.

Read-only mode streams rows from the sheet's XML instead of building the whole
workbook in memory, and ``data_only`` gives formulas as the values Excel cached
when it last saved the file.

Spreadsheets store phone numbers as numbers more often than not: the leading 0 is
gone and the value may come back as ``7852902011.0``. :func:`cell_text` turns it back
into the exact digit string ``"7852902011"`` (never ``"7852902011.0"``, never in
scientific notation); the lost 0 is the reconciler's to restore, except where the
cell's own number format (``00000000000``) says how many digits Excel displays.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from adapters.mapping import Mapping, load_mapping
from adapters.tabular import RecordMaker, find_layout, is_blank
from connector.errors import ConfigError, SourceError, UnsupportedFormat
from connector.model import SourceRecord

# A number format of only zeros pads the number to that many digits on screen.
_ZERO_PADDED = re.compile(r"^0+$")
# What openpyxl lets through, from one layer down, when a workbook's zip or XML is
# damaged: zip and inflate errors, XML syntax errors (SyntaxError covers both
# ElementTree's and lxml's), a missing part, a bad cell reference.
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    SyntaxError,
    EOFError,
    NotImplementedError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    OSError,
)
_log = logging.getLogger(__name__)


def cell_text(value: object, number_format: str | None = None) -> str:
    """The text a cell holds, with numbers as exact digit strings."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        text = str(int(value)) if float(value).is_integer() else repr(value)
        if number_format and _ZERO_PADDED.match(number_format) and value >= 0:
            text = text.zfill(len(number_format))
        return text
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class ExcelSource:
    """One worksheet of an ``.xlsx`` workbook read as a table of contacts."""

    format_name: ClassVar[str] = "xlsx"

    def __init__(
        self,
        path: str | Path,
        *,
        mapping: str | Path | Mapping | None = None,
        encoding: str | None = None,
        sheet: str | int | None = None,
        header_row: int | None = None,
    ):
        if encoding is not None:
            raise ConfigError("--encoding applies to text files, not to Excel workbooks")
        self.path = Path(path)
        with self._open() as workbook:
            try:
                self.sheet_name = _pick_sheet(workbook, sheet, self.path)
            except _DAMAGED as exc:
                raise UnsupportedFormat(
                    f"the workbook is damaged: its sheets cannot be read ({_reason(exc)})",
                    path=self.path,
                ) from exc
            where = f"{self.path.name} sheet {self.sheet_name}"
            self.layout = find_layout(
                self._rows(workbook),
                path=self.path,
                where=where,
                mapping=load_mapping(mapping) if mapping is not None else None,
                header_row=header_row,
            )
        self.messages: list[str] = [
            f"{self.path.name}: sheet {self.sheet_name}, header on row {self.layout.line}",
            *self.layout.messages,
        ]

    def records(self) -> Iterator[SourceRecord]:
        """Stream one record per non-empty row below the header."""
        where = f"{self.path.name} {self.sheet_name}"
        maker = RecordMaker(self.layout, location=lambda row: f"{where}!row {row}")
        width = len(self.layout.headers)
        with self._open() as workbook:
            for row, cells in self._rows(workbook):
                if row <= self.layout.line or is_blank(cells):
                    continue
                notes = []
                extra = [i for i in range(width, len(cells)) if cells[i].strip()]
                if extra:
                    columns = ", ".join(_column_letter(i) for i in extra)
                    notes.append(f"ignored values in columns without a header: {columns}")
                yield maker.record(row, cells[:width], notes=notes)

    @contextlib.contextmanager
    def _open(self) -> Iterator[Any]:
        # Imported here: openpyxl takes a noticeable time to import, and only
        # workbook users need it.
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror or exc}", path=self.path) from exc
        # A file object rather than the path: openpyxl refuses names not ending in .xlsx,
        # and --format xlsx must work whatever the file is called.
        with handle:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            except (InvalidFileException, *_DAMAGED) as exc:
                raise UnsupportedFormat(_unreadable_reason(self.path, exc), path=self.path) from exc
            # openpyxl warns about parts it skips (an unknown extension, a bad defined
            # name): nothing a phonebook needs, so a detail for -v, not a line for everyone.
            for warning in caught:
                _log.info("%s: %s", self.path.name, warning.message)
            try:
                yield workbook
            finally:
                workbook.close()

    def _rows(self, workbook: Any) -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            sheet = workbook[self.sheet_name]
            # Some writers store a wrong <dimension>; read-only mode would trust it and
            # stop early.
            sheet.reset_dimensions()
            for row in sheet.iter_rows():
                number += 1
                cells = []
                for cell in row:
                    number = getattr(cell, "row", None) or number
                    cells.append(cell_text(cell.value, getattr(cell, "number_format", None)))
                while cells and not cells[-1].strip():
                    cells.pop()
                yield number, cells
        except _DAMAGED as exc:
            raise UnsupportedFormat(
                f"the workbook is damaged: sheet {self.sheet_name} cannot be read after row "
                f"{number} ({_reason(exc)})",
                path=self.path,
            ) from exc


def _pick_sheet(workbook: Any, sheet: str | int | None, path: Path) -> str:
    names = list(workbook.sheetnames)
    worksheets = workbook.worksheets
    if sheet is None:
        for worksheet in worksheets:
            if _has_data(worksheet):
                return str(worksheet.title)
        raise SourceError("no data: every sheet is empty", path=path)
    if isinstance(sheet, str) and sheet in names:
        return sheet
    if isinstance(sheet, str):
        folded = {name.casefold(): name for name in names}
        if sheet.casefold() in folded:
            return folded[sheet.casefold()]
    if isinstance(sheet, int) or sheet.isdigit():
        index = int(sheet)
        if 1 <= index <= len(worksheets):
            return str(worksheets[index - 1].title)
    raise SourceError(
        f"no sheet {sheet!r} (sheets: {', '.join(names)}; numbers count from 1)", path=path
    )


def _has_data(worksheet: Any) -> bool:
    worksheet.reset_dimensions()
    return any(
        value is not None and str(value).strip()
        for row in worksheet.iter_rows(values_only=True)
        for value in row
    )


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


def _unreadable_reason(path: Path, exc: Exception) -> str:
    with contextlib.suppress(OSError):
        if path.stat().st_size == 0:
            return "the file is empty"
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                kind = archive.read("mimetype").decode("ascii", "replace").strip()
                if "opendocument" in kind:
                    return (
                        "an OpenDocument file, not an Excel .xlsx workbook; "
                        "save it as .xlsx or CSV from LibreOffice"
                    )
    except _DAMAGED:
        return "not a valid Excel .xlsx workbook (the file is damaged or not a workbook)"
    if any(name.startswith("xl/") for name in names):
        return f"the workbook is damaged and cannot be opened ({_reason(exc)})"
    return "not an Excel .xlsx workbook (a zip archive without a workbook inside)"


def _reason(exc: Exception) -> str:
    """A short reason for a message: the exception's first line, or its kind."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text or type(exc).__name__
    return text if len(text) <= 100 else text[:97] + "..."
