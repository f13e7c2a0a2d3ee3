"""Two records of one name and different numbers in one source: one person or two?"""

from __future__ import annotations

from pathlib import Path

from planning_helpers import contact, item_for, plan, record

from adapters.registry import open_source
from connector.reconcile.decisions import Decision

NEW_PERSON_ROWS = [
    record("12", "New Person", "020 7946 0777"),
    record("13", "New Person", "07700 900777"),
]


def test_same_name_and_different_numbers_in_one_file_sends_the_later_row_to_review() -> None:
    result = plan(NEW_PERSON_ROWS)
    first, later = item_for(result, "12"), item_for(result, "13")
    assert first.action == "add"
    assert "contacts.csv:13 has the same name and other numbers; sent to review" in first.warnings
    assert (later.action, later.reason) == (
        "review",
        "same name as contacts.csv:12, different numbers",
    )
    assert later.after is not None and later.after.phones == ("07700900777",)
    assert result.summary["add"] == 1


def test_a_namesake_in_another_word_order_is_the_same_name() -> None:
    result = plan([NEW_PERSON_ROWS[0], record("13", "Person, New", "07700 900777")])
    assert item_for(result, "13").reason == "same name as contacts.csv:12, different numbers"


def test_every_later_namesake_names_the_first_row() -> None:
    result = plan([*NEW_PERSON_ROWS, record("14", "new person", "0161 496 0777")])
    assert [item_for(result, k).reason for k in ("13", "14")] == [
        "same name as contacts.csv:12, different numbers"
    ] * 2


def test_a_namesake_of_a_row_that_updates_a_contact_goes_to_review_too() -> None:
    book = [contact("30001", "New Person", "02079460777")]
    result = plan(NEW_PERSON_ROWS, book)
    assert (item_for(result, "12").action, item_for(result, "12").id) == ("unchanged", "30001")
    assert item_for(result, "13").action == "review"


def test_namesakes_already_two_contacts_in_the_phonebook_stay_two_and_are_kept() -> None:
    book = [
        contact("30001", "New Person", "02079460777"),
        contact("30002", "New Person", "07700900777"),
    ]
    result = plan(NEW_PERSON_ROWS, book, delete="owned", owned_ids=frozenset({"30001", "30002"}))
    assert [(i.action, i.id) for i in result.items] == [
        ("unchanged", "30001"), ("unchanged", "30002"),
    ]  # fmt: skip


def test_same_name_sharing_a_number_is_still_merged_as_a_repeat() -> None:
    result = plan([NEW_PERSON_ROWS[0], record("13", "New Person", "020 7946 0777", "07700 900777")])
    assert item_for(result, "13").action == "duplicate"
    first = item_for(result, "12")
    assert first.action == "add" and first.after is not None
    assert first.after.phones == ("02079460777", "07700900777")


def test_a_reviewer_can_add_the_later_namesake_as_a_second_contact() -> None:
    result = plan(NEW_PERSON_ROWS, decisions={"13": Decision("add")})
    assert [item_for(result, k).action for k in ("12", "13")] == ["add", "add"]


def test_rows_with_distinct_keys_are_two_people_whatever_their_names(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text(
        "Contact ID,Name,Phone\nC-12,New Person,020 7946 0777\nC-13,New Person,07700 900777\n",
        encoding="utf-8",
    )
    result = plan(open_source(path).records())
    assert [i.action for i in result.items] == ["add", "add"]
    assert not [w for i in result.items for w in i.warnings if "same name" in w]


def test_rows_of_a_file_without_keys_are_held_however_they_are_read(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "Name,Phone\nNew Person,020 7946 0777\nNew Person,07700 900777\n", encoding="utf-8"
    )
    result = plan(open_source(path).records())
    assert [i.action for i in result.items] == ["add", "review"]
    assert result.items[1].reason == "same name as contacts.csv:2, different numbers"
