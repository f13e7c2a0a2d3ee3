"""The planner under a scheduled sync: bindings, the three-way table, gone contacts, other
jobs' contacts, and the owned and mirror delete policies."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planning_helpers import (
    CREATED,
    apply_plan_ids,
    bindings_after,
    contact,
    item_for,
    plan,
    record,
)

from connector.api.client import SipaltoClient
from connector.apply.engine import ApplyEngine
from connector.apply.journal import Journal
from connector.apply.target import read_plan_document
from connector.errors import ConfigError, PlanError
from connector.model import KEY_SOURCE_ID, Contact, ContactFields, RawPhone, SourceRecord
from connector.reconcile.decisions import Decision
from connector.reconcile.plan import (
    CHANGE_ACTIONS,
    DELETE_POLICIES,
    EDIT_POLICIES,
    Bound,
    Plan,
    PlanItem,
    PlanSettings,
)
from connector.reconcile.planner import make_plan
from connector.reconcile.workflow import cyclic_gc_paused


def keyed(key: str, name: str, *phones: str, problems: Sequence[str] = ()) -> SourceRecord:
    """A record keyed by the source's own id (a CRM id, a key column)."""
    return record(key, name, *phones, problems=problems, key_kind=KEY_SOURCE_ID)


def bound(contact_id: str, name: str, *phones: str, owned: bool = True) -> Bound:
    """A binding whose contact was written as ``name`` and ``phones``."""
    return Bound(contact_id, ContactFields.make(name, phones), owned)


def changes(result: Plan) -> list[PlanItem]:
    return [item for item in result.items if item.action in CHANGE_ACTIONS]


def deleted(result: Plan) -> list[str]:
    return [item.id or "" for item in result.items if item.action == "delete"]


ANN = "07700900101"
ANN_NEW = "07700900199"
WRITTEN = bound("30001", "Ann Archer", ANN)

# -- the three-way table ------------------------------------------------------------------
# Each row: the phonebook's copy and the source record, against WRITTEN (Ann Archer, ANN).
AS_WRITTEN = contact("30001", "Ann Archer", ANN)
EDITED = contact("30001", "Ann Archer-Hill", ANN)  # renamed by hand in the phonebook
SOURCE_SAME = keyed("C1", "Ann Archer", ANN)
SOURCE_CHANGED = keyed("C1", "Ann Archer", ANN, ANN_NEW)  # a second number in the CRM

# (phonebook, source, policy) -> (action, sync tag, fields written or None)
TABLE = [
    (AS_WRITTEN, SOURCE_SAME, "review", "unchanged", None, None),
    (AS_WRITTEN, SOURCE_SAME, "overwrite", "unchanged", None, None),
    (AS_WRITTEN, SOURCE_SAME, "keep", "unchanged", None, None),
    (AS_WRITTEN, SOURCE_CHANGED, "review", "update", None, ("Ann Archer", ANN, ANN_NEW)),
    (AS_WRITTEN, SOURCE_CHANGED, "overwrite", "update", None, ("Ann Archer", ANN, ANN_NEW)),
    (AS_WRITTEN, SOURCE_CHANGED, "keep", "update", None, ("Ann Archer", ANN, ANN_NEW)),
    (EDITED, SOURCE_SAME, "review", "review", "edited", None),
    (EDITED, SOURCE_SAME, "overwrite", "update", None, ("Ann Archer", ANN)),
    (EDITED, SOURCE_SAME, "keep", "unchanged", "kept", None),
    (EDITED, SOURCE_CHANGED, "review", "review", "conflict", None),
    (EDITED, SOURCE_CHANGED, "overwrite", "update", None, ("Ann Archer", ANN, ANN_NEW)),
    (EDITED, SOURCE_CHANGED, "keep", "update", None, ("Ann Archer-Hill", ANN, ANN_NEW)),
]


def _row_id(row: tuple[object, ...]) -> str:
    book, source, policy = row[:3]
    side = "as-written" if book is AS_WRITTEN else "edited"
    change = "source-same" if source is SOURCE_SAME else "source-changed"
    return f"{side}-{change}-{policy}"


