"""Excel workbooks (``.xlsx``, ``.xlsm``), read with openpyxl in read-only mode.

Read-only mode streams rows from the sheet's XML instead of building the whole
workbook in memory, and ``data_only`` gives formulas as the values Excel cached
when it last saved the file. A workbook written by a program that never calculated it
has formulas with no cached value: ``data_only`` reads them as empty cells. So a sheet
whose XML holds such a formula is read a second time, in step, without ``data_only``, to
tell such a cell from an empty one and say so (``cell C4 is a formula with no saved
value``); any other sheet (an export without formulas, a workbook Excel saved) is read
once.

Without ``--sheet``, the first sheet with a recognisable header is read (a cover sheet of
notes is skipped, with a message); with it, only that sheet.

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
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any, ClassVar

from adapters.mapping import Mapping, load_mapping
from adapters.tabular import Layout, Misfit, RecordMaker, fit_layout, is_blank
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
# A formula cell with no saved value in a sheet's XML: a formula (<f>...</f>, or a shared
# formula's <f t="shared" si="0"/>) followed by an empty value (<v/>, <v></v>) or the end of
# the cell; the namespace prefix (<x:f>) varies by writer. A match found by the scan can
# still be a saved empty text (t="str"): the second pass decides.
_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_UNSAVED_FORMULA = re.compile(
    rb"(?:</" + _PREFIX + rb"f>|<" + _PREFIX + rb"f\b[^<>]*/>)\s*"  # the end of a formula
    rb"(?:<" + _PREFIX + rb"v\s*/>|<" + _PREFIX + rb"v>\s*</" + _PREFIX + rb"v>"  # empty value
    rb"|</" + _PREFIX + rb"c>)"  # or no value
)
# How much of one chunk is kept for the next, so a match cut by the chunk boundary is found
# (a shared formula's empty tag with its attributes fits well within it).
_SCAN_OVERLAP = 512
_SCAN_CHUNK = 64 * 1024


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
        loaded = load_mapping(mapping) if mapping is not None else None
        with self._open() as workbook:
            self.sheet_name, self.layout, skipped = self._find_sheet(
                workbook, sheet, loaded, header_row
            )
        # A workbook cut short is a broken zip archive, refused when it is opened.
        self.cut_short: str | None = None
        self.messages: list[str] = [
            f"{self.path.name}: sheet {self.sheet_name}, header on row {self.layout.line}"
        ]
        if skipped:
            self.messages.append(
                f"{self.path.name}: reading sheet {self.sheet_name}, the first with a "
                f"recognisable header (skipped: {', '.join(skipped)}); --sheet NAME picks another"
            )
        self.messages.extend(self.layout.messages)

    def records(self) -> Iterator[SourceRecord]:
        """Stream one record per non-empty row below the header."""
        where = f"{self.path.name} {self.sheet_name}"
        maker = RecordMaker(self.layout, location=lambda row: f"{where}!row {row}")
        width = len(self.layout.headers)
        with self._open() as workbook:
            with contextlib.closing(self._sheet_rows(workbook, self.sheet_name)) as rows:
                for row in rows:
                    if row.number <= self.layout.line or is_blank(row.cells):
                        continue
                    notes = []
                    extra = [i for i in range(width, len(row.cells)) if row.cells[i].strip()]
                    if extra:
                        columns = ", ".join(_column_letter(i) for i in extra)
                        notes.append(f"ignored values in columns without a header: {columns}")
                    yield maker.record(
                        row.number, row.cells[:width], notes=notes, unsaved=row.unsaved
                    )

    def _find_sheet(
        self,
        workbook: Any,
        sheet: str | int | None,
        mapping: Mapping | None,
        header_row: int | None,
    ) -> tuple[str, Layout, list[str]]:
        """The sheet to read, its layout, and the sheets with data skipped before it."""
        try:
            titles = [str(worksheet.title) for worksheet in workbook.worksheets]
            chosen = None if sheet is None else _pick_sheet(workbook, sheet, self.path)
        except _DAMAGED as exc:
            raise UnsupportedFormat(
                f"the workbook is damaged: its sheets cannot be read ({_reason(exc)})",
                path=self.path,
            ) from exc
        tried: list[tuple[str, Misfit]] = []
        for title in [chosen] if chosen is not None else titles:
            with contextlib.closing(self._sheet_rows(workbook, title, formulas=False)) as rows:
                found = fit_layout(
                    ((row.number, row.cells) for row in rows),
                    path=self.path,
                    where=f"{self.path.name} sheet {title}",
                    mapping=mapping,
                    header_row=header_row,
                )
            if isinstance(found, Layout):
                return title, found, [name for name, misfit in tried if not misfit.empty]
            if chosen is not None:
                raise found.error(self.path)
            tried.append((title, found))
        raise _no_sheet_fits(tried, self.path, mapping)

    @contextlib.contextmanager
    def _open(self, *, data_only: bool = True) -> Iterator[Any]:
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
                    workbook = openpyxl.load_workbook(handle, read_only=True, data_only=data_only)
            except (InvalidFileException, *_DAMAGED) as exc:
                raise UnsupportedFormat(_unreadable_reason(self.path, exc), path=self.path) from exc
            # openpyxl warns about parts it skips (an unknown extension, a bad defined
            # name): nothing a phonebook needs, so a detail for -v, not a line for everyone.
            if data_only:
                for warning in caught:
                    _log.info("%s: %s", self.path.name, warning.message)
            try:
                yield workbook
            finally:
                workbook.close()

    def _sheet_rows(
        self, workbook: Any, title: str, *, formulas: bool = True
    ) -> Generator[_SheetRow, None, None]:
        """Every row of sheet ``title``; with ``formulas``, each row also says which of its
        cells are formulas with no saved value (read from a second, formula-keeping pass
        over the sheet when its XML may hold such a formula)."""
        number = 0
        try:
            sheet = workbook[title]
            # Some writers store a wrong <dimension>; read-only mode would trust it and
            # stop early.
            sheet.reset_dimensions()
            if not (formulas and _may_hold_unsaved_formulas(sheet)):
                for row in sheet.iter_rows():
                    number = _row_number(row, number + 1)
                    yield _SheetRow(number, _row_cells(row), {})
                return
            with self._open(data_only=False) as kept:
                formula_sheet = kept[title]
                formula_sheet.reset_dimensions()
                for row, formula_row in zip_longest(
                    sheet.iter_rows(), formula_sheet.iter_rows(), fillvalue=()
                ):
                    number = _row_number(row, number + 1)
                    yield _SheetRow(number, _row_cells(row), _unsaved(row, formula_row))
        except _DAMAGED as exc:
            raise UnsupportedFormat(
                f"the workbook is damaged: sheet {title} cannot be read after row "
                f"{number} ({_reason(exc)})",
                path=self.path,
            ) from exc


@dataclass(frozen=True, slots=True)
class _SheetRow:
    """A sheet row as text cells, and the cells that are formulas with no saved value
    (column index -> cell reference such as ``C4``)."""

    number: int
    cells: list[str]
    unsaved: dict[int, str]


def _row_number(row: Sequence[Any], counted: int) -> int:
    """The row's own number where its cells say it (rows may be skipped), else ``counted``."""
    for cell in row:
        number = getattr(cell, "row", None)
        if number:
            return int(number)
    return counted


