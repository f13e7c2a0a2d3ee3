"""Which sheet and which columns a source is read from, end to end through the real CLI:
``inspect`` and ``plan`` against the sandbox, then ``apply`` and the phonebook it leaves."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

STAFF_CSV = """\
Name,Mobile,Monthly Phone Bill,Phone Type,Mobile Contract End
Amelia Hartley,07700 900101,45.50,iPhone 14,2025-03-31
Chidi Okafor,07700 900102,32.00,Android,31/08/2026
Megan Price,07700 900103,£18.99,iPhone SE,Mar 2025
"""
NOTES_ROWS = [["Staff phone list"], ["Exported from HR; the Staff sheet is the list."]]


def write_xlsx(path: Path, *sheets: tuple[str, Sequence[Sequence[object]]]) -> Path:
    """A workbook as a program writes it: openpyxl saves formulas without their values."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


def test_staff_sheet_plans_one_number_per_person_and_names_the_left_out_columns(
    run_cli, sandbox_factory, tmp_path
) -> None:
    server = sandbox_factory([])
    source = tmp_path / "staff.csv"
    source.write_text(STAFF_CSV, encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    result = run_cli("plan", str(source), "--out", str(plan_file), server=server)
    assert result.exit_code == 0, result.output
    for column, topic in [
        ("Monthly Phone Bill", "money"),
        ("Phone Type", "a kind or label"),
        ("Mobile Contract End", "a date or time"),
    ]:
        line = f"staff.csv: column '{column}' left out: its header is about {topic}"
        assert line in result.stderr.splitlines()
    assert "Plan: 3 to add, 0 to update, 0 to delete, 0 to review, 0 rejected." in result.stdout
    items = json.loads(plan_file.read_text(encoding="utf-8"))["items"]
    assert [(i["after"]["name"], i["after"]["phone2"]) for i in items] == [
        ("Amelia Hartley", ""),
        ("Chidi Okafor", ""),
        ("Megan Price", ""),
    ]
    home = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    assert run_cli("apply", str(plan_file), "--yes", server=server, env=home).exit_code == 0
    book = sorted(
        (c["name"], c["phone1"], c["phone2"], c["phone3"]) for c in server.state.snapshot()
    )
    assert book == [
        ("Amelia Hartley", "07700900101", "", ""),
        ("Chidi Okafor", "07700900102", "", ""),
        ("Megan Price", "07700900103", "", ""),
    ]


def test_a_recognised_column_of_words_is_left_out_with_a_count(run_cli, tmp_path) -> None:
    source = tmp_path / "c.csv"
    source.write_text(
        "Name,Mobile,Notes Phone\n"
        "Amelia Hartley,07700 900101,call after 5pm\n"
        "Chidi Okafor,07700 900102,ask for Jim\n"
        "Megan Price,07700 900103,0113 496 0103\n",
        encoding="utf-8",
    )
    result = run_cli("inspect", str(source), "--format", "json")
    assert result.exit_code == 0, result.output
    assert (
        "c.csv: column 'Notes Phone' left out: 2 of 3 values do not read as phone numbers "
        "(such as 'call after 5pm'); a --mapping naming it would import it"
    ) in result.stderr.splitlines()
    assert [len(r["phones"]) for r in json.loads(result.stdout)] == [1, 1, 1]


def test_a_workbook_with_a_cover_sheet_plans_from_the_staff_sheet(
    run_cli, sandbox_factory, tmp_path
) -> None:
    server = sandbox_factory([])
    rows = [["Name", "Mobile"], ["Amelia Hartley", 7700900101], ["Chidi Okafor", 7700900102]]
    path = write_xlsx(tmp_path / "staff.xlsx", ("Notes", NOTES_ROWS), ("Staff", rows))
    result = run_cli("plan", str(path), server=server)
    assert result.exit_code == 0, result.output
    assert (
        "staff.xlsx: reading sheet Staff, the first with a recognisable header "
        "(skipped: Notes); --sheet NAME picks another"
    ) in result.stderr.splitlines()
    assert "  + add Amelia Hartley  (staff.xlsx Staff!row 2)" in result.stdout
    assert "Plan: 2 to add, 0 to update, 0 to delete, 0 to review, 0 rejected." in result.stdout


def test_a_workbook_without_a_recognisable_sheet_names_each_and_the_options(
    run_cli, tmp_path
) -> None:
    rows = [["Who", "Line"], ["Amelia Hartley", 1009]]
    path = write_xlsx(tmp_path / "book.xlsx", ("Notes", NOTES_ROWS), ("Extensions", rows))
    result = run_cli("inspect", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}: no sheet has a header to read (sheet Notes row 1: cannot tell which "
        "columns hold names and phone numbers (the header row has: Staff phone list); sheet "
        "Extensions row 1: cannot tell which columns hold names and "
        "phone numbers (the header row has: Who, Line)); give --sheet NAME and --mapping "
        "NAME|FILE (see `sipalto-sync mappings list`)\n"
    )


def test_a_named_cover_sheet_is_not_passed_over(run_cli, tmp_path) -> None:
    rows = [["Name", "Mobile"], ["Amelia Hartley", 7700900101]]
    path = write_xlsx(tmp_path / "staff.xlsx", ("Notes", NOTES_ROWS), ("Staff", rows))
    result = run_cli("inspect", str(path), "--sheet", "Notes")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path}:1: cannot tell which columns")


def test_a_formula_without_a_saved_value_is_reported_as_such(
    run_cli, sandbox_factory, tmp_path
) -> None:
    server = sandbox_factory([])
    rows = [
        ["Name", "Area code", "Local part", "Phone"],
        ["Amelia Hartley", "0113", "4960101", "=B2&C2"],
        ["Chidi Okafor", "", "", "07700 900102"],
    ]
    path = write_xlsx(tmp_path / "staff.xlsx", ("Staff", rows))
    inspected = run_cli("inspect", str(path))
    assert inspected.exit_code == 1
    assert "no phone number" not in inspected.output
    planned = run_cli("plan", str(path), server=server)
    assert planned.exit_code == 0, planned.output
    assert (
        "  ! rejected staff.xlsx Staff!row 2 Amelia Hartley: cell D2 is a formula with no saved "
        "value (open and save the file in Excel)"
    ) in planned.stdout.splitlines()
    assert "Plan: 1 to add, 0 to update, 0 to delete, 0 to review, 1 rejected." in planned.stdout
