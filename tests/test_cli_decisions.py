"""Decisions end to end against the sandbox: made from a preview, fed back to ``plan``, and
applied; a decision that no longer fits its record writes nothing.

The scene is the issue's: a staff sheet without a key column, so records are keyed by row.
Row 14 is "Reception Desk", which shares the switchboard number of contact 30012
"Reception"; a reviewer matches it to 30012. Then two rows above it are deleted, and row 14
is "Ng, Kevin": the decision must not rename Reception to Kevin.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

RECEPTION = {"id": "30012", "name": "Reception", "phone1": "02079460000", "phone2": "",
             "phone3": ""}  # fmt: skip
BOOK = [
    {"id": "30001", "name": "Amelia Hartley", "phone1": "07700900101", "phone2": "",
     "phone3": ""},
    RECEPTION,
]  # fmt: skip

PEOPLE = [  # lines 2 to 13
    "Amelia Hartley,07700 900101",
    "Deleted One,07700 900102",
    "Deleted Two,07700 900103",
    *(f"Staff {n:02},07700 9002{n:02}" for n in range(1, 10)),
]
ROWS = [
    "Name,Phone",
    *PEOPLE,
    "Reception Desk,020 7946 0000",  # line 14
    "Priya Shah,07700 900150",
    '"Ng, Kevin",07700 900123',  # line 16; line 14 once two rows above are gone
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def write_source(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def without_two_rows_above_row_14(path: Path) -> None:
    write_source(path, [row for row in ROWS if not row.startswith("Deleted")])


def fill_review_csv(preview: str, key: str, decision: str) -> str:
    rows = list(csv.DictReader(io.StringIO(preview)))
    for row in rows:
        if row["source_key"] == key:
            row["decision"] = decision
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def fill_template(template: str, key: str, decision: str) -> str:
    """What a person does in an editor: write the decision on the entry's empty line."""
    head, entry = template.split(f"\n{key}:\n", 1)
    entry = entry.replace("  decision:  #", f"  decision: {decision}  #", 1)
    return f"{head}\n{key}:\n{entry}"


def plan_json(run_cli, server, *args: str) -> dict:
    result = run_cli("plan", *args, "--format", "json", server=server)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def item(data: dict, key: str) -> dict:
    (found,) = [i for i in data["items"] if i["source"] and i["source"]["key"] == key]
    return found