@pytest.mark.parametrize(
    ("book", "source", "policy", "action", "sync", "written"), TABLE, ids=map(_row_id, TABLE)
)
def test_three_way_table(
    book: Contact,
    source: SourceRecord,
    policy: str,
    action: str,
    sync: str | None,
    written: tuple[str, ...] | None,
) -> None:
    result = plan([source], [book], bindings={"C1": WRITTEN}, on_phonebook_edit=policy)
    (item,) = result.items
    assert (item.action, item.sync, item.id) == (action, sync, "30001"), item.reason
    assert item.before == book.fields
    if written is not None:
        assert item.after == ContactFields.make(written[0], written[1:])
    elif action == "unchanged":
        assert item.after == book.fields


def test_edited_review_says_what_changed_on_which_side() -> None:
    edited = plan([SOURCE_SAME], [EDITED], bindings={"C1": WRITTEN})
    (item,) = edited.items
    assert "edited outside this job" in item.reason and "name differs" in item.reason
    assert "the source has not changed" in item.reason
    conflict = plan([SOURCE_CHANGED], [EDITED], bindings={"C1": WRITTEN})
    (item,) = conflict.items
    assert f"the source changed too (adds {ANN_NEW})" in item.reason


def test_keep_with_both_sides_changed_says_the_edit_is_kept() -> None:
    result = plan([SOURCE_CHANGED], [EDITED], bindings={"C1": WRITTEN}, on_phonebook_edit="keep")
    (item,) = result.items
    assert "the edit is kept and the source's change made on top" in item.reason


def test_keep_drops_what_the_source_dropped_from_the_edited_contact() -> None:
    written = bound("30001", "Ann Archer", ANN, ANN_NEW)
    book = [contact("30001", "Ann Archer", ANN, ANN_NEW, "01632960555")]  # a number added
    source = keyed("C1", "Ann Archer", ANN)  # the CRM dropped ANN_NEW
    result = plan(
        [source], book, bindings={"C1": written}, on_phonebook_edit="keep", phones="replace"
    )
    (item,) = result.items
    assert item.action == "update"
    assert item.after == ContactFields("Ann Archer", ANN, "01632960555")


@pytest.mark.parametrize("policy", EDIT_POLICIES)
def test_a_contact_that_already_says_what_the_source_says_is_no_edit_under_any_policy(
    policy: str,
) -> None:
    # The write landed but the state never heard of it (a run killed after the apply).
    book = [contact("30001", "Ann Archer", ANN, ANN_NEW)]
    result = plan([SOURCE_CHANGED], book, bindings={"C1": WRITTEN}, on_phonebook_edit=policy)
    (item,) = result.items
    assert (item.action, item.sync, item.before) == ("unchanged", None, book[0].fields)


def test_the_phonebook_respelling_a_number_or_a_name_is_no_edit() -> None:
    book = [contact("30001", "ANN ARCHER", "07700 900101")]
    result = plan([SOURCE_SAME], book, bindings={"C1": WRITTEN})
    (item,) = result.items
    assert (item.action, item.sync) == ("unchanged", None)


# -- gone and re-added ------------------------------------------------------------------------


def test_a_bound_contact_deleted_by_hand_is_reported_not_added_again() -> None:
    result = plan([SOURCE_SAME], [], bindings={"C1": WRITTEN})
    (item,) = result.items
    assert (item.action, item.sync) == ("review", "gone")
    assert "30001" in item.reason and "no longer in the phonebook" in item.reason


def test_readd_deleted_adds_a_bound_contact_deleted_by_hand_again() -> None:
    result = plan([SOURCE_SAME], [], bindings={"C1": WRITTEN}, readd_deleted=True)
    (item,) = result.items
    assert (item.action, item.sync, item.id) == ("add", "readd", None)
    assert item.after == ContactFields("Ann Archer", ANN)


def test_a_gone_contact_is_not_replaced_by_matching_a_lookalike() -> None:
    lookalike = contact("30009", "Ann Archer", ANN)  # made again by hand, new id
    result = plan([SOURCE_SAME], [lookalike], bindings={"C1": WRITTEN})
    assert [(i.action, i.sync) for i in result.items] == [("review", "gone")]


