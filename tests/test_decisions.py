"""Decisions that no longer fit their record: what a decision was made about, the checks
that keep a stale or misplaced decision from writing, and the files that carry them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from planning_helpers import apply_plan, contact, item_for, plan, record

from connector.model import Contact, SourceRecord
from connector.reconcile.decisions import (
    DECISION_ACTIONS,
    Decision,
    Snapshot,
    load_decisions,
    parse_decision,
)
from connector.reconcile.fit import recorded_decisions
from connector.reconcile.plan import Plan
from connector.ui.plan_view import render_plan_csv, render_plan_decisions, render_plan_text

RECEPTION = contact("30012", "Reception", "02079460000")
KEVIN_ROW = record("row:14", "Ng, Kevin", "07700 900123")
DESK = Snapshot("Reception Desk", ("02079460000",))
SEEN_RECEPTION = Snapshot("Reception", ("02079460000",))


def match(contact_id: str, seen: Snapshot | None = None, chosen: Snapshot | None = None):
    return Decision("match", contact_id, record=seen, contact=chosen)


def writes_to(result: Plan, contact_id: str) -> list[str]:
    return [i.action for i in result.items if i.id == contact_id and i.action == "update"]


# -- a decision that says what it was made about ---------------------------------------------


def test_decision_made_for_the_record_that_was_on_row_14_is_not_used_for_the_one_there_now():
    # Two rows above row 14 were deleted: row 14 is now Kevin, not the Reception Desk the
    # reviewer matched to 30012.
    decisions = {"row:14": match("30012", DESK, SEEN_RECEPTION)}
    result = plan([KEVIN_ROW], [RECEPTION], decisions=decisions)
    item = item_for(result, "row:14")
    assert item.action == "review"
    assert item.reason == (
        "decision 'match 30012' was made for Reception Desk (02079460000); this record is now"
        " Ng, Kevin (07700900123): another name and no number in common"
    )
    assert writes_to(result, "30012") == []
    assert not result.has_changes


def test_recorded_decision_whose_record_was_renamed_goes_to_review() -> None:
    decisions = {"k": match("30012", DESK, SEEN_RECEPTION)}
    result = plan([record("k", "Switchboard", "020 7946 0000")], [RECEPTION], decisions=decisions)
    item = item_for(result, "k")
    assert item.action == "review"
    assert item.reason.endswith("this record is now Switchboard (02079460000): another name")


def test_recorded_decision_whose_record_shares_no_number_with_what_it_saw_goes_to_review():
    decisions = {"k": match("30012", DESK, SEEN_RECEPTION)}
    result = plan(
        [record("k", "Reception Desk", "0161 496 0000")], [RECEPTION], decisions=decisions
    )
    item = item_for(result, "k")
    assert item.action == "review"
    assert item.reason.endswith("(01614960000): no number in common")


def test_recorded_decision_still_fits_a_reformatted_number_and_another_name_form() -> None:
    decisions = {"k": match("30012", DESK, SEEN_RECEPTION)}
    records = [record("k", "DESK, Reception", "+44 (0)20 7946 0000", "07700 900555")]
    result = plan(records, [RECEPTION], decisions=decisions)
    item = item_for(result, "k")
    assert (item.action, item.id) == ("update", "30012")
    assert item.reason.startswith("matched by decision, though the names differ")


@pytest.mark.parametrize("action", ["add", "skip"])
def test_recorded_add_or_skip_no_longer_fitting_its_record_goes_to_review(action: str) -> None:
    decisions = {"row:14": Decision(action, record=DESK)}
    result = plan([KEVIN_ROW], [RECEPTION], decisions=decisions)
    item = item_for(result, "row:14")
    assert item.action == "review"
    assert item.reason.startswith(f"decision '{action}' was made for Reception Desk")


def test_recorded_decision_whose_contact_was_renamed_goes_to_review() -> None:
    decisions = {"k": match("30012", DESK, SEEN_RECEPTION)}
    renamed = contact("30012", "Ng, Kevin", "020 7946 0000")
    result = plan([record("k", "Reception Desk", "020 7946 0000")], [renamed], decisions=decisions)
    item = item_for(result, "k")
    assert item.action == "review"
    assert item.reason == (
        "decision 'match 30012' was made when 30012 was Reception (02079460000); it is now"
        " Ng, Kevin (02079460000): another name"
    )
    assert writes_to(result, "30012") == []


def test_recorded_decision_whose_contact_changed_its_numbers_goes_to_review() -> None:
    decisions = {"k": match("30012", DESK, SEEN_RECEPTION)}
    moved = contact("30012", "Reception", "0161 496 0999")
    result = plan([record("k", "Reception Desk", "020 7946 0000")], [moved], decisions=decisions)
    item = item_for(result, "k")
    assert item.action == "review"
    assert item.reason.endswith("it is now Reception (01614960999): no number in common")


def test_recorded_decision_whose_contact_is_gone_goes_to_review() -> None:
    decisions = {"k": match("30012", DESK, SEEN_RECEPTION)}
    result = plan([record("k", "Reception Desk", "020 7946 0000")], [], decisions=decisions)
    item = item_for(result, "k")
    assert item.action == "review"
    assert item.reason == (
        "decision 'match 30012' cannot be used: the phonebook has no contact 30012"
        " (it was Reception (02079460000))"
    )


@pytest.mark.parametrize("phones", ["merge", "replace"])
def test_recorded_decision_stays_in_force_once_applied(phones: str) -> None:
    # Applying the decision renames 30012 and (replace) changes its numbers: the contact no
    # longer looks like what the reviewer saw, but it is what the decision made of it.
    decisions = {"k": match("30012", DESK, SEEN_RECEPTION)}
    records = [record("k", "Reception Desk", "020 7946 0000", "020 7946 0001")]
    contacts = [contact("30012", "Reception", "020 7946 0000", "0161 496 0000")]
    first = plan(records, contacts, decisions=decisions, phones=phones)
    assert item_for(first, "k").action == "update"
    second = plan(records, apply_plan(first, contacts), decisions=decisions, phones=phones)
    assert (item_for(second, "k").action, item_for(second, "k").id) == ("unchanged", "30012")


# -- a decision written by hand ---------------------------------------------------------------


def test_hand_written_row_decision_for_a_record_with_nothing_in_common_goes_to_review() -> None:
    result = plan([KEVIN_ROW], [RECEPTION], decisions={"row:14": match("30012")})
    item = item_for(result, "row:14")
    assert item.action == "review"
    assert item.reason == (
        "the decision does not fit this record: 'match 30012' names 30012 Reception"
        " (02079460000), which shares no number with Ng, Kevin (07700900123) and has a name"
        " unlike it (name score 51.4)"
    )
    assert not result.has_changes


def test_hand_written_match_sharing_a_number_but_not_the_name_is_applied_and_says_so() -> None:
    records = [record("k", "Main Office", "020 7946 0000")]
    result = plan(records, [RECEPTION], decisions={"k": match("30012")})
    item = item_for(result, "k")
    assert (item.action, item.id) == ("update", "30012")
    assert item.reason.startswith(
        "matched by decision, though the names differ (name score 45.4); same number 02079460000"
    )


def test_hand_written_match_with_the_same_name_and_no_number_in_common_is_applied_and_says_so():
    records = [record("k", "Reception", "0161 496 0000")]
    result = plan(records, [RECEPTION], decisions={"k": match("30012")})
    item = item_for(result, "k")
    assert (item.action, item.id) == ("update", "30012")
    assert item.reason.startswith("matched by decision, though no number is shared (same name)")


def test_match_a_reviewer_made_seeing_both_sides_is_applied_however_unlike_they_are() -> None:
    # Seen in the preview: the reviewer chose it knowing the two share nothing.
    seen_kevin = Snapshot("Ng, Kevin", ("07700900123",))
    decisions = {"row:14": match("30012", seen_kevin, SEEN_RECEPTION)}
    result = plan([KEVIN_ROW], [RECEPTION], decisions=decisions)
    item = item_for(result, "row:14")
    assert (item.action, item.id) == ("update", "30012")
    assert item.reason.startswith(
        "matched by decision, though no number is shared and the names differ (name score 51.4)"
    )


# -- decisions keyed by row number -------------------------------------------------------------


def test_decisions_keyed_by_row_number_draw_a_plan_warning_shown_in_the_preview() -> None:
    records = [record("row:14", "Reception", "020 7946 0000"), record("card:3", "Ann", "1009")]
    decisions = {"row:14": match("30012"), "card:3": Decision("skip"), "C7": Decision("add")}
    result = plan(records, [RECEPTION], decisions=decisions)
    warning = (
        "decisions keyed by row or card number (card:3, row:14) move when rows or cards are"
        " added or removed above them: give the source a key column (the mapping's key, such"
        ' as key: "Contact ID") so a decision stays with its record'
    )
    assert warning in result.warnings
    assert f"Warning: {warning}" in render_plan_text(result).splitlines()


def test_decisions_keyed_by_the_sources_own_key_draw_no_row_warning() -> None:
    result = plan([record("C7", "Reception", "020 7946 0000")], [RECEPTION],
                  decisions={"C7": match("30012")})  # fmt: skip
    assert result.warnings == ()


# -- a decision taking another record's contact --------------------------------------------------


@pytest.mark.parametrize("phones", ["merge", "replace"])
def test_record_whose_contact_a_decision_took_goes_to_review_not_added_again(phones: str) -> None:
    records = [
        record("a", "Main Office", "020 7946 0000", "0161 496 0000"),
        record("b", "Reception", "020 7946 0000"),  # the contact's real record
    ]
    result = plan(records, [RECEPTION], decisions={"a": match("30012")}, phones=phones)
    assert (item_for(result, "a").action, item_for(result, "a").id) == ("update", "30012")
    displaced = item_for(result, "b")
    assert displaced.action == "review"
    assert displaced.reason == (
        "decision 'match 30012' for contacts.csv:a took 30012 (Reception), which this record"
        " matches (same name, same number 02079460000); decide this record too"
    )
    assert [c.id for c in displaced.candidates] == ["30012"]
    assert [i.action for i in result.items].count("add") == 0


def test_displaced_record_stays_in_review_once_the_decision_renamed_its_contact() -> None:
    # Once applied, the decision renamed Reception to Main Office: compared with the contact
    # as read, "b" matches nothing; compared with the contact the decision saw, it is still
    # the record whose contact was taken, and must not become a second Reception.
    records = [
        record("a", "Main Office", "020 7946 0000"),
        record("b", "Reception", "020 7946 0000"),
    ]
    decided = {"a": match("30012", Snapshot("Main Office", ("020 7946 0000",)), SEEN_RECEPTION)}
    first = plan(records, [RECEPTION], decisions=decided)
    assert item_for(first, "b").action == "review"
    book = apply_plan(first, [RECEPTION])
    assert [(c.id, c.name) for c in book] == [("30012", "Main Office")]
    again = plan(records, book, decisions=decided)
    assert item_for(again, "a").action == "unchanged"
    displaced = item_for(again, "b")
    assert displaced.action == "review"
    assert "took 30012 (Reception)" in displaced.reason
    assert [i.action for i in again.items].count("add") == 0


def test_record_a_decision_took_nothing_from_is_matched_as_usual() -> None:
    records = [
        record("a", "Main Office", "0161 496 0000"),
        record("b", "Reception", "020 7946 0000"),
    ]
    contacts = [RECEPTION, contact("30013", "Office", "0161 496 0000")]
    result = plan(records, contacts, decisions={"a": match("30013")})
    assert (item_for(result, "b").action, item_for(result, "b").id) == ("unchanged", "30012")


# -- the files that carry decisions -----------------------------------------------------------


def test_yaml_decision_with_its_record_and_contact_loads(tmp_path: Path) -> None:
    path = tmp_path / "decisions.yaml"
    path.write_text(
        "C1:\n"
        '  match: "30012"\n'
        '  record: {name: Reception Desk, phones: ["020 7946 0000"]}\n'
        '  contact: {name: Reception, phones: ["02079460000"]}\n'
        'C2: {decision: add, record: {name: New Person, phones: ["07700900777"]}}\n'
        "C3:\n"
        "  decision:   # left undecided\n"
        '  record: {name: Jane, phones: ["01491833000"]}\n'
        "C4:\n"
        "  decision: match 30004\n"
        '  record: {name: Siobhan Murphy, phones: ["07700900904"]}\n'
        "  candidates:\n"
        '  - {id: "30003", name: Siobhan Moore, phones: ["07700900903"], score: 80}\n'
        '  - {id: "30004", name: Siobhan Murphy, phones: ["01632960004"], score: 50}\n',
        encoding="utf-8",
    )
    assert load_decisions(path) == {
        "C1": match("30012", Snapshot("Reception Desk", ("020 7946 0000",)), SEEN_RECEPTION),
        "C2": Decision("add", record=Snapshot("New Person", ("07700900777",))),
        "C4": match(
            "30004",
            Snapshot("Siobhan Murphy", ("07700900904",)),
            Snapshot("Siobhan Murphy", ("01632960004",)),
        ),
    }


def test_plan_keeps_the_decisions_records_in_its_settings_and_older_shapes_load() -> None:
    decisions = {"k": match("30012", DESK, SEEN_RECEPTION), "j": Decision("skip")}
    result = plan([record("k", "Reception Desk", "020 7946 0000")], [RECEPTION],
                  decisions=decisions)  # fmt: skip
    data = result.to_json()
    assert data["settings"]["decisions"] == {
        "j": "skip",
        "k": {
            "match": "30012",
            "record": {"name": "Reception Desk", "phones": ["02079460000"]},
            "contact": {"name": "Reception", "phones": ["02079460000"]},
        },
    }
    assert data["items"][0]["source"] == {
        "key": "k",
        "location": "contacts.csv:k",
        "name": "Reception Desk",
        "phones": ["02079460000"],
    }
    assert Plan.from_json(data) == result
    # A plan file written before records were kept: a source without name and phones.
    del data["items"][0]["source"]["name"], data["items"][0]["source"]["phones"]
    older = Plan.from_json(data)
    assert older.items[0].source is not None and older.items[0].source.name == ""


def test_recorded_decisions_fill_in_what_a_hand_written_decision_was_carried_out_on() -> None:
    records = [record("k", "Main Office", "020 7946 0000"), KEVIN_ROW]
    decisions = {"k": match("30012"), "row:14": Decision("add"), "gone": Decision("skip")}
    result = plan(records, [RECEPTION], decisions=decisions)
    assert recorded_decisions(result) == {
        "k": match("30012", Snapshot("Main Office", ("02079460000",)), SEEN_RECEPTION),
        "row:14": Decision("add", record=Snapshot("Ng, Kevin", ("07700900123",))),
        "gone": Decision("skip"),
    }


def test_a_decision_the_plan_could_not_use_keeps_what_it_said() -> None:
    result = plan([KEVIN_ROW], [RECEPTION], decisions={"row:14": match("30012")})
    assert recorded_decisions(result) == {"row:14": match("30012")}


def test_decisions_format_lists_decisions_with_their_records_and_reviews_to_decide() -> None:
    records = [
        record("C1", "Main Office", "020 7946 0000"),
        record("C2", "Jane Smith", "01491 833000"),
        record("C3", "Unrelated", "0161 496 0000"),
    ]
    contacts = [RECEPTION, contact("30002", "John Smith", "01491833000")]
    result = plan(records, contacts, decisions={"C1": match("30012"), "gone": Decision("add")})
    assert render_plan_decisions(result).splitlines()[5:] == [
        "# contacts.csv:C1: update: matched by decision, though the names differ (name score 45.4);"
        " same number 02079460000; name differs",
        "C1:",
        "  match: '30012'",
        '  record: {name: Main Office, phones: ["02079460000"]}',
        '  contact: {name: Reception, phones: ["02079460000"]}',
        "",
        "# contacts.csv:C2: review: shares number 01491833000 but the name differs (75)",
        "C2:",
        "  decision:  # match <contact id>, add or skip",
        '  record: {name: Jane Smith, phones: ["01491833000"]}',
        "  candidates:",
        "  - {id: '30002', name: John Smith, phones: [\"01491833000\"], score: 75}",
        "",
        "# no such source record: not used",
        "gone: add",
    ]


def test_decisions_template_filled_in_and_fed_back_gives_the_decided_outcome(tmp_path: Path):
    records = [record("C2", "Jane Smith", "01491 833000")]
    contacts = [contact("30002", "John Smith", "01491833000")]
    template = render_plan_decisions(plan(records, contacts))
    path = tmp_path / "decisions.yaml"
    path.write_text(template.replace("  decision:  #", "  decision: match 30002 #"), "utf-8")
    decisions = load_decisions(path)
    assert decisions == {
        "C2": match(
            "30002",
            Snapshot("Jane Smith", ("01491833000",)),
            Snapshot("John Smith", ("01491833000",)),
        )
    }
    assert item_for(plan(records, contacts, decisions=decisions), "C2").action == "update"


def test_an_unfilled_template_decides_nothing(tmp_path: Path) -> None:
    records = [record("C2", "Jane Smith", "01491 833000")]
    contacts = [contact("30002", "John Smith", "01491833000")]
    path = tmp_path / "decisions.yaml"
    path.write_text(render_plan_decisions(plan(records, contacts)), "utf-8")
    assert load_decisions(path) == {}


#: Source keys as people and adapters make them, and text YAML would read as something else
#: unless quoted (a boolean, null, a number, a date, an octal number).
KEYS = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(
        ["yes", "No", "null", "~", "1.5", "0042", "1e3", "2024-05-01", "row:14", "card:3",
         "- a", "? x", "a: b", "#x", "&a", "*a", "!x", "'q'", '"q"', " lead", "trail ", "@x"]
    ),
)  # fmt: skip
#: Any text, and numbers YAML would read as numbers unless quoted.
TEXTS = st.one_of(
    st.text(max_size=20), st.sampled_from(["01234567", "0", "1e3", "true", "null", "- x", ""])
)


@st.composite
def any_decisions(draw: st.DrawFn) -> Decision:
    action = draw(st.sampled_from(DECISION_ACTIONS))
    seen = draw(st.none() | st.builds(Snapshot, TEXTS, st.lists(TEXTS, max_size=3).map(tuple)))
    if action != "match":
        return Decision(action, record=seen)
    contact_id = draw(st.from_regex(r"[0-9]{1,6}", fullmatch=True))
    chosen = draw(st.none() | st.builds(Snapshot, TEXTS, st.lists(TEXTS, max_size=3).map(tuple)))
    return Decision("match", contact_id, record=seen, contact=chosen)


@settings(max_examples=200, deadline=None)
@given(decided=st.dictionaries(KEYS, any_decisions(), min_size=1, max_size=4))
# YAML reads NEL and the Unicode separators as line breaks, folded to a space unless escaped.
@example(
    decided={"k\u2028": Decision("match", "0", Snapshot("\x85", ()), Snapshot("a\u2029b", ()))}
)
def test_any_decision_written_to_the_decisions_format_loads_back_as_it_was(
    tmp_path_factory: pytest.TempPathFactory, decided: dict[str, Decision]
) -> None:
    # A plan whose only contents are these decisions, for keys the source lacks.
    result = plan([], [], decisions=decided)
    path = tmp_path_factory.mktemp("decisions") / "decisions.yaml"
    path.write_text(render_plan_decisions(result), encoding="utf-8")
    assert load_decisions(path) == decided


@settings(max_examples=100, deadline=None)
@given(
    people=st.lists(st.tuples(KEYS, TEXTS), min_size=1, max_size=4, unique_by=lambda p: p[0]),
    names=st.lists(TEXTS, min_size=1, max_size=3),
    data=st.data(),
)
def test_a_decisions_template_loads_back_deciding_nothing_until_filled_in(
    tmp_path_factory: pytest.TempPathFactory,
    people: list[tuple[str, str]],
    names: list[str],
    data: st.DataObject,
) -> None:
    numbers = ["01491 833000", "020 7946 0000"]
    records = [record(key, name, data.draw(st.sampled_from(numbers))) for key, name in people]
    contacts = [contact(str(30001 + n), name, numbers[n % 2]) for n, name in enumerate(names)]
    template = render_plan_decisions(plan(records, contacts))
    path = tmp_path_factory.mktemp("decisions") / "decisions.yaml"
    path.write_text(template, encoding="utf-8")
    assert load_decisions(path) == {}
    path.write_text(template.replace("\n  decision:  #", "\n  decision: skip  #"), "utf-8")
    reviews = [i.source for i in plan(records, contacts).items if i.action == "review"]
    assert load_decisions(path) == {
        source.key: Decision("skip", record=Snapshot(source.name, source.phones))
        for source in reviews
        if source is not None
    }


# -- the CSV preview as a decisions file --------------------------------------------------------


def fill(preview: str, decided: dict[str, str]) -> str:
    """The CSV preview with ``decision`` filled in for the given source keys."""
    rows = list(csv.DictReader(io.StringIO(preview)))
    for row in rows:
        row["decision"] = decided.get(row["source_key"], row["decision"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_preview(result: Plan) -> str:
    out = io.StringIO()
    render_plan_csv(result, out)
    return out.getvalue()


def test_review_csv_row_is_the_record_and_candidate_its_decision_was_made_about(tmp_path: Path):
    records = [record("row:14", "Reception Desk", "020 7946 0000")]
    path = tmp_path / "review.csv"
    path.write_text(fill(csv_preview(plan(records, [RECEPTION])), {"row:14": "30012"}), "utf-8")
    assert load_decisions(path) == {"row:14": match("30012", DESK, SEEN_RECEPTION)}
    # Two rows above were deleted: row 14 is Kevin now. The row still shows the desk.
    stale = plan([KEVIN_ROW], [RECEPTION], decisions=load_decisions(path))
    assert item_for(stale, "row:14").action == "review"
    assert item_for(stale, "row:14").reason.startswith(
        "decision 'match 30012' was made for Reception Desk (02079460000); this record is now"
    )


def test_review_csv_from_before_the_record_columns_still_says_what_it_saw(tmp_path: Path):
    path = tmp_path / "review.csv"
    path.write_text(
        "action,source_key,id,name_after,phone1_after,phone2_after,phone3_after,candidates,"
        "decision\r\nreview,row:14,,Reception Desk,02079460000,,,"
        "30012 Reception 02079460000 (80),match 30012\r\n",
        encoding="utf-8",
    )
    assert load_decisions(path) == {"row:14": match("30012", DESK)}


def test_review_csv_match_for_an_id_not_on_the_row_is_checked_as_written_by_hand(tmp_path):
    records = [record("row:14", "Reception Desk", "020 7946 0000")]
    path = tmp_path / "review.csv"
    path.write_text(fill(csv_preview(plan(records, [RECEPTION])), {"row:14": "30099"}), "utf-8")
    assert load_decisions(path) == {"row:14": match("30099", DESK)}


# -- the property: a decision is used on what it saw, and only there --------------------------

NAMES = ["Reception", "Jane Smith", "John Smith", "Acme Ltd", "Siobhan Murphy", "Bob Jones"]
OTHER_NAMES = ["Ng, Kevin", "Zara Quill", "Ulf Varga"]  # none shares a name key with NAMES
NUMBERS = ["020 7946 0000", "01491 833000", "07700 900904", "0161 496 0000", "07911 123456"]
FRESH_NUMBERS = ["0113 496 0123", "07700 900321"]  # in neither list above


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[SourceRecord], list[Contact]]:
    """A small source and phonebook drawn from overlapping names and numbers, so reviews,
    adds and matches all happen."""
    contacts = [
        contact(str(30001 + i), draw(st.sampled_from(NAMES)), *draw(_numbers()))
        for i in range(draw(st.integers(1, 4)))
    ]
    records = [
        record(f"row:{2 + i}", draw(st.sampled_from(NAMES)), *draw(_numbers()))
        for i in range(draw(st.integers(1, 5)))
    ]
    return records, contacts


def _numbers() -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=2, unique=True)


def decide(result: Plan, choices: Sequence[int]) -> dict[str, str]:
    """A reviewer's decision for every review and add item: a candidate not chosen yet,
    add, or skip."""
    decided: dict[str, str] = {}
    taken: set[str] = set()
    items = [i for i in result.items if i.source and i.action in ("review", "add")]
    for item, choice in zip(items, choices, strict=False):
        assert item.source is not None
        free = [c.id for c in item.candidates if c.id not in taken]
        if choice == 0 and free:
            decided[item.source.key] = f"match {free[0]}"
            taken.add(free[0])
        else:
            decided[item.source.key] = "skip" if choice == 1 else "add"
    return decided


OUTCOMES = {"add": ("add",), "skip": ("skip",), "match": ("update", "unchanged")}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    world=worlds(),
    choices=st.lists(st.integers(0, 2), min_size=5, max_size=5),
    through=st.sampled_from(["csv preview", "template", "recorded by a plan"]),
    change=st.sampled_from(["name", "numbers", "both"]),
    which=st.integers(0, 10),
    data=st.data(),
)
def test_decisions_from_a_plan_give_the_decided_outcome_and_never_apply_once_changed(
    tmp_path_factory: pytest.TempPathFactory,
    world: tuple[list[SourceRecord], list[Contact]],
    choices: list[int],
    through: str,
    change: str,
    which: int,
    data: st.DataObject,
) -> None:
    records, contacts = world
    first = plan(records, contacts)
    decided = decide(first, choices)
    path = tmp_path_factory.mktemp("decisions") / "decisions.yaml"
    if through == "csv preview":
        path = path.with_suffix(".csv")
        path.write_text(fill(csv_preview(first), decided), encoding="utf-8")
    elif through == "template":  # review items only: the template lists no others
        template = yaml.safe_load(render_plan_decisions(first)) or {}
        decided = {key: text for key, text in decided.items() if key in template}
        filled = {key: {**template[key], "decision": text} for key, text in decided.items()}
        path.write_text(yaml.safe_dump(filled, allow_unicode=True), encoding="utf-8")
    else:  # plan --decisions HAND_WRITTEN --format decisions
        hand = {key: parse_decision(text) for key, text in decided.items()}
        path.write_text(render_plan_decisions(plan(records, contacts, decisions=hand)), "utf-8")
    if not decided:
        return
    event(f"decided through the {through}")
    decisions = load_decisions(path)
    assert set(decisions) == set(decided)
    assert all(decision.recorded for decision in decisions.values())

    # Used unchanged on the same source and phonebook: each record gets what was decided.
    again = plan(records, contacts, decisions=decisions)
    for key, text in decided.items():
        item = item_for(again, key)
        assert item.action in OUTCOMES[text.split()[0]], (key, text, item)
        if text.startswith("match"):
            assert item.id == text.split()[1]

    # The decided record changes (its name beyond form, its numbers, or both): never applied.
    key = sorted(decided)[which % len(decided)]
    changed = [_changed(r, change, data) if r.key == key else r for r in records]
    item = item_for(plan(changed, contacts, decisions=decisions), key)
    assert item.action == "review", (key, decided[key], item)
    assert item.reason.startswith(f"decision '{decisions[key]}' was made for")


def _changed(original: SourceRecord, change: str, data: st.DataObject) -> SourceRecord:
    name = original.name
    phones = [phone.value for phone in original.phones]
    if change in ("name", "both"):
        name = data.draw(st.sampled_from(OTHER_NAMES))
    if change in ("numbers", "both"):
        phones = data.draw(st.lists(st.sampled_from(FRESH_NUMBERS), min_size=1, unique=True))
    return record(original.key, name, *phones)
