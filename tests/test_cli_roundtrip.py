"""The round trip the README invites, end to end against the sandbox: ``contacts list
--format csv``, edit the file, ``plan --mapping sipalto``, ``apply``, ``contacts list``.
Also one source holding two rows of one name and different numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from connector.sandbox import default_seed

HEADER = ["id", "name", "phone1", "phone2", "phone3"]


def read_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def by_id(rows: list[list[str]]) -> dict[str, list[str]]:
    assert rows[0] == HEADER
    return {row[0]: row for row in rows[1:]}


def test_an_edited_export_applied_makes_the_phonebook_the_edited_file(
    run_cli, sandbox_factory, tmp_path: Path
) -> None:
    server = sandbox_factory(default_seed())
    home = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    export = tmp_path / "phonebook.csv"
    listed = run_cli("contacts", "list", "--format", "csv", "-o", str(export), server=server)
    assert listed.exit_code == 0, listed.output
    exported = by_id(read_rows(export.read_text(encoding="utf-8")))

    rows = dict(exported)
    rows["30012"] = ["30012", "Reception Desk", "01632960000", "", ""]  # renamed
    rows["30003"] = ["30003", "Rajesh Patel", "07700900103", "0161 496 0803", ""]  # renumbered
    deleted = rows.pop("30020")  # a row deleted: its contact is left as it is
    rows["30029"] = ["30029", "Ruth Ashworth", "01614960129", "", "01614960829"]  # phone blanked
    new_row = ["", "New Starter (Facilities)", "1012", "", ""]  # no id: a new contact
    with export.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows.values(), new_row])

    plan_file = tmp_path / "plan.json"
    planned = run_cli("plan", str(export), "--mapping", "sipalto", "--out", str(plan_file),
                      "--detailed-exitcode", server=server)  # fmt: skip
    assert planned.exit_code == 2, planned.output
    lines = planned.stdout.splitlines()
    assert "  ~ update 30012 Reception Desk  (phonebook.csv:15)" in lines
    assert '      ~ name:   "Harrow & Pike Reception" -> "Reception Desk"' in lines
    assert "      # contact 30012 by its id; name differs" in lines
    assert "  ~ update 30003 Rajesh Patel  (phonebook.csv:6)" in lines  # no "no free slot"
    assert '      ~ phone2: "01614960103" -> "01614960803"' in lines
    assert "      # contact 30003 by its id; adds 01614960803; drops 01614960103" in lines
    assert "      # contact 30029 by its id; drops 07700900129" in lines
    assert "  + add New Starter (Facilities)  (phonebook.csv:33)" in lines
    assert "Plan: 1 to add, 3 to update, 0 to delete, 0 to review, 0 rejected." in lines

    applied = run_cli("apply", str(plan_file), "--yes", server=server, env=home)
    assert applied.exit_code == 0, applied.output
    listed = run_cli("contacts", "list", "--format", "csv", server=server)
    after = by_id(read_rows(listed.stdout))
    (new_id,) = set(after) - set(exported)
    # The edited file, numbers in Sipalto's form and moved up into a blanked slot; the
    # deleted row's contact as it was; the new row under the id Sipalto gave it.
    expected = {**rows, "30003": ["30003", "Rajesh Patel", "07700900103", "01614960803", ""],
                "30029": ["30029", "Ruth Ashworth", "01614960129", "01614960829", ""],
                "30020": deleted, new_id: [new_id, *new_row[1:]]}  # fmt: skip
    assert after == expected

    again = run_cli("plan", str(export), "--mapping", "sipalto", "--detailed-exitcode",
                    server=server)  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "No changes. The phonebook already matches the source." in again.stdout.splitlines()


def test_an_export_row_whose_contact_was_deleted_since_is_reviewed_not_added(
    run_cli, sandbox_factory, tmp_path: Path
) -> None:
    book = default_seed()
    export = tmp_path / "phonebook.csv"
    first = sandbox_factory(book)
    assert run_cli("contacts", "list", "--format", "csv", "-o", str(export),
                   server=first).exit_code == 0  # fmt: skip
    since = sandbox_factory([c for c in book if c["id"] != "30012"])
    planned = run_cli("plan", str(export), "--detailed-exitcode", server=since)
    assert planned.exit_code == 0, planned.output  # nothing to apply
    lines = planned.stdout.splitlines()
    assert "  ? review Harrow & Pike Reception  (phonebook.csv:15)" in lines
    assert "      # contact 30012 is not in the phonebook (deleted since the export?)" in lines
    assert "Nothing to apply; 1 record needs review." in lines
    assert "recognised preset sipalto" in planned.stderr


def test_two_rows_of_one_name_and_other_numbers_are_not_two_silent_contacts(
    run_cli, sandbox_factory, tmp_path: Path
) -> None:
    server = sandbox_factory([])
    source = tmp_path / "contacts.csv"
    source.write_text("Name,Phone\nNew Person,020 7946 0777\nNew Person,07700 900777\n",
                      encoding="utf-8")  # fmt: skip
    planned = run_cli("plan", str(source), server=server)
    assert planned.exit_code == 0, planned.output
    lines = planned.stdout.splitlines()
    assert "  + add New Person  (contacts.csv:2)" in lines
    assert "      ! contacts.csv:3 has the same name and other numbers; sent to review" in lines
    assert "  ? review New Person  (contacts.csv:3)" in lines
    assert "      # same name as contacts.csv:2, different numbers" in lines
    assert "Plan: 1 to add, 0 to update, 0 to delete, 1 to review, 0 rejected." in lines