# -- the same contact whatever changed in the source ---------------------------------------

RENAMES = [
    ("a new mobile number", "Ann Archer", ANN_NEW),
    ("a corrected spelling", "Anne Archer", ANN),
    ("a new name and a new number", "Ann Hill", ANN_NEW),
]


@pytest.mark.parametrize(("label", "name", "phone"), RENAMES, ids=[r[0] for r in RENAMES])
def test_a_bound_contact_changed_in_the_source_stays_the_same_contact(
    label: str, name: str, phone: str
) -> None:
    others = [contact("30002", "Ann Hill", "01632960777")]  # a namesake the matcher might like
    result = plan(
        [keyed("C1", name, phone)],
        [AS_WRITTEN, *others],
        bindings={"C1": WRITTEN},
        phones="replace",
    )
    item = item_for(result, "C1")
    assert (item.action, item.id) == ("update", "30001"), item.reason
    assert item.after == ContactFields(name, phone)


def test_a_renamed_company_stays_the_same_contact() -> None:
    written = bound("30005", "Henley Plumbing Ltd", "01491833000")
    book = [contact("30005", "Henley Plumbing Ltd", "01491833000")]
    renamed = keyed("ACME-7", "Thames Valley Heating & Plumbing", "01491 833000")
    (item,) = plan([renamed], book, bindings={"ACME-7": written}).items
    assert (item.action, item.id) == ("update", "30005")
    assert item.after == ContactFields("Thames Valley Heating & Plumbing", "01491833000")


def test_a_row_keyed_record_with_a_corrected_spelling_keeps_its_binding() -> None:
    result = plan([record("row:2", "Anne Archer", ANN)], [AS_WRITTEN], bindings={"row:2": WRITTEN})
    (item,) = result.items
    assert (item.action, item.id) == ("update", "30001")
    assert "bound to this record" in item.reason


def test_rows_moved_down_do_not_rename_every_contact() -> None:
    # A sorted export: a new first row moves everyone down one row key.
    book = [contact("30001", "Ann Archer", ANN), contact("30002", "Bob Baker", "07700900202")]
    bindings = {
        "row:2": bound("30001", "Ann Archer", ANN),
        "row:3": bound("30002", "Bob Baker", "07700900202"),
    }
    records = [
        record("row:2", "Aaron Abbot", "07700900303"),
        record("row:3", "Ann Archer", ANN),
        record("row:4", "Bob Baker", "07700900202"),
    ]
    result = plan(records, book, bindings=bindings)
    assert [(i.action, i.id) for i in result.items] == [
        ("add", None),
        ("unchanged", "30001"),
        ("unchanged", "30002"),
    ]
    assert any("matched afresh" in w for w in item_for(result, "row:3").warnings)


# -- bound contacts are no candidates ---------------------------------------------------------


def test_a_bound_record_never_enters_matching_even_when_another_contact_fits_better() -> None:
    twin = contact("30002", "Ann Archer", ANN)  # a hand-made copy, the same in every way
    book = [contact("30001", "Ann Archer", "01632960555"), twin]
    written = bound("30001", "Ann Archer", "01632960555")
    result = plan([SOURCE_SAME], book, bindings={"C1": written}, phones="replace")
    item = item_for(result, "C1")
    assert (item.action, item.id) == ("update", "30001")


def test_a_bound_contact_is_no_match_and_no_candidate_for_another_record() -> None:
    book = [AS_WRITTEN, contact("30002", "Ann Archer", "01632960999")]
    records = [SOURCE_SAME, keyed("C2", "Ann Archer", ANN)]  # C2 repeats C1's person
    result = plan(records, book, bindings={"C1": WRITTEN}, decisions={"C1": Decision("skip")})
    other = item_for(result, "C2")
    assert other.id != "30001"
    assert all(c.id != "30001" for c in other.candidates)


