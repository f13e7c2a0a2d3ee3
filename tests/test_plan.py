"""The planner: a labelled table of hard cases, policies, decisions, and the plan file."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planning_helpers import CREATED, apply_plan, contact, item_for, plan, record

from connector.errors import ConfigError, PlanError
from connector.model import KEY_SOURCE_ID, Contact, ContactFields, SourceRecord
from connector.reconcile.decisions import Decision, Snapshot, load_decisions
from connector.reconcile.names import name_key
from connector.reconcile.plan import ACTIONS, Plan, PlanItem, PlanSettings, item_to_json
from connector.reconcile.planfile import load_plan, plan_file_text, save_plan
from connector.reconcile.planner import make_plan
from connector.reconcile.workflow import cyclic_gc_paused
from connector.ui.plan_view import render_plan_csv

# -- the labelled table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """Record ``k`` against a phonebook: the action it must get, and the contact id."""

    label: str
    records: tuple[SourceRecord, ...]
    contacts: tuple[Contact, ...]
    action: str
    id: str | None = None
    phones: str = "merge"
    names: str = "phonebook"


def case(
    label: str,
    records: Sequence[SourceRecord],
    contacts: Sequence[Contact],
    action: str,
    contact_id: str | None = None,
    phones: str = "merge",
    names: str = "phonebook",
) -> Case:
    return Case(label, tuple(records), tuple(contacts), action, contact_id, phones, names)


JOHN = contact("30001", "John Smith", "07852902011")

CASES = [
    # Same contact, written differently: no pointless write.
    case("identical", [record("k", "John Smith", "07852902011")], [JOHN], "unchanged", "30001"),
    case(
        "number formats differ",
        [record("k", "John Smith", "+44 (0)7852 902011")],
        [JOHN],
        "unchanged",
        "30001",
    ),
    case(
        "phonebook number typed with spaces",
        [record("k", "John Smith", "+447852902011")],
        [contact("30001", "John Smith", "07852 902011")],
        "unchanged",
        "30001",
    ),
    case(
        "lost leading zero", [record("k", "John Smith", "7852902011")], [JOHN], "unchanged", "30001"
    ),
    case(
        "number order differs",
        [record("k", "John Smith", "01491 833000", "07852 902011")],
        [contact("30001", "John Smith", "07852902011", "01491833000")],
        "unchanged",
        "30001",
    ),
    case(
        "extension dropped",
        [record("k", "Acme Ltd", "020 7946 0123 ext 204")],
        [contact("30001", "Acme Ltd", "02079460123")],
        "unchanged",
        "30001",
    ),
    case(
        "international number",
        [record("k", "Dublin Office", "+353 1 234 5678")],
        [contact("30001", "Dublin Office", "+35312345678")],
        "unchanged",
        "30001",
    ),
    case(
        "internal extension",
        [record("k", "Reception", "1009")],
        [contact("30001", "Reception", "1009")],
        "unchanged",
        "30001",
    ),
    case(
        "merge keeps a number the source lacks",
        [record("k", "John Smith", "07852902011")],
        [contact("30001", "John Smith", "07852902011", "01491833000")],
        "unchanged",
        "30001",
    ),
    # The same name in another form: the phonebook's form is kept, nothing is written...
    case(
        "reordered name", [record("k", "Smith, John", "07852 902011")], [JOHN], "unchanged", "30001"
    ),
    case(
        "title added", [record("k", "Dr John Smith", "07852902011")], [JOHN], "unchanged", "30001"
    ),
    case("case only", [record("k", "john smith", "07852902011")], [JOHN], "unchanged", "30001"),
    case(
        "punctuation only",
        [record("k", "Mary-Jane O'Brien", "07700 900123")],
        [contact("30001", "Mary Jane OBrien", "07700900123")],
        "unchanged",
        "30001",
    ),
    case(
        "accents added",
        [record("k", "José Álvarez", "07700 900123")],
        [contact("30001", "Jose Alvarez", "07700900123")],
        "unchanged",
        "30001",
    ),
    case(
        "accents dropped",
        [record("k", "Jose Alvarez", "07700 900123")],
        [contact("30001", "José Álvarez", "07700900123")],
        "unchanged",
        "30001",
    ),
    case(
        "unicode name",
        [record("k", "Zoë Ó'Súilleabháin", "07852 902011")],
        [contact("30001", "Zoe O'Suilleabhain", "07852902011")],
        "unchanged",
        "30001",
    ),
    case(
        "company suffix spelled out",
        [record("k", "Acme Ltd", "01491 833000")],
        [contact("30001", "ACME Limited", "01491833000")],
        "unchanged",
        "30001",
    ),
    case(
        "name flipped and numbers swapped",
        [record("k", "Hartley, Amelia", "01632 960002", "07700 900001")],
        [contact("30001", "Amelia Hartley", "07700900001", "01632960002")],
        "unchanged",
        "30001",
    ),
    # A shorter name inside the phonebook's (a match on a shared number) keeps the
    # phonebook's fuller name; a longer one is written.
    case(
        "shorter source name inside the phonebook's",
        [record("k", "Kestrel", "0113 496 0123")],
        [contact("30001", "Kestrel Joinery Ltd", "01134960123")],
        "unchanged",
        "30001",
    ),
    case(
        "longer source name around the phonebook's",
        [record("k", "Kestrel Joinery Ltd", "0113 496 0123")],
        [contact("30001", "Kestrel", "01134960123")],
        "update",
        "30001",
    ),
    case(
        "shorter source name, source form asked for",
        [record("k", "Kestrel", "0113 496 0123")],
        [contact("30001", "Kestrel Joinery Ltd", "01134960123")],
        "update",
        "30001",
        names="source",
    ),
    # ...unless --names source asks for the source's form.
    case(
        "reordered name, source form asked for",
        [record("k", "Smith, John", "07852 902011")],
        [JOHN],
        "update",
        "30001",
        names="source",
    ),
    case(
        "accents added, source form asked for",
        [record("k", "José Álvarez", "07700 900123")],
        [contact("30001", "Jose Alvarez", "07700900123")],
        "update",
        "30001",
        names="source",
    ),
    # The same contact, changed: update it, never add a second one.
    case(
        "title and initial", [record("k", "Dr. J. Smith", "07852902011")], [JOHN], "update", "30001"
    ),
    case(
        "typo with same number",
        [record("k", "Jon Smith", "07852902011")],
        [JOHN],
        "update",
        "30001",
    ),
    case(
        "a new number",
        [record("k", "John Smith", "07852902011", "01491 833000")],
        [JOHN],
        "update",
        "30001",
    ),
    case(
        "replace drops a number the source lacks",
        [record("k", "John Smith", "07852902011")],
        [contact("30001", "John Smith", "07852902011", "01491833000")],
        "update",
        "30001",
        phones="replace",
    ),
    case(
        "phonebook duplicates: one is updated, no third",
        [record("k", "John Smith", "07852902011", "01491833000")],
        [JOHN, contact("30002", "John Smith", "07852 902011")],
        "update",
        "30001",
    ),
    # Different contacts behind one number: never merged.
    case(
        "shared switchboard, different companies",
        [record("k", "Beta Corp", "01491 833000")],
        [contact("30001", "Acme Ltd", "01491833000")],
        "add",
    ),
    case(
        "family landline, another member",
        [record("k", "Jane Smith", "01491 833000")],
        [contact("30001", "John Smith", "01491833000")],
        "review",
    ),
    case(
        "family landline, both members in the source",
        [record("j", "John Smith", "01491 833000"), record("k", "Jane Smith", "01491 833000")],
        [contact("30001", "John Smith", "01491833000")],
        "review",
    ),
    case(
        "colleagues behind the switchboard, both in the source",
        [
            record("j", "John Smith", "07852902011", "01491 833000"),
            record("k", "Mary Jones", "07911123456", "01491 833000"),
        ],
        [contact("30001", "John Smith", "07852902011", "01491833000")],
        "add",
    ),
    case(
        "nickname is not merged",
        [record("k", "Bob Jones", "07911 123456")],
        [contact("30001", "Robert Jones", "07911123456")],
        "review",
    ),
    case(
        "married name",
        [record("k", "Jane Brown", "07852 902011")],
        [contact("30001", "Jane Smith", "07852902011")],
        "review",
    ),
    case(
        "middle name added",
        [record("k", "John Michael Smith", "07852 902011")],
        [JOHN],
        "review",
    ),
    case(
        "departments behind one switchboard",
        [record("k", "Acme Plumbing Ltd", "01491 833000")],
        [contact("30001", "Acme Heating Ltd", "01491833000")],
        "review",
    ),
    case(
        "same name, different number",
        [record("k", "John Smith", "07700 900001")],
        [JOHN],
        "review",
    ),
    case(
        "similar name, different number",
        [record("k", "Jon Smith", "07700 900001")],
        [JOHN],
        "review",
    ),
    case(
        "same name, different person already matched",
        [
            record("j", "John Smith", "07852902011", key_kind=KEY_SOURCE_ID),
            record("k", "John Smith", "07700 900001", key_kind=KEY_SOURCE_ID),
        ],
        [JOHN],
        "add",
    ),
    case(
        "same name, other numbers, in a source without keys",
        [record("j", "John Smith", "07852902011"), record("k", "John Smith", "07700 900001")],
        [JOHN],
        "review",
    ),
    case(
        "two records claim one contact",
        [record("j", "J Smith", "07852902011"), record("k", "John Smyth", "07852902011")],
        [JOHN],
        "review",
    ),
    case(
        "unrelated",
        [record("k", "Mary Jones", "07911 123456")],
        [JOHN],
        "add",
    ),
    # Records that cannot be used, and repeats.
    case("no usable number", [record("k", "John Smith", "n/a")], [JOHN], "rejected"),
    case("impossible number", [record("k", "John Smith", "0123")], [JOHN], "rejected"),
    case("no name", [record("k", "   ", "07852902011")], [JOHN], "rejected"),
    case(
        "source problem",
        [record("k", "John Smith", "07852902011", problems=["row has 3 columns, expected 5"])],
        [JOHN],
        "rejected",
    ),
    case(
        "same person twice in the file",
        [record("j", "John Smith", "07852902011"), record("k", "Smith, John", "07852 902011")],
        [JOHN],
        "duplicate",
        "30001",
    ),
]


@pytest.mark.parametrize("c", CASES, ids=[c.label for c in CASES])
def test_labelled_case(c: Case) -> None:
    result = plan(c.records, c.contacts, phones=c.phones, names=c.names)
    item = item_for(result, "k")
    assert (item.action, item.id) == (c.action, c.id), item.reason
    assert item.reason
    assert len([i for i in result.items if i.source]) == len(c.records)


def test_labelled_cases_never_merge_into_a_contact_of_another_name() -> None:
    """Across the table: an update never renames a contact to a clearly different name."""
    for c in CASES:
        for item in plan(c.records, c.contacts, phones=c.phones, names=c.names).items:
            if item.action == "update":
                assert item.before and item.after
                # A lower score only for one name inside the other on a shared number.
                inside = " is contained in " in item.reason or " is short for " in item.reason
                assert item.score is not None and (item.score >= 88 or inside), (c.label, item)


# -- details of items ------------------------------------------------------------------------


def test_a_contact_is_its_id_and_its_fields() -> None:
    stored = Contact("30001", "John Smith", "07852902011", "", "01491833000")
    assert stored.fields == ContactFields("John Smith", "07852902011", "", "01491833000")
    assert stored.phones == stored.fields.phones == ("07852902011", "01491833000")
    assert stored.to_dict() == {"id": "30001", **stored.fields.to_json()}


def test_update_shows_before_after_and_what_changes() -> None:
    result = plan([record("k", "Jon Smith", "07852902011", "07730 885627")], [JOHN])
    item = item_for(result, "k")
    assert item.before == ContactFields("John Smith", "07852902011")
    assert item.after == ContactFields("Jon Smith", "07852902011", "07730885627")
    assert item.reason == (
        "name alike (92.9), same number 07852902011; name differs; adds 07730885627"
    )
    assert item.score == 92.9


def test_case_only_change_says_so_when_the_source_form_is_asked_for() -> None:
    item = item_for(plan([record("k", "john smith", "07852902011")], [JOHN], names="source"), "k")
    assert item.reason.endswith("name case differs")


def test_a_name_in_another_form_is_kept_and_said_so() -> None:
    item = item_for(plan([record("k", "Smith, John", "07852902011")], [JOHN]), "k")
    assert (item.action, item.after) == ("unchanged", JOHN.fields)
    assert item.reason == (
        "same name, same number 07852902011;"
        ' the phonebook\'s name form kept (the source says "Smith, John")'
    )


def test_an_update_keeps_the_phonebook_name_form_and_writes_only_the_new_number() -> None:
    book = [contact("30001", "Amelia  Hartley", "07700900001")]
    item = item_for(
        plan([record("k", "HARTLEY, Amelia", "07700 900001", "01632 960002")], book), "k"
    )
    assert item.action == "update"
    assert item.after == ContactFields("Amelia  Hartley", "07700900001", "01632960002")
    assert item.reason.endswith("adds 01632960002")


def test_source_names_rename_and_leave_the_numbers_in_their_slots() -> None:
    book = [contact("30001", "Amelia Hartley", "07700 900001", "01632960002")]
    records = [record("k", "Hartley, Amelia", "01632 960002", "07700900001")]
    item = item_for(plan(records, book, names="source"), "k")
    assert item.action == "update"
    assert item.after == ContactFields("Hartley, Amelia", "07700 900001", "01632960002")
    assert item.reason.endswith("name spelling differs")


def test_names_policy_is_a_setting() -> None:
    assert PlanSettings().names == "phonebook"
    with pytest.raises(ConfigError, match="names policy must be one of phonebook, source"):
        PlanSettings(names="crm")


def test_merge_puts_source_numbers_first_then_kept_ones() -> None:
    result = plan(
        [record("k", "John Smith", "01491 833000", "07852902011")],
        [contact("30001", "John Smith", "07852902011", "07700 900999")],
    )
    assert item_for(result, "k").after == ContactFields(
        "John Smith", "01491833000", "07852902011", "07700900999"
    )


def test_merge_reports_a_phonebook_number_that_no_longer_fits() -> None:
    result = plan(
        [record("k", "John Smith", "07852902011", "01614960000", "01134960000")],
        [contact("30001", "John Smith", "07852902011", "01491833000")],
    )
    item = item_for(result, "k")
    assert item.after is not None and item.after.phones == (
        "07852902011",
        "01614960000",
        "01134960000",
    )
    assert "phonebook number 01491833000 no longer fits (Sipalto holds 3)" in item.warnings
    assert item.reason.endswith("drops 01491833000")


def test_rejected_items_say_why() -> None:
    result = plan(
        [
            record("a", "John Smith", "n/a", "tbc"),
            record("b", "", "07852902011"),
            record("c", "Jane", "0123"),
            record("d", "Joe", problems=["no phone column"]),
            record("e", "Joe"),
        ]
    )
    reasons = {i.source.key: i.reason for i in result.items if i.source}
    assert reasons == {
        "a": "no usable phone number (n/a; tbc)",
        "b": "no name",
        "c": "no usable phone number (0123: not a possible phone number (too short), dropped)",
        "d": "no phone column",
        "e": "no phone number",
    }
    assert all(i.id is None and i.source for i in result.items)


def test_a_repeated_key_is_rejected() -> None:
    result = plan(
        [record("k", "John Smith", "07852902011"), record("k", "Jane Doe", "07911123456")]
    )
    assert [i.action for i in result.items] == ["add", "rejected"]
    assert result.items[1].reason == "key k repeats contacts.csv:k"


def test_warnings_carry_through_to_the_item() -> None:
    result = plan([record("k", "Acme", "020 7946 0123 x204", "0123", notes=["fax skipped"])])
    assert item_for(result, "k").warnings == (
        "fax skipped",
        "extension 204 dropped from 020 7946 0123 x204",
        "0123: not a possible phone number (too short), dropped",
    )


def test_review_lists_candidates_with_scores() -> None:
    result = plan(
        [record("k", "John Smith", "07700 900001")],
        [
            JOHN,
            contact("30002", "John Smith", "01491833000"),
            contact("30003", "Mary", "07700900002"),
        ],
    )
    item = item_for(result, "k")
    assert item.action == "review"
    assert [(c.id, c.score) for c in item.candidates] == [("30001", 50.0), ("30002", 50.0)]
    assert item.after == ContactFields("John Smith", "07700900001")
    assert item.reason == "same name, no number in common"


def test_phonebook_duplicate_gets_its_own_item_and_a_warning_on_the_update() -> None:
    result = plan(
        [record("k", "John Smith", "07852902011", "01491833000")],
        [JOHN, contact("30002", "John Smith", "07852 902011")],
    )
    update, duplicate = result.items
    assert update.warnings == (
        "phonebook duplicate 30002 (John Smith) same name, same number 07852902011; left as is",
    )
    assert (duplicate.action, duplicate.id, duplicate.source) == ("duplicate", "30002", None)
    assert duplicate.before == ContactFields("John Smith", "07852 902011")
    assert duplicate.reason == (
        "phonebook duplicate of 30001 (John Smith), which contacts.csv:k matches; left as is"
    )


def test_repeated_record_is_merged_into_the_first() -> None:
    result = plan(
        [
            record("j", "John Smith", "07852902011"),
            record("k", "John Smith", "07852 902011", "01491833000"),
        ],
    )
    first, repeat = result.items
    assert first.action == "add"
    assert first.after == ContactFields("John Smith", "07852902011", "01491833000")
    assert first.warnings == ("contacts.csv:k repeats this record; merged",)
    assert repeat.action == "duplicate"
    assert repeat.reason == (
        "repeats contacts.csv:j (John Smith): same name, same number 07852902011; merged there"
    )


def test_items_come_in_source_order_then_phonebook_items_by_id() -> None:
    result = plan(
        [record("b", "Zed", "07911123456"), record("a", "John Smith", "07852902011")],
        [contact("30010", "John Smith", "07852902011"), contact("9", "John Smith", "07852902011")],
    )
    assert [(i.action, i.id) for i in result.items] == [
        ("add", None),
        ("unchanged", "9"),
        ("duplicate", "30010"),
    ]


def test_summary_counts_every_action() -> None:
    result = plan([record("k", "John Smith", "07852902011"), record("r", "X", "n/a")], [JOHN])
    assert list(result.summary) == list(ACTIONS)
    assert result.summary["unchanged"] == 1
    assert result.summary["rejected"] == 1
    assert not result.has_changes


# -- decisions ------------------------------------------------------------------------------


def test_decision_match_resolves_a_review() -> None:
    records = [record("k", "Bob Jones", "07911 123456")]
    contacts = [contact("30001", "Robert Jones", "07911123456")]
    result = plan(records, contacts, decisions={"k": Decision("match", "30001")})
    item = item_for(result, "k")
    assert (item.action, item.id) == ("update", "30001")
    assert item.reason.startswith(
        "matched by decision, though the names differ (name score 72.2); same number 07911123456"
    )
    assert result.settings.decisions == {"k": Decision("match", "30001")}


def test_decision_add_and_skip() -> None:
    records = [record("k", "Bob Jones", "07911 123456"), record("s", "John Smith", "07852902011")]
    contacts = [contact("30001", "Robert Jones", "07911123456"), JOHN]
    decisions = {"k": Decision("add"), "s": Decision("skip")}
    result = plan(records, contacts, decisions=decisions)
    assert [(i.action, i.reason) for i in result.items] == [
        ("add", "added by decision"),
        ("skip", "skipped by decision"),
    ]


def test_decision_for_a_missing_contact_is_a_review() -> None:
    result = plan(
        [record("k", "Bob", "07911123456")], [], decisions={"k": Decision("match", "999")}
    )
    item = item_for(result, "k")
    assert item.action == "review"
    assert "the phonebook has no contact 999" in item.reason


def test_decision_for_an_unknown_key_is_a_plan_warning() -> None:
    result = plan([], [], decisions={"gone": Decision("add")})
    assert result.warnings == ("decision for gone ignored: no such source record",)


def test_the_same_contact_decided_twice_is_refused_the_second_time() -> None:
    records = [record("a", "Bob", "07911123456"), record("b", "Rob", "07911123457")]
    decisions = {"a": Decision("match", "30001"), "b": Decision("match", "30001")}
    result = plan(records, [contact("30001", "Robert", "07911123456")], decisions=decisions)
    assert [i.action for i in result.items] == ["update", "review"]
    assert "30001 is already decided for a" in result.items[1].reason


def test_decisions_load_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "decisions.yaml"
    path.write_text('C1: {match: 30001}\nC2: add\n"row:17": skip\nC4: match 30002\n')
    assert load_decisions(path) == {
        "C1": Decision("match", "30001"),
        "C2": Decision("add"),
        "row:17": Decision("skip"),
        "C4": Decision("match", "30002"),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("C1: merge\n", r"decisions\.yml:1: C1: expected add, skip or match <contact id>"),
        ("- a\n- b\n", "mapping"),
        ("C1: {match: }\n", r"decisions\.yml:1: C1\.match: must not be empty"),
        ("C1: [\n", "not valid YAML"),
    ],
)
def test_bad_yaml_decisions_are_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "decisions.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_decisions(path)


def test_preview_csv_filled_in_feeds_back_as_decisions(tmp_path: Path) -> None:
    records = [record("=k", "Bob Jones", "07911 123456"), record("j", "Jane", "07852902011")]
    contacts = [contact("30001", "Robert Jones", "07911123456")]
    first = plan(records, contacts)
    path = tmp_path / "review.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        render_plan_csv(first, fh)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[1].startswith("review,'=k,")
    lines[1] = lines[1] + "match 30001"  # the decision column is last
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    decisions = load_decisions(path)
    # The row is what the decision was made about: the record, and the chosen candidate.
    assert decisions == {
        "=k": Decision(
            "match",
            "30001",
            record=Snapshot("Bob Jones", ("07911123456",)),
            contact=Snapshot("Robert Jones", ("07911123456",)),
        )
    }
    second = plan(records, contacts, decisions=decisions)
    assert item_for(second, "=k").action == "update"


def test_csv_decisions_accept_bare_ids_and_spreadsheet_dialects(tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    path.write_text(
        "\ufeffsource_key;decision\nC1;30001\nC2; ADD \nC3;\nC4;skip\n", encoding="utf-8"
    )
    assert load_decisions(path) == {
        "C1": Decision("match", "30001"),
        "C2": Decision("add"),
        "C4": Decision("skip"),
    }


@pytest.mark.parametrize(
    "text",
    [
        "sep=;\nsource_key;decision\nC1;add\nC2;30001\n",  # Excel's delimiter line
        "source_key|decision\nC1|add\nC2|30001\n",
        # More commas than semicolons on the first line: the rows settle it.
        'source_key;decision;"reason, score, candidates"\nC1;add;x\nC2;30001;y\n',
    ],
)
def test_csv_decisions_are_sniffed_like_csv_sources(tmp_path: Path, text: str) -> None:
    path = tmp_path / "decisions.csv"
    path.write_text(text, encoding="utf-8")
    assert load_decisions(path) == {"C1": Decision("add"), "C2": Decision("match", "30001")}


def test_csv_decisions_count_the_sep_line_in_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    path.write_text("sep=,\nsource_key,decision\nC1,add\nC2,merge please\n")
    with pytest.raises(ConfigError, match=r"decisions.csv:4: decision: expected add, skip"):
        load_decisions(path)


def test_csv_decisions_report_the_line_of_a_bad_cell(tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    path.write_text("source_key,decision\nC1,add\nC2,merge please\n")
    with pytest.raises(ConfigError, match=r"decisions.csv:3: decision: expected add, skip"):
        load_decisions(path)
    path.write_text("key,choice\nC1,add\n")
    with pytest.raises(ConfigError, match=r"csv:1: needs a source_key column and a decision"):
        load_decisions(path)


# -- delete policy ----------------------------------------------------------------------------


def test_delete_policy_never_deletes_nothing() -> None:
    result = plan([], [JOHN], owned_ids=frozenset({"30001"}))
    assert result.items == ()


def test_owned_policy_deletes_only_owned_contacts_no_record_accounts_for() -> None:
    contacts = [
        JOHN,  # owned, still in the source
        contact("30002", "Gone Person", "07911123456"),  # owned, gone: deleted
        contact("30003", "Not Ours", "07911123457"),  # not owned: kept
        contact("30004", "Jane Smith", "07700900001"),  # owned, a review candidate: kept
        contact("30005", "Broken Record", "07700900002"),  # owned, its record is rejected: kept
    ]
    records = [
        record("a", "John Smith", "07852902011"),
        record("b", "Jane Smith", "07700900003"),
        record("c", "Broken Record", "n/a"),
    ]
    owned = frozenset({"30001", "30002", "30004", "30005"})
    result = plan(records, contacts, delete="owned", owned_ids=owned)
    deletes = [i for i in result.items if i.action == "delete"]
    assert [(i.id, i.before) for i in deletes] == [
        ("30002", ContactFields("Gone Person", "07911123456"))
    ]


def test_owned_policy_needs_the_ownership_set() -> None:
    with pytest.raises(ConfigError, match="owned"):
        plan([], [], delete="owned")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"phones": "union"}, "phones policy"),
        ({"delete": "all"}, "delete policy"),
        ({"region": "XX"}, "unknown region"),
    ],
)
def test_bad_settings_are_a_config_error(option: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PlanSettings(**option)


def test_region_is_stored_upper_case() -> None:
    assert PlanSettings(region="gb").region == "GB"


# -- the plan file --------------------------------------------------------------------------

SAMPLE_RECORDS = [
    record("a", "Jon Smith", "07852902011", "020 7946 0123 ext 204"),
    record("b", "Jane Smith", "01491 833000"),
    record("c", "Nobody", "n/a"),
    record("d", "Zoë New", "+353 1 234 5678"),
    record("e", "Smith, Jon", "07852 902011"),
]
SAMPLE_CONTACTS = [JOHN, contact("30002", "John Smith", "01491833000")]


def test_plan_json_round_trips() -> None:
    result = plan(SAMPLE_RECORDS, SAMPLE_CONTACTS, decisions={"x": Decision("skip")})
    data = json.loads(json.dumps(result.to_json()))
    assert Plan.from_json(data) == result
    assert data["version"] == 1
    assert data["created_at"] == CREATED.isoformat()
    assert data["base"].startswith("sha256:")
    assert data["summary"] == result.summary
    assert data["settings"]["decisions"] == {"x": "skip"}
    assert set(data["items"][0]) == {
        "action",
        "id",
        "before",
        "after",
        "source",
        "reason",
        "score",
        "warnings",
        "candidates",
    }


def test_names_setting_is_in_the_plan_file_and_older_files_load_without_it() -> None:
    data = plan(SAMPLE_RECORDS, SAMPLE_CONTACTS).to_json()
    assert data["settings"]["names"] == "phonebook"
    del data["settings"]["names"]
    # A plan made before the setting existed wrote the source's form.
    assert Plan.from_json(data).settings.names == "source"


def test_save_and_load_plan(tmp_path: Path) -> None:
    result = plan(SAMPLE_RECORDS, SAMPLE_CONTACTS)
    path = tmp_path / "plan.json"
    save_plan(result, path)
    assert load_plan(path) == result
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_plan_file_is_indented_json_with_one_item_a_line(tmp_path: Path) -> None:
    result = plan(SAMPLE_RECORDS, SAMPLE_CONTACTS)
    path = tmp_path / "plan.json"
    save_plan(result, path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == result.to_json()
    head, items = text.split('  "items": [\n')
    expected_head = json.dumps(result.head_to_json(), indent=2, ensure_ascii=False)
    assert head == expected_head[: -len("\n}")] + ",\n"
    lines = items.split("\n")
    assert lines[-3:] == ["  ]", "}", ""]
    assert len(lines[:-3]) == len(result.items) >= 5
    for line, item in zip(lines[:-3], result.items, strict=True):
        assert line.startswith('    {"action":"')
        assert json.loads(line.rstrip(",")) == item_to_json(item)
    assert "Zoë New" in text  # UTF-8 as written, not \u escapes


def test_plan_file_of_thousands_of_items_has_each_on_its_line_in_order(tmp_path: Path) -> None:
    sample = plan(SAMPLE_RECORDS, SAMPLE_CONTACTS)
    many = replace(sample, items=sample.items * 500)  # items are written in batches
    save_plan(many, tmp_path / "plan.json")
    text = (tmp_path / "plan.json").read_text(encoding="utf-8")
    assert json.loads(text) == many.to_json()
    lines = text.split('  "items": [\n')[1].split("\n")[:-3]
    assert len(lines) == len(many.items) > 2 * 1024
    assert all(line.startswith('    {"action":"') for line in lines)
    assert all(line.endswith("},") for line in lines[:-1]) and lines[-1].endswith("}")


def test_plan_file_of_a_plan_with_no_items(tmp_path: Path) -> None:
    empty = plan([], [])
    save_plan(empty, tmp_path / "plan.json")
    text = (tmp_path / "plan.json").read_text(encoding="utf-8")
    assert text.endswith('  "warnings": [],\n  "items": []\n}\n')
    assert load_plan(tmp_path / "plan.json") == empty


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(version=2), "version 2 is not supported"),
        (lambda d: d.pop("items"), "items must be a list"),
        (lambda d: d["items"][0].update(action="merge"), "plan item 1 has unknown action 'merge'"),
        (lambda d: d["items"][0].update(score="high"), "plan item 1 score must be a number"),
        (
            lambda d: d["items"][0].update(before={"name": 1}),
            "plan item 1 before: contact fields must be strings",
        ),
        (lambda d: d["items"][1].update(reason=None), "plan item 2 reason must be a string"),
        (lambda d: d["items"][1].update(source=[]), "plan item 2 source must be an object"),
        (lambda d: d["items"].__setitem__(2, "add"), "plan item 3 must be an object"),
        (lambda d: d["settings"].update(phones="union"), "bad settings"),
        (lambda d: d.update(created_at="yesterday"), "created_at"),
        (lambda d: d["summary"].update(add=99), "summary does not match"),
    ],
)
def test_a_bad_plan_file_is_a_plan_error(
    mutate: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = plan(SAMPLE_RECORDS, SAMPLE_CONTACTS).to_json()
    mutate(data)
    with pytest.raises(PlanError, match=message):
        Plan.from_json(data)


def test_unreadable_plan_files_are_plan_errors(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read"):
        load_plan(tmp_path / "missing.json")
    (tmp_path / "junk.json").write_text("<html>")
    with pytest.raises(PlanError, match="invalid JSON"):
        load_plan(tmp_path / "junk.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(PlanError, match="plan must be an object"):
        load_plan(tmp_path / "list.json")


def test_plan_defaults_give_a_fresh_id_and_time() -> None:
    first, second = make_plan([], []), make_plan([], [])
    assert first.plan_id != second.plan_id and len(first.plan_id) == 32
    assert first.created_at.tzinfo is not None


# -- properties ------------------------------------------------------------------------------

NUMBERS = ["07852902011", "01491833000", "02079460123", "07700900999", "1009"]
SPELLINGS = ["{n}", "+44 {r}", "0044 {r}", "{n} (mobile)", "{r}"]
NAMES = [
    "John Smith",
    "Jon Smith",
    "Smith, John",
    "Jane Smith",
    "J Smith",
    "Acme Ltd",
    "ACME Limited",
    "José Álvarez",
    "Jose Alvarez",
    "Bob Jones",
    "Robert Jones",
    "JOHN SMITH",
    "Dr John Smith",
    "Amelia Hartley",
    "Hartley, Amelia",
    "Mrs AMELIA HARTLEY",
    "",
]


@st.composite
def written_number(draw: st.DrawFn) -> str:
    number = draw(st.sampled_from(NUMBERS))
    if not number.startswith("0"):
        return number
    spelling = draw(st.sampled_from(SPELLINGS))
    return spelling.format(n=number, r=number[1:])


World = tuple[list[SourceRecord], list[Contact]]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    phone = st.one_of(written_number(), st.sampled_from(["n/a", "0123"]))
    records = [
        record(f"k{i}", draw(st.sampled_from(NAMES)), *draw(st.lists(phone, max_size=4)))
        for i in range(draw(st.integers(0, 6)))
    ]
    contacts = [
        contact(
            str(30001 + i),
            draw(st.sampled_from(NAMES[:-1])),
            *draw(st.lists(written_number(), min_size=1, max_size=3)),
        )
        for i in range(draw(st.integers(0, 6)))
    ]
    return records, contacts


@given(worlds(), st.sampled_from(["merge", "replace"]), st.sampled_from(["phonebook", "source"]))
@settings(max_examples=150, deadline=None)
def test_planning_is_deterministic(world: World, phones: str, names: str) -> None:
    records, contacts = world
    first = plan(records, contacts, phones=phones, names=names)
    assert plan(records, contacts, phones=phones, names=names) == first
    assert plan(records, list(reversed(contacts)), phones=phones, names=names) == first


@given(worlds(), st.sampled_from(["merge", "replace"]), st.sampled_from(["phonebook", "source"]))
@settings(max_examples=200, deadline=None)
def test_after_applying_a_plan_planning_again_changes_nothing(
    world: World, phones: str, names: str
) -> None:
    records, contacts = world
    first = plan(records, contacts, phones=phones, names=names)
    book = apply_plan(first, contacts)
    again = plan(records, book, phones=phones, names=names)
    changes = [i for i in again.items if i.action in ("add", "update", "delete")]
    assert changes == [], (first.items, again.items)


@given(worlds())
@settings(max_examples=100, deadline=None)
def test_every_record_gets_exactly_one_item_and_no_contact_is_written_twice(world: World) -> None:
    records, contacts = world
    result = plan(records, contacts)
    assert [i.source.key for i in result.items if i.source] == [r.key for r in records]
    written = [i.id for i in result.items if i.action in ("update", "delete")]
    assert len(written) == len(set(written))
    for item in result.items:
        if item.after is not None:
            assert len(item.after.phones) <= 3


@given(worlds())
@settings(max_examples=100, deadline=None)
def test_by_default_no_update_writes_a_name_that_differs_only_in_form(world: World) -> None:
    records, contacts = world
    for item in plan(records, contacts).items:
        if item.action == "update":
            assert item.before is not None and item.after is not None
            renamed = item.before.name != item.after.name
            assert not renamed or name_key(item.before.name) != name_key(item.after.name)
            if set(item.before.phones) == set(item.after.phones):
                assert renamed, item  # numbers in another slot order alone are no change


def test_dataclass_replace_keeps_plans_frozen() -> None:
    result = plan([record("k", "John Smith", "07852902011")])
    with pytest.raises(AttributeError):
        result.items = ()  # type: ignore[misc]
    assert replace(result, server="x").server == "x"


def test_the_planner_leaves_the_garbage_collector_alone() -> None:
    seen: list[bool] = []

    def records() -> Any:
        seen.append(gc.isenabled())
        yield record("r1", "Ann Archer", "01632 960001")

    assert gc.isenabled()
    made = make_plan(records(), [], PlanSettings())
    assert seen == [True] and gc.isenabled()
    assert [item.action for item in made.items] == ["add"]


def test_the_workflow_pauses_the_collector_and_restores_it() -> None:
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_line_break_in_a_value_keeps_each_item_on_its_own_line(tmp_path: Path) -> None:
    """Items are encoded a batch at a time and split where each one ends: a line break or
    another control character inside a value is written escaped and splits nothing, in
    the first batch or a later one."""
    odd = 'Ann\nLine\r\u2028Two\t"quoted", \\ end'
    items = [
        PlanItem("add", after=ContactFields(f"{odd} {n}", "07852902011"), reason=odd,
                 warnings=(odd,))
        for n in range(2 * 1024 + 5)
    ]  # fmt: skip
    made = Plan("0" * 32, CREATED, "", "", PlanSettings(), tuple(items), ())
    text = plan_file_text(made)
    lines = text.split('  "items": [\n')[1].split("\n")[:-2]
    assert len(lines) == len(items)
    assert all(json.loads(line.strip().removesuffix(","))["reason"] == odd for line in lines)
    save_plan(made, tmp_path / "plan.json")
    assert load_plan(tmp_path / "plan.json") == made


@given(worlds(), st.sampled_from(["merge", "replace"]))
@settings(max_examples=100, deadline=None)
def test_each_item_line_is_the_compact_json_of_item_to_json(world: World, phones: str) -> None:
    """The plan file's items are encoded straight from the dataclasses; each line must be
    the very JSON of ``item_to_json``, candidates flattened, ``sync`` and ``own`` only
    when set."""
    records, contacts = world
    made = plan(records, contacts, phones=phones)
    kept = [
        replace(item, sync="kept", own=ContactFields("As the job wrote it", "07852902011"))
        for item in made.items
        if item.action == "unchanged"
    ]
    made = replace(made, items=made.items + tuple(kept))
    if not made.items:
        return  # "items": [] on the line of its key, tested on its own
    lines = plan_file_text(made).split('  "items": [\n')[1].split("\n")[:-2]
    expected = [
        json.dumps(item_to_json(item), ensure_ascii=False, separators=(",", ":"))
        for item in made.items
    ]
    assert [line.strip().removesuffix(",") for line in lines] == expected
