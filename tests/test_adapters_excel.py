"""Excel adapter: numbers stored as numbers, formulas, sheets, header rows, unreadable files."""

from __future__ import annotations

import datetime as dt
import re
import tracemalloc
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


COVER_SHEET = (
    "Notes",
    [
        ["Staff phone list"],
        ["Exported from the HR system; do not edit the Staff sheet by hand."],
        ["Questions to the office manager."],
    ],
)


def test_a_cover_sheet_is_skipped_for_the_first_sheet_with_a_header(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", COVER_SHEET, *TWO_SHEETS[1:])
    source = open_source(path)
    assert [(r.name, r.location) for r in source.records()] == [("Amelia", "b.xlsx Staff!row 2")]
    assert source.messages[:2] == [
        "b.xlsx: sheet Staff, header on row 1",
        "b.xlsx: reading sheet Staff, the first with a recognisable header (skipped: Notes); "
        "--sheet NAME picks another",
    ]


def test_a_cover_sheet_is_skipped_with_a_mapping_too(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", COVER_SHEET, ("Staff", [["Who", "Tel"], ["Ann", 1009]]))
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: Who\nphones: [Tel]\n", encoding="utf-8")
    (record,) = open_source(path, mapping=mapping).records()
    assert (record.name, record.location) == ("Ann", "b.xlsx Staff!row 2")


def test_no_sheet_with_a_header_names_each_sheet_and_the_options(tmp_path: Path) -> None:
    rows = [["Who", "Ext"], ["Ann", 1009]]
    path = write_xlsx(tmp_path / "b.xlsx", COVER_SHEET, ("Blank", []), ("Extensions", rows))
    with pytest.raises(SourceError) as caught:
        open_source(path)
    assert str(caught.value) == (
        f"{path}: no sheet has a header to read (sheet Notes row 1: cannot tell which columns "
        "hold names and phone numbers (the header row has: Staff phone list); sheet Extensions "
        "row 1: cannot tell which columns hold names and phone numbers (the header row has: "
        "Who, Ext)); give --sheet NAME and --mapping NAME|FILE (see `sipalto-sync mappings list`)"
    )


def test_a_named_sheet_is_the_only_one_tried(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", COVER_SHEET, *TWO_SHEETS[1:])
    with pytest.raises(SourceError) as caught:
        open_source(path, sheet="Notes")
    assert str(caught.value).startswith(f"{path}:1: cannot tell which columns")
    assert "--mapping" in str(caught.value)


def test_a_workbook_with_only_empty_sheets_is_an_error(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", ("Sheet1", []), ("Sheet2", [[None, ""]]))
    with pytest.raises(SourceError, match=r"b\.xlsx: no data: every sheet is empty"):
        open_source(path)


# --- formulas without a saved value -----------------------------------------------------------

FORMULA_NOT_SAVED = "cell {} is a formula with no saved value (open and save the file in Excel)"


def test_a_formula_phone_without_a_saved_value_says_so_not_no_phone_number(
    tmp_path: Path,
) -> None:
    rows = [["Name", "Area code", "Local part", "Phone"], ["Amelia", "0113", "4960101", "=B2&C2"]]
    rows += [["Ben", "0113", "4960102", "=B3&C3"], ["Chidi", "", "", "07700 900103"]]
    path = write_xlsx(tmp_path / "b.xlsx", ("Staff", rows))
    add_cached_values(path, "xl/worksheets/sheet1.xml", {"D3": "01134960102"})
    records = list(open_source(path).records())
    assert [(r.name, r.problems, [p.value for p in r.phones]) for r in records] == [
        ("Amelia", (FORMULA_NOT_SAVED.format("D2"),), []),
        ("Ben", (), ["01134960102"]),
        ("Chidi", (), ["07700 900103"]),
    ]


def test_a_formula_without_a_saved_value_beside_a_number_is_a_note(tmp_path: Path) -> None:
    rows = [["Name", "Mobile", "Work"], ["Amelia", "07700 900101", "=0&1134960101"]]
    (record,) = open_source(write_xlsx(tmp_path / "b.xlsx", ("S", rows))).records()
    assert [p.value for p in record.phones] == ["07700 900101"]
    assert record.ok
    assert record.notes == (FORMULA_NOT_SAVED.format("C2"),)


def test_a_formula_name_without_a_saved_value_says_so_not_no_name(tmp_path: Path) -> None:
    rows = [["First", "Last", "Display name", "Phone"], ["Amelia", "Hartley", '=A2&" "&B2', 1009]]
    path = write_xlsx(tmp_path / "b.xlsx", ("S", rows))
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: Display name\nphones: [Phone]\n", encoding="utf-8")
    (record,) = open_source(path, mapping=mapping).records()
    assert record.problems == (FORMULA_NOT_SAVED.format("C2"),)


def test_a_formula_whose_saved_value_is_empty_text_is_an_empty_cell(tmp_path: Path) -> None:
    rows = [["Name", "Phone"], ["Amelia", '=IF(TRUE,"","x")']]
    path = write_xlsx(tmp_path / "b.xlsx", ("S", rows))
    # Excel saves an empty text result as a string-typed cell with an empty value.
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(
            r'<c r="B2"([^>]*)>(<f>.*?</f>)<v\s*/>', r'<c r="B2" t="str"\1>\2<v></v>', xml
        ),
    )
    (record,) = open_source(path).records()
    assert record.problems == ("no phone number",)


def test_a_formula_without_a_saved_value_far_down_the_sheet_is_found(tmp_path: Path) -> None:
    # The sheet's XML is scanned in chunks for such formulas before the second pass.
    rows: list[list[object]] = [["Name", "Phone"]]
    rows += [[f"Person {i}", f"07700 9{i:05d}"] for i in range(3_000)]
    rows.append(["Last Person", "=0&1134960101"])
    path = write_xlsx(tmp_path / "b.xlsx", ("S", rows))
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size > 200_000
    *_, last = open_source(path).records()
    assert last.problems == (FORMULA_NOT_SAVED.format("B3002"),)


def test_a_workbook_with_formulas_is_still_streamed(tmp_path: Path) -> None:
    # Reading formulas takes a second pass over the sheet, in step with the first: memory
    # stays that of a few rows (openpyxl keeps ~100 bytes per row read, not the workbook).
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Staff")
    sheet.append(["Name", "Mobile", "Work"])
    for i in range(1_500):
        sheet.append([f"Person {i}", f"07700 9{i:05d}", f"=0&{1134960000 + i}"])
    path = tmp_path / "big.xlsx"
    book.save(path)
    source = open_source(path)
    tracemalloc.start()
    noted = sum(1 for record in source.records() if record.notes)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert noted == 1_500
    assert peak < 2_500_000, f"peak {peak} bytes"


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
