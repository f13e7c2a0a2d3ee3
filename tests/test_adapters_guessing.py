"""Header guessing: which columns hold numbers to dial, judged by header and by values."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pytest

from adapters import open_source
from adapters.guessing import (
    VALUE_CHECK_ROWS,
    guess_mapping,
    left_out_columns,
    reads_as_phone_number,
)
from connector.errors import SourceError

# The realistic staff sheet of issue 11: one real phone column among four that mention phones.
STAFF_SHEET = [
    ["Name", "Mobile", "Monthly Phone Bill", "Phone Type", "Mobile Contract End"],
    ["Amelia Hartley", "07700 900101", "45.50", "iPhone 14", "2025-03-31"],
    ["Chidi Okafor", "07700 900102", "32.00", "Android", "31/08/2026"],
    ["Megan Price", "07700 900103", "£18.99", "iPhone SE", "Mar 2025"],
]


def write_csv(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def phone_columns(headers: list[str]) -> list[str]:
    mapping = guess_mapping(headers)
    assert mapping is not None, headers
    return [p.column for p in mapping.phones]


# --- headers -----------------------------------------------------------------------------------


def test_staff_sheet_bill_type_and_contract_end_are_not_phone_columns() -> None:
    assert phone_columns(STAFF_SHEET[0]) == ["Mobile"]


@pytest.mark.parametrize(
    ("header", "topic"),
    [
        ("Monthly Phone Bill", "money"),
        ("Phone Cost", "money"),
        ("Mobile Price", "money"),
        ("Phone Charges", "money"),
        ("Mobile Tariff", "money"),
        ("Mobile Allowance", "money"),
        ("Phone Spend", "money"),
        ("Mobile (£)", "money"),
        ("Phone Amount", "money"),
        ("Landline Rental", "money"),
        ("Mobile Contract End", "a date or time"),
        ("Mobile Contract", "a date or time"),
        ("Phone Start Date", "a date or time"),
        ("Mobile Expiry", "a date or time"),
        ("Mobile Renewal", "a date or time"),
        ("Phone Since", "a date or time"),
        ("Phone Type", "a kind or label"),
        ("Mobile Kind", "a kind or label"),
        ("Phone 1 - Label", "a kind or label"),
        ("Phone Model", "a kind or label"),
        ("Mobile Make", "a kind or label"),
        ("Mobile Provider", "a kind or label"),
        ("Mobile Carrier", "a kind or label"),
        ("Mobile Network", "a kind or label"),
        ("Phone Plan", "a kind or label"),
        ("Phone Count", "a count or usage"),
        ("Number of Phones", "a count or usage"),
        ("No. of Mobiles", "a count or usage"),
        ("Mobile Minutes", "a count or usage"),
        ("Phone Calls", "a count or usage"),
        ("Mobile Data Usage", "a count or usage"),
        ("Mobile Usage %", "a count or usage"),
        ("Phone Ext", "an extension"),
        ("Phone Country Code", "a code"),
        ("Phone Email", "email"),
    ],
)
def test_headers_about_money_dates_kinds_and_counts_are_not_phone_columns(
    header: str, topic: str
) -> None:
    headers = ["Name", "Phone", header]
    assert phone_columns(headers) == ["Phone"]
    assert left_out_columns(headers) == [(header, topic)]


@pytest.mark.parametrize(
    "header",
    [
        "Phone",
        "Mobile",
        "Mobile Phone",
        "Business Phone",
        "Business Phone 2",
        "Home Phone",
        "Phone 1 - Value",
        "Phone 2",
        "Tel",
        "Tel.",
        "Telephone",
        "telephone_number",
        "mobile_no",
        "Mobile No.",
        "Mobile Number",
        "Phone #",
        "Cell",
        "Landline",
        "Switchboard",
        "DDI",
        "Direct Dial",
        "Direct line",
        "Contact Number",
        "Work",
        "Home",
        "Office",
        "Main",
        "Number",
        "Daytime Phone",
        "Day Phone",
        "Evening Phone",
        "Weekend Phone",
        "Other Phone",
        "Assistant's Phone",
        "Primary Phone",
    ],
)
def test_real_phone_headers_are_still_recognised(header: str) -> None:
    assert phone_columns(["Name", header]) == [header]
    assert left_out_columns(["Name", header]) == []


def test_fax_and_pager_keep_their_own_message_and_other_columns_none() -> None:
    assert left_out_columns(["Name", "Phone", "Fax", "Pager", "Email", "Notes"]) == []


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "07700 900101",
        "7852902011",
        "+44 (0)20 7946 0102",
        "0161-496-0103 ext. 12",
        "020 7946 0123 x204",
        "020 7946 0123, ext 4",
        "07700 900305; 07700 900306",
        "+44 7700 900123 ::: 0113 496 0101",
        "030/1234567",
        "020.7946.0123",
        "tel:+441134960101;ext=204",
        "1009",
        "7852902011.0",
        "7.7009E+09",
    ],
)
def test_values_that_read_as_phone_numbers(value: str) -> None:
    assert reads_as_phone_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "45.50",
        "12.5",
        "37.5",
        "1,234.56",
        "£25.00",
        "€180",
        "50%",
        "10:30",
        "2025-03-31",
        "31/03/2025",
        "31.03.2025",
        "2025-03-31T00:00:00",
        "iPhone 14",
        "call after 5pm",
        "n/a",
        "12",
        "TRUE",
        "07700 900101 (mobile)",
    ],
)
def test_values_that_do_not_read_as_phone_numbers(value: str) -> None:
    assert not reads_as_phone_number(value)


# --- reading a file -----------------------------------------------------------------------------


def test_staff_sheet_reads_one_number_per_person_and_names_the_left_out_columns(
    tmp_path: Path,
) -> None:
    source = open_source(write_csv(tmp_path / "staff.csv", STAFF_SHEET))
    records = list(source.records())
    assert [(r.name, [p.value for p in r.phones]) for r in records] == [
        ("Amelia Hartley", ["07700 900101"]),
        ("Chidi Okafor", ["07700 900102"]),
        ("Megan Price", ["07700 900103"]),
    ]
    assert source.messages[1:] == [
        "staff.csv: no mapping given; using columns Name -> name; Mobile -> phones",
        "staff.csv: column 'Monthly Phone Bill' left out: its header is about money",
        "staff.csv: column 'Phone Type' left out: its header is about a kind or label",
        "staff.csv: column 'Mobile Contract End' left out: its header is about a date or time",
    ]


def test_a_recognised_column_of_hours_is_left_out_by_its_values(tmp_path: Path) -> None:
    rows = [["Name", "Mobile", "Work"], ["Amelia", "07700 900101", "37.5"]]
    rows += [["Ben", "07700 900102", "22.5"], ["Chidi", "07700 900103", "7.5"]]
    source = open_source(write_csv(tmp_path / "hours.csv", rows))
    assert [[p.value for p in r.phones] for r in source.records()] == [
        ["07700 900101"],
        ["07700 900102"],
        ["07700 900103"],
    ]
    assert source.messages[1:] == [
        "hours.csv: no mapping given; using columns Name -> name; Mobile -> phones",
        "hours.csv: column 'Work' left out: 3 of 3 values do not read as phone numbers "
        "(such as '37.5'); a --mapping naming it would import it",
    ]


def test_notes_phone_with_words_is_left_out_with_a_count(tmp_path: Path) -> None:
    notes = ["call after 5pm", "ask for Jim", "", "prefers email", "mobile only", "n/a"]
    notes += ["0113 496 0101", "on leave", "07700 900199", "see CRM"]
    rows = [["Name", "Mobile", "Notes Phone"]]
    rows += [[f"Person {i}", f"07700 9001{i:02d}", note] for i, note in enumerate(notes)]
    source = open_source(write_csv(tmp_path / "c.csv", rows))
    assert (
        "c.csv: column 'Notes Phone' left out: 7 of 9 values do not read as phone numbers "
        "(such as 'call after 5pm'); a --mapping naming it would import it"
    ) in source.messages
    assert all(len(r.phones) == 1 for r in source.records())


def test_a_column_half_of_whose_values_read_as_numbers_is_kept(tmp_path: Path) -> None:
    rows = [["Name", "Mobile", "Home"], ["A", "07700 900101", "0113 496 0101"]]
    rows += [["B", "07700 900102", "0113 496 0102"], ["C", "07700 900103", "ring mobile"]]
    rows += [["D", "07700 900104", "see notes"]]
    source = open_source(write_csv(tmp_path / "c.csv", rows))
    assert [len(r.phones) for r in source.records()] == [2, 2, 1, 1]
    assert not any("left out" in m for m in source.messages)


def test_only_the_first_rows_are_judged(tmp_path: Path) -> None:
    rows = [["Name", "Mobile", "Home"]]
    rows += [[f"P{i}", "07700 900101", "0113 496 0101"] for i in range(VALUE_CHECK_ROWS)]
    rows += [[f"Q{i}", "07700 900101", "ring mobile"] for i in range(VALUE_CHECK_ROWS + 5)]
    source = open_source(write_csv(tmp_path / "c.csv", rows))
    assert "Mobile, Home -> phones" in source.messages[1]


def test_a_column_named_by_a_mapping_is_never_left_out(tmp_path: Path) -> None:
    rows = [["Name", "Mobile", "Work"], ["Amelia", "07700 900101", "37.5"]]
    path = write_csv(tmp_path / "hours.csv", rows)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: Name\nphones: [Mobile, Work]\n", encoding="utf-8")
    source = open_source(path, mapping=mapping)
    (record,) = source.records()
    assert [p.value for p in record.phones] == ["07700 900101", "37.5"]
    assert not any("left out" in m for m in source.messages)


def test_a_preset_column_is_never_left_out(tmp_path: Path) -> None:
    rows = [["id", "name", "phone1", "phone2", "phone3"], ["7", "Desk", "1009", "n/a", "tbc"]]
    source = open_source(write_csv(tmp_path / "export.csv", rows))
    assert "recognised preset sipalto" in source.messages[1]
    assert not any("left out" in m for m in source.messages)


def test_when_every_recognised_phone_column_is_left_out_the_file_needs_a_mapping(
    tmp_path: Path,
) -> None:
    rows = [["Name", "Phone"], ["Amelia", "call her"], ["Ben", "on leave"]]
    path = write_csv(tmp_path / "c.csv", rows)
    with pytest.raises(SourceError) as caught:
        open_source(path)
    assert str(caught.value) == (
        f"{path}:1: no column holds phone numbers: column 'Phone' left out: 2 of 2 values do "
        "not read as phone numbers (such as 'call her'); give --mapping NAME|FILE "
        "(see `sipalto-sync mappings list`)"
    )