def test_a_record_that_would_match_a_bound_contact_goes_to_review_not_to_a_copy() -> None:
    records = [keyed("C2", "Ann Archer", ANN), keyed("C1", "Ann Archer-Hill", "01632960999")]
    book = [AS_WRITTEN]
    result = plan(records, book, bindings={"C1": WRITTEN})
    other = item_for(result, "C2")
    assert other.action == "review"
    assert "bound to contacts.csv:C1 by this sync job" in other.reason
    assert other.candidates == ()


def test_a_decision_to_match_a_contact_bound_to_another_record_goes_to_review() -> None:
    records = [SOURCE_SAME, keyed("C2", "Someone Else", "07700900555")]
    result = plan(
        records,
        [AS_WRITTEN],
        bindings={"C1": WRITTEN},
        decisions={"C2": Decision("match", "30001")},
    )
    item = item_for(result, "C2")
    assert item.action == "review" and "bound to contacts.csv:C1" in item.reason


def test_a_decision_to_match_the_bound_contact_settles_an_edited_hold_for_the_source() -> None:
    result = plan(
        [SOURCE_SAME],
        [EDITED],
        bindings={"C1": WRITTEN},
        decisions={"C1": Decision("match", "30001")},
    )
    (item,) = result.items
    assert (item.action, item.id, item.sync) == ("update", "30001", None)
    assert item.after == ContactFields("Ann Archer", ANN)


def test_a_bound_record_decided_otherwise_keeps_its_contact_from_deletion() -> None:
    records = [SOURCE_SAME]
    result = plan(
        records,
        [AS_WRITTEN],
        bindings={"C1": WRITTEN},
        decisions={"C1": Decision("add")},
        delete="mirror",
    )
    assert [(i.action, i.id) for i in result.items] == [("add", None)]


def test_a_later_row_repeating_a_bound_record_merges_into_it() -> None:
    records = [SOURCE_SAME, keyed("C2", "Ann Archer", ANN, "07700900555")]
    result = plan(records, [AS_WRITTEN], bindings={"C1": WRITTEN})
    assert [(i.action, i.id) for i in result.items] == [("update", "30001"), ("duplicate", "30001")]
    assert item_for(result, "C1").after == ContactFields("Ann Archer", ANN, "07700900555")


def test_an_earlier_row_repeating_a_bound_record_never_takes_its_contact() -> None:
    records = [keyed("C2", "Ann Archer", ANN, "07700900555"), SOURCE_SAME]
    result = plan(records, [AS_WRITTEN], bindings={"C1": WRITTEN})
    assert [(i.action, i.id) for i in result.items] == [("review", None), ("unchanged", "30001")]
    assert "bound to contacts.csv:C1" in item_for(result, "C2").reason


def test_a_binding_whose_key_left_the_source_binds_nothing() -> None:
    # The CRM re-keyed the record: the contact is matched by its new key.
    result = plan([keyed("C9", "Ann Archer", ANN)], [AS_WRITTEN], bindings={"C1": WRITTEN})
    (item,) = result.items
    assert (item.action, item.id) == ("unchanged", "30001")


# -- incremental reads ----------------------------------------------------------------------


def test_an_incremental_read_leaves_the_records_it_did_not_include_bound_and_deletes_nothing() -> (
    None
):
    # Only C1 changed since the last read; C2 is still in the source, unchanged.
    bob = contact("30002", "Bob Baker", "07700900102")
    bindings = {"C1": WRITTEN, "C2": bound("30002", "Bob Baker", "07700900102")}
    changed = keyed("C1", "Ann Archer", ANN, ANN_NEW)
    for delete in ("never", "owned", "mirror"):
        result = plan([changed], [AS_WRITTEN, bob], bindings=bindings, partial=True, delete=delete)
        assert [(i.action, i.id) for i in result.items] == [("update", "30001")]
        assert result.settings.delete == "never"
    # A full read without C2 would delete it.
    full = plan([changed], [AS_WRITTEN, bob], bindings=bindings, delete="owned")
    assert deleted(full) == ["30002"]