def _row_cells(row: Sequence[Any]) -> list[str]:
    cells = [cell_text(cell.value, getattr(cell, "number_format", None)) for cell in row]
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _unsaved(row: Sequence[Any], formula_row: Sequence[Any]) -> dict[int, str]:
    """The cells of ``row`` that are formulas (in ``formula_row``, the same row read
    without ``data_only``) with no saved value.

    A formula whose saved value is the empty string is stored with the string type
    (``t="str"``) and is an empty cell, not a missing value.
    """
    unsaved = {}
    for index, (cell, formula_cell) in enumerate(zip(row, formula_row, strict=False)):
        if (
            getattr(formula_cell, "data_type", None) == "f"
            and cell.value is None
            and getattr(cell, "data_type", None) != "str"
        ):
            unsaved[index] = str(formula_cell.coordinate)
    return unsaved


def _may_hold_unsaved_formulas(sheet: Any) -> bool:
    """False when the sheet's XML has no formula without a saved value, so one pass is
    enough: most exports hold no formula, and Excel saves the value of every formula.

    A byte scan, much cheaper than parsing. When the sheet's XML cannot be reached this
    way, the answer is True (read it twice).
    """
    get_source = getattr(sheet, "_get_source", None)
    if get_source is None:
        return True
    tail = b""
    with get_source() as source:
        while chunk := source.read(_SCAN_CHUNK):
            if _UNSAVED_FORMULA.search(tail + chunk):
                return True
            tail = chunk[-_SCAN_OVERLAP:]
    return False


def _no_sheet_fits(
    tried: list[tuple[str, Misfit]], path: Path, mapping: Mapping | None
) -> SourceError:
    with_data = [(title, misfit) for title, misfit in tried if not misfit.empty]
    if not with_data:
        return SourceError("no data: every sheet is empty", path=path)
    if len(with_data) == 1:
        return with_data[0][1].error(path)
    reasons = "; ".join(
        f"sheet {title}{f' row {misfit.line}' if misfit.line else ''}: {misfit.reason}"
        for title, misfit in with_data
    )
    advice = (
        "give --sheet NAME and --mapping NAME|FILE (see `sipalto-sync mappings list`)"
        if mapping is None
        else "give --sheet NAME, or a --mapping whose columns are in its header"
    )
    return SourceError(f"no sheet has a header to read ({reasons}); {advice}", path=path)


def _pick_sheet(workbook: Any, sheet: str | int, path: Path) -> str:
    """The title of the sheet ``--sheet`` names: by name (any case) or number from 1."""
    names = list(workbook.sheetnames)
    worksheets = workbook.worksheets
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
