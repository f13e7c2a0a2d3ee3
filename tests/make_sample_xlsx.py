"""Generate ``sample_data/contacts.xlsx``: a workbook shaped like a real office phone list.

Run ``python tests/make_sample_xlsx.py`` to regenerate it. The workbook has what makes
spreadsheets awkward to import: a title above the header, phone numbers stored as
numbers (their leading 0 lost), one number column formatted to show its zero again,
a "Display name" column of formulas with cached values, a cell holding two numbers,
a blank row, styled but empty trailing columns, and a second sheet.

The tests import :func:`add_cached_values` too: openpyxl writes formulas without the
value Excel would have cached, so it is patched into the sheet XML afterwards.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "contacts.xlsx"

HEADER = [
    "Ref",
    "Display name",
    "First name",
    "Surname",
    "Company",
    "Mobile",
    "Direct line",
    "Home",
]
# (ref, first, surname, company, mobile, direct line, home); ints are stored as numbers.
STAFF: list[tuple[object, ...]] = [
    ("S-01", "Oliver", "Grant", "Harrow & Pike Ltd", 7700900217, 1214960117, None),
    ("S-02", "Zara", "Ahmed", "Harrow & Pike Ltd", 7700900118, 1514960118, None),
    ("S-03", "Ian", "Dunmore", "Harrow & Pike Ltd", "07700 900123", 1184960123, None),
    ("S-04", "Bethany", "Cole", "Harrow & Pike Ltd", 7700900304, None, 1614960304),
    (None, None, None, None, None, None, None),
    ("S-05", "Rhys", "Jenkins", "Harrow & Pike Ltd", "07700 900305; 07700 900306", None, None),
    ("S-06", "Mei", "Lin", "Harrow & Pike Ltd", "+44 7700 900307", 2079460307, None),
    ("S-07", "Samuel", "Okoro", "Harrow & Pike Ltd", None, None, None),
]
COMPANIES: list[tuple[object, ...]] = [
    ("V-01", None, None, "Kestrel Logistics", None, 1632960500, None),
    ("V-02", None, None, "Moorside Dental Practice", None, 1134960121, None),
]
SUPPLIERS = [
    ("Name", "Phone"),
    ("Penrose Print Ltd", 1632960222),
    ("Greenway Garden Centre", 1174960311),
    ("Clearwater Cleaning", 7700900312),
]


def build(path: Path) -> None:
    """Write the sample workbook to ``path``."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    sheet["A1"] = "Harrow & Pike Ltd - staff and supplier phone list"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = "Last updated March 2024"
    sheet.append([])
    sheet.append(HEADER)
    cached: dict[str, str] = {}
    for row, values in enumerate(STAFF + COMPANIES, start=sheet.max_row + 1):
        ref, first, surname, company, mobile, direct, home = values
        if ref is None:
            continue  # a blank row
        display: object = company
        if first:
            display = f'=C{row}&" "&D{row}'
            cached[f"B{row}"] = f"{first} {surname}"
        for column, value in enumerate(
            [ref, display, first, surname, company, mobile, direct, home]
        ):
            sheet.cell(row=row, column=column + 1, value=value)
        sheet.cell(row=row, column=8).number_format = "00000000000"
    for column in "IJK":  # styled, empty: trailing columns a reader must ignore
        sheet[f"{column}4"].fill = PatternFill("solid", fgColor="FFFF00")
    suppliers = book.create_sheet("Suppliers")
    for values in SUPPLIERS:
        suppliers.append(list(values))
    book.properties.creator = "sipalto-sync sample generator"
    book.save(path)
    add_cached_values(path, "xl/worksheets/sheet1.xml", cached)


def add_cached_values(path: Path, member: str, values: dict[str, str]) -> None:
    """Give formula cells in ``member`` of the workbook at ``path`` a cached string value."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    xml = contents[member].decode("utf-8")
    for ref, value in values.items():
        pattern = re.compile(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/?>(?:</v>)?</c>')
        xml, count = pattern.subn(
            lambda m, r=ref, v=value: (
                f'<c r="{r}"{m.group(1)} t="str"><f>{m.group(2)}</f><v>{v}</v></c>'
            ),
            xml,
        )
        if count != 1:
            raise ValueError(f"no formula cell {ref} in {member}")
    contents[member] = xml.encode("utf-8")
    with tempfile.NamedTemporaryFile(delete=False, suffix=".xlsx") as handle:
        temporary = Path(handle.name)
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    shutil.move(temporary, path)


if __name__ == "__main__":
    build(SAMPLE)
    print(f"wrote {SAMPLE}")
