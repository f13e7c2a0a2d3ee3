"""Excel adapter: numbers stored as numbers, formulas, sheets, header rows, unreadable files."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from adapter_contract import AdapterContract, Person
from make_sample_xlsx import add_cached_values
from openpyxl import Workbook
from openpyxl.styles import PatternFill

from adapters import open_source
from adapters.excel import cell_text
from connector.errors import ConfigError, SourceError, UnsupportedFormat

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "contacts.xlsx"


def write_xlsx(path: Path, *sheets: tuple[str, Sequence[Sequence[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


def rewrite_member(path: Path, member: str, change: object) -> None:
    """Apply ``change`` (text -> text) to one XML part of the workbook, as other writers would."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents[member] = change(contents[member].decode("utf-8")).encode("utf-8")  # type: ignore[operator]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


class TestExcelContract(AdapterContract):
    format_name = "xlsx"
    suffix = ".xlsx"

    def write(self, path: Path, people: Sequence[Person]) -> None:
        rows: list[list[object]] = [["ID", "Name", "Mobile", "Work", "Home"]]
        rows += [[p.key, p.name, *p.phones] for p in people]
        write_xlsx(path, ("Contacts", rows))


# --- cell values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number_format", "text"),
    [
        (7852902011, "General", "7852902011"),
        (7852902011.0, "General", "7852902011"),
        (447700900123.0, "0", "447700900123"),
        (1614960305, "00000000000", "01614960305"),
        (12.5, "General", "12.5"),
        (True, "General", "TRUE"),
        (dt.date(2024, 3, 1), "yyyy-mm-dd", "2024-03-01"),
        (None, "General", ""),
        ("07700 900123", "@", "07700 900123"),
    ],
)
def test_cell_text(value: object, number_format: str, text: str) -> None:
    assert cell_text(value, number_format) == text


def test_numbers_stored_as_numbers_become_exact_digit_strings(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "b.xlsx", ("S", [["Name", "Mobile", "Work"], ["Amelia", 7852902011, 1134960101]])
    )
    # Some writers store doubles the long way; openpyxl then reads a float.
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("<v>7852902011</v>", "<v>7.852902011E9</v>"),
    )
    (record,) = open_source(path).records()
    assert [p.value for p in record.phones] == ["7852902011", "1134960101"]