def plan_and_apply(run_cli, server, home: Path, tmp_path: Path, *args: str) -> str:
    """``plan ... --out plan.json`` then ``apply plan.json --yes``: the preview's text."""
    plan_file = tmp_path / "plan.json"
    planned = run_cli("plan", *args, "--out", str(plan_file), server=server)
    assert planned.exit_code == 0, planned.output
    applied = run_cli("apply", str(plan_file), "--yes", server=server,
                      env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert applied.exit_code == 0, applied.output
    return planned.stdout


def contact_30012(server) -> dict:
    return next(c for c in server.state.snapshot() if c["id"] == "30012")


def names(server) -> list[str]:
    return sorted(c["name"] for c in server.state.snapshot())


STALE_REASON = (
    "      # decision 'match 30012' was made for Reception Desk (02079460000); this record is"
    " now Ng, Kevin (07700900123): another name and no number in common"
)


def test_review_csv_decision_for_row_14_is_applied_while_row_14_is_still_that_record(
    run_cli, sandbox_factory, tmp_path
) -> None:
    server = sandbox_factory(BOOK)
    source = write_source(tmp_path / "staff.csv", ROWS)
    preview = run_cli("plan", str(source), "--format", "csv", server=server).stdout
    review = tmp_path / "review.csv"
    review.write_text(fill_review_csv(preview, "row:14", "match 30012"), encoding="utf-8")
    data = plan_json(run_cli, server, str(source), "--decisions", str(review))
    assert (item(data, "row:14")["action"], item(data, "row:14")["id"]) == ("update", "30012")


def test_stale_review_csv_decision_for_row_14_does_not_rename_reception(
    run_cli, sandbox_factory, tmp_path, home
) -> None:
    server = sandbox_factory(BOOK)
    source = write_source(tmp_path / "staff.csv", ROWS)
    preview = run_cli("plan", str(source), "--format", "csv", server=server).stdout
    review = tmp_path / "review.csv"
    review.write_text(fill_review_csv(preview, "row:14", "match 30012"), encoding="utf-8")
    without_two_rows_above_row_14(source)
    shown = plan_and_apply(run_cli, server, home, tmp_path, str(source), "--decisions",
                           str(review))  # fmt: skip
    lines = shown.splitlines()
    assert "  ? review Ng, Kevin  (staff.csv:14)" in lines
    assert STALE_REASON in lines
    assert contact_30012(server) == RECEPTION
    assert "Ng, Kevin" not in names(server)  # left for review, not added behind its back
    assert "Priya Shah" in names(server)  # the rest of the plan was applied


def test_stale_decision_from_the_decisions_template_does_not_rename_reception(
    run_cli, sandbox_factory, tmp_path, home
) -> None:
    server = sandbox_factory(BOOK)
    source = write_source(tmp_path / "staff.csv", ROWS)
    template = run_cli("plan", str(source), "--format", "decisions", server=server).stdout
    assert "row:14:\n  decision:  # match <contact id>, add or skip\n" in template
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text(fill_template(template, "row:14", "match 30012"), encoding="utf-8")
    fresh = plan_json(run_cli, server, str(source), "--decisions", str(decisions))
    assert (item(fresh, "row:14")["action"], item(fresh, "row:14")["id"]) == ("update", "30012")
    without_two_rows_above_row_14(source)
    shown = plan_and_apply(run_cli, server, home, tmp_path, str(source), "--decisions",
                           str(decisions))  # fmt: skip
    assert STALE_REASON in shown.splitlines()
    assert contact_30012(server) == RECEPTION
    assert "Ng, Kevin" not in names(server)


def test_hand_written_row_14_decision_for_another_record_does_not_rename_reception(
    run_cli, sandbox_factory, tmp_path, home
) -> None:
    server = sandbox_factory(BOOK)
    source = write_source(tmp_path / "staff.csv", ROWS)
    without_two_rows_above_row_14(source)
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text('"row:14": match 30012\n', encoding="utf-8")
    shown = plan_and_apply(run_cli, server, home, tmp_path, str(source), "--decisions",
                           str(decisions))  # fmt: skip
    lines = shown.splitlines()
    assert (
        "      # the decision does not fit this record: 'match 30012' names 30012 Reception"
        " (02079460000), which shares no number with Ng, Kevin (07700900123) and has a name"
        " unlike it (name score 51.4)"
    ) in lines
    assert (
        "Warning: decisions keyed by row number (row:14) move when rows are added or removed"
        " above them: give the source a key column (the mapping's key, such as key: \"Contact"
        ' ID") so a decision stays with its record'
    ) in lines
    assert contact_30012(server) == RECEPTION
    assert "Ng, Kevin" not in names(server)


def test_decisions_format_of_a_plan_records_what_hand_written_decisions_were_used_on(
    run_cli, sandbox_factory, tmp_path
) -> None:
    # plan --decisions HAND --format decisions: the same decisions, now saying what they
    # were carried out on, so the next run can tell when row 14 is someone else.
    server = sandbox_factory(BOOK)
    source = write_source(tmp_path / "staff.csv", ROWS)
    hand = tmp_path / "hand.yaml"
    hand.write_text('"row:14": match 30012\n', encoding="utf-8")
    result = run_cli("plan", str(source), "--decisions", str(hand), "--format", "decisions",
                     server=server)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "row:14:\n"
        "  match: '30012'\n"
        '  record: {name: Reception Desk, phones: ["02079460000"]}\n'
        '  contact: {name: Reception, phones: ["02079460000"]}\n'
    ) in result.stdout


def test_record_whose_contact_a_decision_took_is_left_for_review_not_added_twice(
    run_cli, sandbox_factory, tmp_path, home
) -> None:
    server = sandbox_factory(BOOK)
    source = write_source(
        tmp_path / "offices.csv",
        ["Name,Phone", "Main Office,020 7946 0000", "Reception,020 7946 0000"],
    )
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text('"row:2": match 30012\n', encoding="utf-8")
    shown = plan_and_apply(run_cli, server, home, tmp_path, str(source), "--decisions",
                           str(decisions))  # fmt: skip
    assert (
        "      # decision 'match 30012' for offices.csv:2 took 30012 (Reception), which this"
        " record matches (same name, same number 02079460000); decide this record too"
    ) in shown.splitlines()
    assert names(server) == ["Amelia Hartley", "Main Office"]  # no second copy of Reception
