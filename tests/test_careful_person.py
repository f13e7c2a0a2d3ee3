"""Issue 11 acceptance: messy files planned and applied end to end, compared with what a
careful person would have written by hand.

Each case is a phonebook, a source file and options; the test runs the real command line
(`plan --out`, then `apply --yes`) against a sandbox and compares the phonebook that results
with the one a person would have made, and the plan's review and rejected items with the
ones a person would have set aside. The unit tests of each rule live beside the rule; this
file checks that, together, they make no write a person would not.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from apply_helpers import phonebook_rows

BOOK = [
    {"id": "30001", "name": "Reception", "phone1": "02079460000", "phone2": "", "phone3": ""},
    {"id": "30002", "name": "Amelia Hartley", "phone1": "01632960002", "phone2": "", "phone3": ""},
    {"id": "30003", "name": "Kevin Ng", "phone1": "07700900123", "phone2": "", "phone3": ""},
]


def row(name: str, *phones: str) -> tuple[str, str, str, str]:
    """A phonebook row as :func:`phonebook_rows` gives it."""
    slots = [*phones, "", "", ""][:3]
    return (name, slots[0], slots[1], slots[2])


BEFORE = phonebook_rows(BOOK)


def without(name: str) -> list[tuple[str, str, str, str]]:
    """The phonebook as it was, less the contact named ``name``."""
    return [entry for entry in BEFORE if entry[0] != name]


@dataclass
class Case:
    """A source, what a careful person would end up with, and what they would set aside."""

    source: str
    after: list[tuple[str, str, str, str]]
    reviews: int = 0
    rejected: int = 0
    options: tuple[str, ...] = ()
    decisions: str | None = None
    name: str = "contacts.csv"
    book: list[dict[str, str]] = field(default_factory=lambda: BOOK)


CASES = {
    "values_that_are_not_numbers": Case(
        "Name,Phone\n"
        "Decimal Person,12.5\n"
        "Price Person,£25.00\n"
        "Time Person,10:30\n"
        "Percent Person,12%\n"
        "Date Person,01/02/2024\n"
        "Local Seven,496 0101\n"
        "Good Person,020 7946 0123\n"
        "Desk Person,1009\n"
        "Mobile One,07700 900201\n"
        "Mobile Two,07700 900202\n"
        "Landline Three,0161 496 0203\n"
        "Landline Four,0113 496 0204\n",
        after=[
            *BEFORE,
            row("Good Person", "02079460123"),
            row("Desk Person", "1009"),
            row("Mobile One", "07700900201"),
            row("Mobile Two", "07700900202"),
            row("Landline Three", "01614960203"),
            row("Landline Four", "01134960204"),
        ],
        rejected=6,
    ),
    "staff_sheet_money_and_dates_are_not_phones": Case(
        "Name,Mobile,Monthly Phone Bill,Phone Type,Mobile Contract End\n"
        "Amy Pond,07700 900101,45.50,Work,2025-03-31\n"
        "Rory Williams,07700 900102,12.00,Personal,2026-01-15\n"
        "Clara Oswald,07700 900103,30.25,Work,2025-11-30\n",
        after=[
            *BEFORE,
            row("Amy Pond", "07700900101"),
            row("Rory Williams", "07700900102"),
            row("Clara Oswald", "07700900103"),
        ],
    ),
    "same_name_different_numbers_in_one_file": Case(
        "Name,Phone\nNew Person,020 7946 0777\nNew Person,07700 900777\n",
        after=[*BEFORE, row("New Person", "02079460777")],
        reviews=1,
    ),
    "name_that_differs_only_in_form_is_not_a_write": Case(
        'Name,Phone\n"Hartley, Amelia",01632 960002\n',
        after=BEFORE,
    ),
    "us_extension_stays_an_extension": Case(
        "Name,Phone\nFront Desk,1009\n",
        after=[*BEFORE, row("Front Desk", "1009")],
        options=("--region", "US"),
    ),
    "row_decision_that_moved_is_not_applied": Case(
        # The decision was made when row 2 was "Reception" (020 7946 0000) and matched
        # 30001 to it; rows were deleted since, and row 2 is now someone else's.
        "Name,Phone\nZed Zebra,07700 900999\nSomeone Else,07700 900555\n",
        after=[*BEFORE, row("Someone Else", "07700900555")],
        reviews=1,
        decisions=(
            '"row:2":\n'
            "  match: '30001'\n"
            "  record: {name: Reception, phones: ['020 7946 0000']}\n"
            "  contact: {name: Reception, phones: ['020 7946 0000']}\n"
        ),
    ),
    "hand_written_match_that_fits_nothing_goes_to_review": Case(
        "ID,Name,Phone\nC1,Zed Zebra,0161 496 0999\n",
        after=BEFORE,
        reviews=1,
        options=("--mapping", "MAPPING"),
        decisions="C1: match 30003\n",
    ),
    "match_decision_does_not_make_a_second_copy_of_the_displaced_record": Case(
        # C1 (a desk sharing Kevin's mobile) is pinned to Kevin Ng's contact by hand; C2 is
        # the real Kevin Ng, whose contact is taken: a person would look at C2 again, not
        # add a second Kevin Ng.
        "ID,Name,Phone\nC1,Sales Desk,07700 900123\nC2,Kevin Ng,07700 900123\n",
        after=[*without("Kevin Ng"), row("Sales Desk", "07700900123")],
        reviews=1,
        options=("--mapping", "MAPPING"),
        decisions=(
            "C1:\n"
            "  match: '30003'\n"
            "  record: {name: Sales Desk, phones: ['07700 900123']}\n"
            "  contact: {name: Kevin Ng, phones: ['07700900123']}\n"
        ),
    ),
}

KEYED_MAPPING = "key: ID\nname: Name\nphones: [Phone]\n"


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_a_careful_person_would_write_the_same(
    case_name: str, run_cli, sandbox_factory, tmp_path: Path
) -> None:
    case = CASES[case_name]
    server = sandbox_factory(case.book)
    source = tmp_path / case.name
    source.write_text(case.source, encoding="utf-8")
    options = list(case.options)
    if "MAPPING" in options:
        mapping = tmp_path / "mapping.yaml"
        mapping.write_text(KEYED_MAPPING, encoding="utf-8")
        options[options.index("MAPPING")] = str(mapping)
    if case.decisions is not None:
        decisions = tmp_path / "decisions.yaml"
        decisions.write_text(case.decisions, encoding="utf-8")
        options += ["--decisions", str(decisions)]
    assert_careful(run_cli, server, source, options, case, tmp_path)


def test_workbook_with_a_cover_sheet_is_read_from_its_contacts_sheet(
    run_cli, sandbox_factory, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "Notes"
    cover.append(["Staff phone list, exported for the PBX migration"])
    cover.append(["Owner: IT"])
    sheet = workbook.create_sheet("Contacts")
    sheet.append(["Name", "Mobile"])
    sheet.append(["Amy Pond", "07700 900101"])
    sheet.append(["Money Cell", 1.5])
    source = tmp_path / "staff.xlsx"
    workbook.save(source)
    case = Case("", after=[*BEFORE, row("Amy Pond", "07700900101")], rejected=1)
    assert_careful(run_cli, sandbox_factory(BOOK), source, [], case, tmp_path)


def test_export_edit_and_reimport_with_the_sipalto_preset(
    run_cli, sandbox_factory, tmp_path: Path
) -> None:
    server = sandbox_factory(BOOK)
    export = tmp_path / "export.csv"
    listed = run_cli("contacts", "list", "--format", "csv", "-o", str(export), server=server)
    assert listed.exit_code == 0, listed.output
    lines = export.read_text(encoding="utf-8").splitlines()
    edited = [
        line.replace("Kevin Ng", "Kevin Ng (Sales)").replace("01632960002", "01632960022")
        for line in lines
        if "Reception" not in line  # a row deleted by the editor: not a delete request
    ]
    edited.append(",Front Desk,1009,,")
    export.write_text("\n".join(edited) + "\n", encoding="utf-8")
    case = Case(
        "",
        after=[
            row("Reception", "02079460000"),
            row("Amelia Hartley", "01632960022"),
            row("Kevin Ng (Sales)", "07700900123"),
            row("Front Desk", "1009"),
        ],
    )
    assert_careful(
        run_cli, server, export, ["--mapping", "sipalto", "--phones", "replace"], case, tmp_path
    )


def assert_careful(run_cli, server, source: Path, options: list[str], case: Case, tmp_path: Path):
    """Plan, apply, and compare with the careful person's phonebook; plan again: nothing."""
    env = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    plan = tmp_path / "plan.json"
    planned = run_cli(
        "plan", str(source), *options, "--out", str(plan), "--force", server=server, env=env
    )
    assert planned.exit_code == 0, planned.output
    assert "Traceback" not in planned.output
    actions = Counter(item["action"] for item in json.loads(plan.read_text())["items"])
    assert actions["review"] == case.reviews, planned.output
    assert actions["rejected"] == case.rejected, planned.output
    applied = run_cli("apply", str(plan), "--yes", server=server, env=env)
    assert applied.exit_code == 0, applied.output
    assert phonebook_rows(server.state.snapshot()) == sorted(case.after), planned.output
    again = run_cli(
        "plan", str(source), *options, "--detailed-exitcode", "-q", server=server, env=env
    )
    assert again.exit_code == 0, again.output  # nothing left to write