def test_formulas_are_read_as_their_cached_values(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", ("S", [["Name", "Phone"], ['=UPPER("x")', 7700900101]]))
    add_cached_values(path, "xl/worksheets/sheet1.xml", {"A2": "Amelia Hartley"})
    (record,) = open_source(path).records()
    assert record.name == "Amelia Hartley"


def test_the_sample_workbook_reads_as_documented() -> None:
    source = open_source(SAMPLE)
    records = list(source.records())
    assert source.messages[0] == "contacts.xlsx: sheet Contacts, header on row 4"
    by_name = {r.name: r for r in records}
    assert [p.value for p in by_name["Oliver Grant"].phones] == ["7700900217", "1214960117"]
    assert [p.value for p in by_name["Bethany Cole"].phones] == ["7700900304", "01614960304"]
    assert [p.value for p in by_name["Rhys Jenkins"].phones] == ["07700 900305", "07700 900306"]
    assert by_name["Samuel Okoro"].problems == ("no phone number",)
    assert "Kestrel Logistics" in by_name
    assert records[0].location == "contacts.xlsx Contacts!row 5"


# --- sheets --------------------------------------------------------------------------------------

TWO_SHEETS = (
    ("Cover", []),
    ("Staff", [["Name", "Phone"], ["Amelia", 7700900101]]),
    ("Suppliers", [["Name", "Phone"], ["Penrose Print Ltd", 1632960222]]),
)


def test_the_first_sheet_with_data_is_read_by_default(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", *TWO_SHEETS)
    assert [r.name for r in open_source(path).records()] == ["Amelia"]


@pytest.mark.parametrize("sheet", ["Suppliers", "suppliers", 3, "3"])
def test_a_sheet_is_picked_by_name_or_number(tmp_path: Path, sheet: str | int) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", *TWO_SHEETS)
    (record,) = open_source(path, sheet=sheet).records()
    assert record.name == "Penrose Print Ltd"
    assert record.location == "b.xlsx Suppliers!row 2"


def test_an_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", *TWO_SHEETS)
    with pytest.raises(SourceError, match=r"no sheet 'Clients' \(sheets: Cover, Staff, Suppliers"):
        open_source(path, sheet="Clients")


def test_a_workbook_with_only_empty_sheets_is_an_error(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", ("Sheet1", []), ("Sheet2", [[None, ""]]))
    with pytest.raises(SourceError, match=r"b\.xlsx: no data: every sheet is empty"):
        open_source(path)


# --- rows and columns ----------------------------------------------------------------------


def test_the_header_is_found_below_a_title_or_given(tmp_path: Path) -> None:
    rows = [["Phone list"], [], ["Name", "Mobile"], ["Amelia", 7700900101], ["Name", "Phone"]]
    path = write_xlsx(tmp_path / "b.xlsx", ("S", rows))
    assert [r.location for r in open_source(path).records()] == ["b.xlsx S!row 4", "b.xlsx S!row 5"]
    given = open_source(path, header_row=5)
    assert list(given.records()) == []
    assert "header on row 5" in given.messages[0]


def test_empty_rows_and_styled_empty_columns_are_ignored(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "b.xlsx", ("S", [["Name", "Phone"], ["Amelia", 7700900101], [], [None, None]])
    )
    book_path = tmp_path / "styled.xlsx"
    book = Workbook()
    sheet = book.active
    for row in (["Name", "Phone"], [], ["Amelia", 7700900101], [None, None], ["Ben", "07700"]):
        sheet.append(row)
    for ref in ("C1", "D1", "C3", "E9"):
        sheet[ref].fill = PatternFill("solid", fgColor="FFFF00")
    book.save(book_path)
    records = list(open_source(book_path).records())
    assert [(r.location, r.problems, r.notes) for r in records] == [
        ("styled.xlsx Sheet!row 3", (), ()),
        ("styled.xlsx Sheet!row 5", (), ()),
    ]
    assert [r.name for r in open_source(path).records()] == ["Amelia"]


def test_values_in_columns_without_a_header_are_noted(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", ("S", [["Name", "Phone"], ["Amelia", 7700900101, "x"]]))
    (record,) = open_source(path).records()
    assert record.ok
    assert record.notes == ("ignored values in columns without a header: C",)


def test_a_wrong_stored_dimension_does_not_cut_the_sheet_short(tmp_path: Path) -> None:
    rows = [["Name", "Phone"], ["Amelia", 7700900101], ["Ben", 7700900102]]
    path = write_xlsx(tmp_path / "b.xlsx", ("S", rows))
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:B1"', xml),
    )
    assert [r.name for r in open_source(path).records()] == ["Amelia", "Ben"]


# --- unreadable workbooks ------------------------------------------------------------------


def test_an_old_xls_workbook_says_how_to_convert_it(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(UnsupportedFormat) as caught:
        open_source(path)
    assert str(caught.value).startswith(f"{path}: an old Excel 97-2003 .xls workbook")
    assert "save it as .xlsx or CSV" in str(caught.value)


def test_an_xls_name_on_delimited_text_is_read_as_csv(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_text("Name\tPhone\nAmelia Hartley\t07700 900101\n", encoding="utf-8")
    source = open_source(path)
    assert source.format_name == "csv"
    assert source.messages[0] == "export.xls: the file is not really .xls; reading it as csv"
    assert [r.name for r in source.records()] == ["Amelia Hartley"]


def test_a_damaged_workbook_is_an_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(UnsupportedFormat, match=r"b\.xlsx: not a valid Excel \.xlsx workbook"):
        open_source(path)


def test_an_opendocument_spreadsheet_says_how_to_convert_it(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(UnsupportedFormat, match="an OpenDocument file"):
        open_source(path)


def test_the_encoding_option_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", *TWO_SHEETS)
    with pytest.raises(ConfigError, match="--encoding applies to text files"):
        open_source(path, encoding="utf-8")