def test_a_new_record_like_one_an_incremental_read_left_out_goes_to_review() -> None:
    bob = contact("30002", "Bob Baker", "07700900102")
    bindings = {"C2": bound("30002", "Bob Baker", "07700900102")}
    newcomer = keyed("C7", "Bob Baker", "07700900102")
    result = plan([newcomer], [bob], bindings=bindings, partial=True)
    (item,) = result.items
    assert item.action == "review"
    assert "bound by this sync job to a record this incremental read did not include" in (
        item.reason
    )
    # In a full read, C2's absence frees its contact for the re-keyed record.
    assert plan([newcomer], [bob], bindings=bindings).items[0].action == "unchanged"


# -- other jobs' contacts -------------------------------------------------------------------


def test_a_record_that_would_match_another_jobs_contact_goes_to_review() -> None:
    theirs = contact("30007", "Ann Archer", ANN)
    result = plan([SOURCE_SAME], [theirs], bindings={}, foreign_ids=frozenset({"30007"}))
    (item,) = result.items
    assert item.action == "review"
    assert "owned by another sync job" in item.reason
    assert item.candidates == ()


def test_another_jobs_contact_bound_here_is_never_updated() -> None:
    result = plan(
        [SOURCE_CHANGED], [AS_WRITTEN], bindings={"C1": WRITTEN}, foreign_ids=frozenset({"30001"})
    )
    (item,) = result.items
    assert item.action == "review" and "owned by another sync job: not updated" in item.reason


def test_a_decision_to_match_another_jobs_contact_goes_to_review() -> None:
    result = plan(
        [SOURCE_SAME],
        [contact("30007", "Ann Archer", ANN)],
        bindings={},
        foreign_ids=frozenset({"30007"}),
        decisions={"C1": Decision("match", "30007")},
    )
    (item,) = result.items
    assert item.action == "review" and "owned by another sync job" in item.reason


def test_a_row_keyed_by_another_jobs_contact_id_is_not_written() -> None:
    row = record("30007", "Ann Archer", ANN_NEW, key_kind="phonebook_id")
    result = plan([row], [contact("30007", "Ann Archer", ANN)], foreign_ids=frozenset({"30007"}))
    (item,) = result.items
    assert item.action == "review" and "owned by another sync job" in item.reason


@pytest.mark.parametrize("policy", ["owned", "mirror"])
def test_another_jobs_contacts_are_never_deleted(policy: str) -> None:
    theirs = contact("30007", "Zed Zimmer", "07700900777")
    result = plan(
        [SOURCE_SAME],
        [AS_WRITTEN, theirs],
        bindings={"C1": WRITTEN, "GONE": bound("30007", "Zed Zimmer", "07700900777")},
        foreign_ids=frozenset({"30007"}),
        owned_ids=frozenset({"30007"}),
        delete=policy,
    )
    assert deleted(result) == []


# -- delete policies -----------------------------------------------------------------------

BOOK = [
    contact("30001", "Ann Archer", ANN),  # owned, bound to C1, still in the source
    contact("30002", "Bob Baker", "07700900202"),  # owned, bound to C2, gone from the source
    contact("30003", "Cat Cole", "07700900303"),  # bound to C3 but not owned, gone
    contact("30004", "Dan Dyer", "07700900404"),  # owned, bound to C4, whose row is rejected
    contact("30005", "Eve Ellis", "07700900505"),  # made by hand, never bound
    contact("30006", "Fay Fox", "07700900606"),  # owned (added by an earlier run), not bound
]
BOOK_BINDINGS = {
    "C1": bound("30001", "Ann Archer", ANN),
    "C2": bound("30002", "Bob Baker", "07700900202"),
    "C3": bound("30003", "Cat Cole", "07700900303", owned=False),
    "C4": bound("30004", "Dan Dyer", "07700900404"),
}
BOOK_SOURCE = [
    keyed("C1", "Ann Archer", ANN),
    # Dan's row failed to read: not even his name came through.
    keyed("C4", "", "07700900404", problems=["a cell could not be read"]),
]


