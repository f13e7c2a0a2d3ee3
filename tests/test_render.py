"""Rendering a plan: the exact lines a person reads, the CSV a reviewer edits, the JSON."""

from __future__ import annotations

import csv
import io
import json

from planning_helpers import contact, plan, record

from connector.reconcile.decisions import Decision
from connector.reconcile.plan import Plan
from connector.ui.plan_view import (
    CSV_COLUMNS,
    PREVIEW_FORMATS,
    render_plan_csv,
    render_plan_json,
    render_plan_text,
    summary_line,
    write_plan,
)

RECORDS = [
    record("a", "Jon Smith", "07852902011", "07730 885627"),
    record("b", "Jane Smith", "01491 833000"),
    record("c", "Nobody", "n/a"),
    record("d", "Zoë New", "+353 1 234 5678"),
    record("e", "Acme Ltd", "01614960000"),
]
CONTACTS = [
    contact("30001", "John Smith", "07852902011"),
    contact("30002", "John Smith", "01491833000"),
    contact("30003", "Acme Ltd", "01614960000"),
]


def sample() -> Plan:
    return plan(RECORDS, CONTACTS)


def test_text_preview_reads_like_a_careful_terraform_plan() -> None:
    assert render_plan_text(sample()).splitlines() == [
        "  ~ update 30001 Jon Smith  (contacts.csv:a)",
        '      ~ name:   "John Smith" -> "Jon Smith"',
        '      + phone2: "07730885627"',
        "      # name alike (92.9), same number 07852902011; name differs; adds 07730885627",
        "",
        "  ? review Jane Smith (score 75)  (contacts.csv:b)",
        "      would add: Jane Smith [01491833000]",
        "      candidate 30002 John Smith [01491833000] score 75:"
        " shares number 01491833000 but the name differs (75)",
        "      # shares number 01491833000 but the name differs (75)",
        "",
        "  ! rejected contacts.csv:c Nobody: no usable phone number (n/a)",
        "",
        "  + add Zoë New  (contacts.csv:d)",
        '      + name:   "Zoë New"',
        '      + phone1: "+35312345678"',
        "      # no contact shares a number or a close name",
        "",
        "Plan: 1 to add, 1 to update, 0 to delete, 1 to review, 1 rejected.",
        "Also: 1 unchanged, 0 duplicate, 0 skipped.",
    ]


def test_unchanged_items_are_shown_only_when_verbose() -> None:
    quiet = render_plan_text(sample())
    verbose = render_plan_text(sample(), verbose=True)
    assert "unchanged 30003 Acme Ltd" not in quiet
    assert "    unchanged 30003 Acme Ltd  (contacts.csv:e)" in verbose.splitlines()


def test_summary_line_is_exact() -> None:
    assert summary_line(sample()) == (
        "Plan: 1 to add, 1 to update, 0 to delete, 1 to review, 1 rejected."
    )


def test_no_changes_says_so() -> None:
    text = render_plan_text(plan([record("e", "Acme Ltd", "01614960000")], CONTACTS))
    assert text.splitlines()[0] == "No changes. The phonebook already matches the source."


def test_reviews_pending_and_nothing_to_apply_is_not_no_changes() -> None:
    records = [record("b", "Jane Smith", "01491 833000"), record("f", "John Smith", "07700 900001")]
    lines = render_plan_text(plan(records, CONTACTS)).splitlines()
    assert "Nothing to apply; 2 records need review." in lines
    assert not any("No changes" in line for line in lines)


def test_a_warning_repeated_on_many_items_is_shown_on_the_first_few_then_counted() -> None:
    # Numbers libphonenumber does not know as valid: one warning each, of one kind.
    records = [record(f"r{n}", f"Person {n}", f"01999 {100000 + n}") for n in range(7)]
    text = render_plan_text(plan(records, []))
    shown = [line for line in text.splitlines() if "kept though not a valid" in line]
    assert len(shown) == 3 + 1  # three on their items, one summing up the other four
    assert shown[-1] == (
        "Warning: 4 more warnings like '01999 100000 kept though not a valid UK number' not "
        "shown above (-v shows every one; the plan file and --format csv hold them all)"
    )
    every = render_plan_text(plan(records, []), verbose=True)
    assert sum("kept though not a valid" in line for line in every.splitlines()) == 7


def test_a_rejected_record_shows_its_name_and_numbers() -> None:
    text = render_plan_text(plan([record("x", "", "07700 900123")], []))
    assert "  ! rejected contacts.csv:x [07700900123]: no name" in text.splitlines()


def test_nothing_to_apply_counts_one_review_and_the_rejected() -> None:
    one = render_plan_text(plan([record("b", "Jane Smith", "01491 833000")], CONTACTS))
    assert "Nothing to apply; 1 record needs review." in one.splitlines()
    both = plan([record("b", "Jane Smith", "01491 833000"), record("c", "Nobody", "n/a")], CONTACTS)
    assert "Nothing to apply; 1 record needs review, 1 rejected." in render_plan_text(both)
    rejected = render_plan_text(plan([record("c", "Nobody", "n/a")], CONTACTS))
    assert "Nothing to apply; 1 record rejected." in rejected.splitlines()


