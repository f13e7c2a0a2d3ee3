"""``sipalto-sync plan`` then ``apply`` end to end on cells that are not phone numbers, local
numbers without their area code and extensions under ``--region US``: the plan rejects
what a careful person would not dial, says why, and the phonebook gets only real numbers."""

from __future__ import annotations

import json
from pathlib import Path

ISSUE_ROWS = """Name,Phone,Mobile
Decimal Person,12.5,
Price Person,£25.00,
Time Person,10:30,
Local Seven,496 0101,
Percent Person,12%,
Date Person,01/02/2024,
Thousands Person,"1,234",
Good Person,020 7946 0123,
Mixed Person,12.5,07852 902011
Desk Person,1009,
"""
MAPPING = "name: Name\nphones: [Phone, Mobile]\n"  # header recognition is not under test here

#: location (and the record's name, which the preview shows) -> reason.
REJECTED = {
    "staff.csv:2 Decimal Person": "no usable phone number (12.5 looks like a decimal number, "
    "not a phone number)",
    "staff.csv:3 Price Person": "no usable phone number (£25.00 looks like an amount of "
    "money, not a phone number)",
    "staff.csv:4 Time Person": "no usable phone number (10:30 looks like a time, not a "
    "phone number)",
    "staff.csv:5 Local Seven": "no usable phone number (496 0101: not a possible phone "
    "number (no area code), dropped)",
    "staff.csv:6 Percent Person": "no usable phone number (12% looks like a percentage, not "
    "a phone number)",
    "staff.csv:7 Date Person": "no usable phone number (01/02/2024 looks like a date, not a "
    "phone number)",
    "staff.csv:8 Thousands Person": "no usable phone number (1,234 looks like a number with "
    "thousands separators, not a phone number)",
}
NEVER_WRITTEN = {"125", "2500", "1030", "04960101", "12", "01022024", "1234", "15"}


def written_numbers(item: dict[str, object]) -> set[str]:
    after = item["after"]
    if not isinstance(after, dict):
        return set()
    return {after[slot] for slot in ("phone1", "phone2", "phone3")} - {""}


def test_plan_rejects_cells_that_are_not_numbers_and_applies_only_real_ones(
    run_cli, sandbox_factory, tmp_path: Path
) -> None:
    server = sandbox_factory([])
    source = tmp_path / "staff.csv"
    source.write_text(ISSUE_ROWS, encoding="utf-8")
    mapping = tmp_path / "staff.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    plan_file = tmp_path / "plan.json"

    preview = run_cli("plan", str(source), "--mapping", str(mapping), "--out", str(plan_file),
                      server=server)  # fmt: skip
    assert preview.exit_code == 0, preview.output
    lines = preview.stdout.splitlines()
    for location, reason in REJECTED.items():
        assert f"  ! rejected {location}: {reason}" in lines
    assert "Plan: 3 to add, 0 to update, 0 to delete, 0 to review, 7 rejected." in lines

    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    rejected = {f'{i["source"]["location"]} {i["source"]["name"]}': i["reason"]
                for i in plan["items"] if i["action"] == "rejected"}  # fmt: skip
    assert rejected == REJECTED
    adds = {i["after"]["name"]: i for i in plan["items"] if i["action"] == "add"}
    assert {name: written_numbers(item) for name, item in adds.items()} == {
        "Good Person": {"02079460123"},
        "Mixed Person": {"07852902011"},
        "Desk Person": {"1009"},
    }
    assert adds["Mixed Person"]["warnings"] == [
        "12.5 looks like a decimal number, not a phone number"
    ]
    for item in plan["items"]:
        assert not written_numbers(item) & NEVER_WRITTEN, item

    home = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    applied = run_cli("apply", str(plan_file), "--yes", server=server, env=home)
    assert applied.exit_code == 0, applied.output
    book = {c["name"]: {c["phone1"], c["phone2"], c["phone3"]} - {""}
            for c in server.state.snapshot()}  # fmt: skip
    assert book == {
        "Good Person": {"02079460123"},
        "Mixed Person": {"07852902011"},
        "Desk Person": {"1009"},
    }


def test_plan_with_region_us_keeps_extension_1009_and_rejects_a_local_number(
    run_cli, sandbox_factory, tmp_path: Path
) -> None:
    server = sandbox_factory([])
    source = tmp_path / "us.csv"
    source.write_text(
        "Name,Phone\nFront Desk,1009\nNew York Office,(212) 555-1234\nLocal Only,555-1234\n"
        "Lobby,100\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "us.yaml"
    mapping.write_text("name: Name\nphones: [Phone]\n", encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    result = run_cli("plan", str(source), "--mapping", str(mapping), "--region", "US",
                     "--out", str(plan_file), server=server)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "  ! rejected us.csv:4 Local Only: no usable phone number (555-1234: not a possible "
        "phone number (no area code), dropped)"
    ) in result.stdout.splitlines()
    home = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    assert run_cli("apply", str(plan_file), "--yes", server=server, env=home).exit_code == 0
    book = {c["name"]: c["phone1"] for c in server.state.snapshot()}
    assert book == {"Front Desk": "1009", "New York Office": "2125551234", "Lobby": "100"}