def test_owned_deletes_only_owned_contacts_whose_key_left_the_source() -> None:
    result = plan(
        BOOK_SOURCE,
        BOOK,
        bindings=BOOK_BINDINGS,
        owned_ids=frozenset({"30006"}),
        delete="owned",
    )
    assert deleted(result) == ["30002", "30006"]
    assert next(i.reason for i in result.items if i.action == "delete") == (
        "owned by this sync and no longer in the source"
    )


def test_owned_takes_ownership_from_the_bindings() -> None:
    result = make_plan(BOOK_SOURCE, BOOK, PlanSettings(delete="owned"), bindings=BOOK_BINDINGS)
    assert [i.id for i in result.items if i.action == "delete"] == ["30002"]


def test_a_rejected_records_key_is_still_in_the_source() -> None:
    # Dan's contact is bound to a key still in the source: it is not deleted.
    for policy in ("owned", "mirror"):
        result = plan(
            BOOK_SOURCE, BOOK, bindings=BOOK_BINDINGS, owned_ids=frozenset(), delete=policy
        )
        assert "30004" not in deleted(result)


def test_mirror_deletes_every_contact_no_record_accounts_for() -> None:
    result = plan(BOOK_SOURCE, BOOK, bindings=BOOK_BINDINGS, delete="mirror")
    assert deleted(result) == ["30002", "30003", "30005", "30006"]


def test_mirror_keeps_review_candidates_and_deletes_phonebook_duplicates() -> None:
    book = [
        contact("30001", "Ann Archer", ANN),
        contact("30002", "Ann Archer", ANN),  # a phonebook duplicate
        contact("30003", "Jane Smith", "07700900303"),  # might be the record under review
    ]
    records = [keyed("C1", "Ann Archer", ANN), keyed("C2", "Jane Smith", "07700900304")]
    result = plan(records, book, bindings={}, delete="mirror")
    assert item_for(result, "C2").action == "review"
    assert deleted(result) == ["30002"]


def test_mirror_needs_no_ownership_records() -> None:
    result = plan([], [contact("30001", "Ann Archer", ANN)], delete="mirror")
    assert deleted(result) == ["30001"]


# -- the plan file ----------------------------------------------------------------------


def test_sync_tags_and_settings_round_trip_through_the_plan_file() -> None:
    result = plan(
        [SOURCE_SAME, keyed("C2", "Bob Baker", "07700900202")],
        [EDITED],
        bindings={"C1": WRITTEN, "C2": bound("30002", "Bob Baker", "07700900202")},
        delete="mirror",
        on_phonebook_edit="review",
        readd_deleted=False,
    )
    data = json.loads(json.dumps(result.to_json()))
    assert Plan.from_json(data) == result
    assert [item.get("sync") for item in data["items"]] == ["edited", "gone"]
    assert data["settings"]["delete"] == "mirror"
    assert data["settings"]["on_phonebook_edit"] == "review"
    assert data["settings"]["readd_deleted"] is False


def test_plan_files_made_before_sync_load_with_the_defaults() -> None:
    data = plan([SOURCE_SAME]).to_json()
    del data["settings"]["on_phonebook_edit"], data["settings"]["readd_deleted"]
    assert "sync" not in data["items"][0]
    settings = Plan.from_json(data).settings
    assert (settings.on_phonebook_edit, settings.readd_deleted) == ("review", False)


@pytest.mark.parametrize(
    ("sync", "message"),
    [("lost", "unknown sync tag 'lost'"), ("readd", "goes with action 'add', not 'review'")],
)
def test_a_bad_sync_tag_is_a_plan_error(sync: str, message: str) -> None:
    data = plan([SOURCE_SAME], [], bindings={"C1": WRITTEN}).to_json()
    data["items"][0]["sync"] = sync
    with pytest.raises(PlanError, match=message):
        Plan.from_json(data)