def test_deletes_and_warnings_are_shown() -> None:
    result = plan(
        [record("e", "Acme Ltd", "01614960000 x12")],
        CONTACTS,
        delete="owned",
        owned_ids=frozenset({"30002"}),
        decisions={"gone": Decision("add")},
    )
    lines = render_plan_text(result, verbose=True).splitlines()
    assert "      ! extension 12 dropped from 01614960000 x12" in lines
    assert "  - delete 30002 John Smith" in lines
    assert '      - phone1: "01491833000"' in lines
    assert "Warning: decision for gone ignored: no such source record" in lines


def test_colour_only_when_asked() -> None:
    assert "\x1b[" not in render_plan_text(sample())
    coloured = render_plan_text(sample(), color=True)
    assert "\x1b[32m  + add Zoë New\x1b[0m" in coloured
    assert "\x1b[33m  ~ update 30001 Jon Smith\x1b[0m" in coloured


def test_csv_has_one_row_per_item_and_an_empty_decision_column() -> None:
    buffer = io.StringIO()
    render_plan_csv(sample(), buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["action"] for r in rows] == ["update", "review", "rejected", "add", "unchanged"]
    assert all(r["decision"] == "" for r in rows)
    assert rows[1]["candidates"] == "30002 John Smith [01491833000] (75)"
    assert (rows[1]["source_name"], rows[1]["source_phones"]) == ("Jane Smith", "01491833000")
    assert (rows[0]["source_name"], rows[0]["source_phones"]) == (
        "Jon Smith",
        "07852902011, 07730885627",
    )
    assert rows[0]["name_before"] == "John Smith" and rows[0]["name_after"] == "Jon Smith"


def test_csv_escapes_cells_a_spreadsheet_would_run() -> None:
    records = [
        record("=HYPERLINK(1)", "+Plus Name", "+353 1 234 5678"),
        record("@key", "-Minus", "07852902011"),
    ]
    buffer = io.StringIO()
    render_plan_csv(plan(records), buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))[1:]
    cells = [cell for row in rows for cell in row]
    assert "'=HYPERLINK(1)" in cells
    assert "'+Plus Name" in cells
    assert "+35312345678" in cells  # a phone number can run nothing: left readable
    assert "'@key" in cells
    assert "'-Minus" in cells
    assert not any(cell.startswith(("=", "-", "@")) for cell in cells)
    # phone1_after and source_phones
    assert [cell for cell in cells if cell.startswith("+")] == ["+35312345678"] * 2


def test_csv_remembers_decisions_already_made() -> None:
    buffer = io.StringIO()
    render_plan_csv(plan(RECORDS, CONTACTS, decisions={"b": Decision("add")}), buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert [r["decision"] for r in rows if r["source_key"] == "b"] == ["add"]


def test_json_is_the_plan_file() -> None:
    result = sample()
    assert json.loads(render_plan_json(result)) == result.to_json()
    assert Plan.from_json(json.loads(render_plan_json(result))) == result


def test_each_preview_format_writes_what_its_renderer_gives() -> None:
    result = sample()
    written = {}
    for fmt in PREVIEW_FORMATS:
        buffer = io.StringIO()
        write_plan(result, fmt, buffer)
        written[fmt] = buffer.getvalue()
    assert written["text"] == render_plan_text(result) + "\n"
    assert json.loads(written["json"]) == result.to_json()
    assert written["csv"].startswith(",".join(CSV_COLUMNS) + "\r\n")


def test_merge_says_on_the_items_own_line_which_phonebook_number_it_drops() -> None:
    full = [record("k", "John Smith", "07852902011", "01614960000", "01134960000")]
    book = [contact("30001", "John Smith", "07852902011", "01491 833000")]
    lines = render_plan_text(plan(full, book)).splitlines()
    assert lines[:3] == [
        "  ~ update 30001 John Smith  (contacts.csv:k)"
        "  drops phonebook number 01491833000: no free slot (Sipalto holds 3)",
        '      ~ phone2: "01491 833000" -> "01614960000"',
        '      + phone3: "01134960000"',
    ]
    two = [contact("30001", "John Smith", "07852902011", "01491833000", "07700900999")]
    assert (
        render_plan_text(plan(full, two))
        .splitlines()[0]
        .endswith(
            "  drops phonebook numbers 01491833000, 07700900999: no free slot (Sipalto holds 3)"
        )
    )
    replaced = render_plan_text(plan(full, book, phones="replace")).splitlines()
    assert replaced[0] == "  ~ update 30001 John Smith  (contacts.csv:k)"  # asked for, not room


def test_merge_that_fills_the_last_slot_and_keeps_the_others_drops_nothing() -> None:
    book = [contact("30001", "John Smith", "07852902011", "01491833000")]
    full = [record("k", "John Smith", "07852902011", "01491833000", "01134960000")]
    lines = render_plan_text(plan(full, book)).splitlines()
    assert lines[:2] == [
        "  ~ update 30001 John Smith  (contacts.csv:k)",
        '      + phone3: "01134960000"',
    ]


def test_merge_with_room_or_another_spelling_drops_nothing() -> None:
    book = [contact("30001", "John Smith", "+44 7852 902011", "ask reception")]
    result = plan([record("k", "John Smith", "07852902011", "01614960000")], book)
    assert (
        render_plan_text(result).splitlines()[0] == "  ~ update 30001 John Smith  (contacts.csv:k)"
    )