@pytest.mark.parametrize(
    ("option", "message"),
    [({"on_phonebook_edit": "ask"}, "on_phonebook_edit"), ({"readd_deleted": "yes"}, "readd")],
)
def test_bad_sync_settings_are_a_config_error(option: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PlanSettings(**option)  # type: ignore[arg-type]


def test_the_apply_engine_applies_a_mirror_plan_with_sync_items(sandbox_factory, tmp_path) -> None:
    book = [
        {"id": "30001", "name": "Ann Archer-Hill", "phone1": ANN, "phone2": "", "phone3": ""},
        {"id": "30002", "name": "Eve Ellis", "phone1": "07700900505", "phone2": "", "phone3": ""},
    ]
    server = sandbox_factory(book)
    contacts = [Contact(**c) for c in book]
    result = make_plan(
        [SOURCE_SAME, keyed("C2", "Bob Baker", "07700900202")],
        contacts,
        PlanSettings(delete="mirror", readd_deleted=True),
        bindings={"C1": WRITTEN, "C2": bound("30009", "Bob Baker", "07700900202")},
        server=server.url,
        created_at=CREATED,
    )
    assert [(i.action, i.sync) for i in result.items] == [
        ("review", "edited"),
        ("add", "readd"),
        ("delete", None),
    ]
    client = SipaltoClient(server.url, "demo", "demo", timeout=5)
    journal = Journal(tmp_path / "journal.sqlite")
    engine = ApplyEngine(client, journal, backup_dir=tmp_path / "backups", settle_delay=0.2)
    report = engine.run(read_plan_document(result.to_json()))
    assert report.ok, [(r.op.label, r.state, r.reason) for r in report.results]
    rows = sorted((c["name"], c["phone1"]) for c in server.state.snapshot())
    assert rows == [("Ann Archer-Hill", ANN), ("Bob Baker", "07700900202")]


# -- properties ---------------------------------------------------------------------------

NUMBERS = ["07852902011", "01491833000", "02079460123", "07700900999", "01632960001", "1009"]
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
    "Amelia Hartley",
    "Hartley, Amelia",
    "",
]


@st.composite
def written_number(draw: st.DrawFn) -> str:
    number = draw(st.sampled_from(NUMBERS))
    if not number.startswith("0"):
        return number
    return draw(st.sampled_from(SPELLINGS)).format(n=number, r=number[1:])


World = tuple[list[SourceRecord], list[Contact]]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """Records keyed by the source's ids (or now and then by row) and a phonebook."""
    phone = st.one_of(written_number(), st.sampled_from(["n/a", "0123"]))
    records = []
    for i in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from([KEY_SOURCE_ID, KEY_SOURCE_ID, "position"]))
        name = draw(st.sampled_from(NAMES))
        records.append(record(f"k{i}", name, *draw(st.lists(phone, max_size=4)), key_kind=kind))
    contacts = [
        contact(
            str(30001 + i),
            draw(st.sampled_from(NAMES[:-1])),
            *draw(st.lists(written_number(), min_size=1, max_size=3)),
        )
        for i in range(draw(st.integers(0, 6)))
    ]
    return records, contacts


POLICIES = st.fixed_dictionaries(
    {
        "delete": st.sampled_from(DELETE_POLICIES),
        "on_phonebook_edit": st.sampled_from(EDIT_POLICIES),
        "phones": st.sampled_from(["merge", "replace"]),
        "names": st.sampled_from(["phonebook", "source"]),
    }
)


def test_rivals_are_judged_as_the_next_run_will_judge_them() -> None:
    number = "07852902011"
    records = [
        keyed("k0", "John Smith", number),
        keyed("k1", "Jane Smith", number),
        keyed("k2", "J Smith", number),
    ]
    contacts = [contact("30001", "John Smith", number), contact("30002", "Jon Smith", number)]
    first = plan(records, contacts, bindings={})
    book, new_ids = apply_plan_ids(first, contacts)
    again = plan(records, book, bindings=bindings_after(first, new_ids))
    assert changes(again) == [], (first.items, again.items)


@given(worlds(), POLICIES, st.data())
@settings(max_examples=300, deadline=None)
def test_planning_again_with_the_bindings_the_plan_made_changes_nothing(
    world: World, policies: dict[str, str], data: st.DataObject
) -> None:
    records, contacts = world
    ids = [c.id for c in contacts]
    foreign = frozenset(data.draw(st.sets(st.sampled_from(ids)) if ids else st.just(set())))
    owned = frozenset(data.draw(st.sets(st.sampled_from(ids)) if ids else st.just(set())))
    owned -= foreign
    first = plan(records, contacts, bindings={}, foreign_ids=foreign, owned_ids=owned, **policies)
    book, new_ids = apply_plan_ids(first, contacts)
    bindings = bindings_after(first, new_ids)
    left = frozenset(c.id for c in book)
    again = plan(
        records,
        book,
        bindings=bindings,
        foreign_ids=foreign & left,
        owned_ids=owned & left,
        **policies,
    )
    assert changes(again) == [], (first.items, again.items)


@given(worlds(), POLICIES, st.data())
@settings(max_examples=300, deadline=None)
def test_other_jobs_contacts_are_never_updated_deleted_or_candidates(
    world: World, policies: dict[str, str], data: st.DataObject
) -> None:
    records, contacts = world
    ids = [c.id for c in contacts]
    foreign = frozenset(data.draw(st.sets(st.sampled_from(ids)) if ids else st.just(set())))
    # Bindings of any shape: some keys to other jobs' contacts, some as edited since.
    bindings: dict[str, Bound] = {}
    for r in records:
        if ids and data.draw(st.booleans()):
            target = data.draw(st.sampled_from(ids))
            name = data.draw(st.sampled_from(NAMES[:-1]))
            bindings[r.key] = Bound(
                target, ContactFields(name, "07852902011"), data.draw(st.booleans())
            )
    result = plan(
        records,
        contacts,
        bindings=bindings,
        foreign_ids=foreign,
        owned_ids=frozenset(ids),
        readd_deleted=True,
        **policies,
    )
    for item in result.items:
        if item.action in ("update", "delete"):
            assert item.id not in foreign, item
        assert not {c.id for c in item.candidates} & foreign, item
    again = plan(
        records,
        list(reversed(contacts)),
        bindings=bindings,
        foreign_ids=foreign,
        owned_ids=frozenset(ids),
        readd_deleted=True,
        **policies,
    )
    assert again == result  # and the plan is the same whatever the phonebook's order


# -- speed ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_ten_thousand_bound_unchanged_records_plan_without_matching_in_well_under_a_second():
    records, contacts, bindings = bound_world(10_000)
    best = float("inf")
    for _ in range(3):
        with cyclic_gc_paused():  # as the command line plans
            start = time.process_time()  # the machine is shared: count this process only
            result = make_plan(records, contacts, PlanSettings(delete="owned"), bindings=bindings)
            best = min(best, time.process_time() - start)
    assert result.summary["unchanged"] == 10_000 and not result.has_changes
    assert best < 1.5, best  # about 0.5 s measured (CPU) on the 2-core machine


def bound_world(size: int) -> tuple[list[SourceRecord], list[Contact], dict[str, Bound]]:
    """``size`` records, each bound to its contact as last written, nothing changed since."""
    records, contacts, bindings = [], [], {}
    for n in range(size):
        mobile, landline = f"0781{2000000 + n:07d}", f"0161{2000000 + n:07d}"
        name = f"Person {n:05d} Example"
        key = f"CRM-{n}"
        phones = (
            RawPhone(f"+44 {mobile[1:5]} {mobile[5:]}"),
            RawPhone(f"({landline[:4]}) {landline[4:]}"),
        )
        records.append(SourceRecord(key, f"crm.csv:{n + 2}", name, phones, key_kind=KEY_SOURCE_ID))
        contacts.append(Contact(str(40000 + n), name, mobile, landline))
        bindings[key] = Bound(str(40000 + n), ContactFields(name, mobile, landline), True)
    return records, contacts, bindings


def test_a_binding_round_trips_through_json() -> None:
    assert Bound.from_json(json.loads(json.dumps(WRITTEN.to_json()))) == WRITTEN
    with pytest.raises(PlanError, match="binding owned must be true or false"):
        Bound.from_json({**WRITTEN.to_json(), "owned": "yes"})
