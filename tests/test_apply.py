"""The apply engine against the sandbox: exact results through faults, staleness, resumes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import add, contact, delete, expected_phonebook, phonebook_rows, plan_doc, update
from fake_time import FakeTime

from connector.api.client import RetryPolicy, SipaltoClient
from connector.api.pacing import Pacer
from connector.apply.engine import ApplyEngine
from connector.apply.journal import DONE, SKIPPED, Journal
from connector.apply.target import load_plan_file, read_plan_document
from connector.errors import PlanError
from connector.model import Contact, phonebook_fingerprint
from connector.sandbox import Faults

BOOK = [
    {"id": "30001", "name": "Alice Archer", "phone1": "01632960001", "phone2": "", "phone3": ""},
    {"id": "30002", "name": "Bob Baker", "phone1": "01632960002", "phone2": "", "phone3": ""},
    {"id": "30003", "name": "Carol Cooper", "phone1": "01632960003", "phone2": "", "phone3": ""},
]


def engine_for(server, tmp_path: Path, time: FakeTime | None = None, **kwargs) -> ApplyEngine:
    """An engine applying to ``server``; its client's pacer and backoff wait on ``time``
    (on the real clock when none is given)."""
    waits: dict[str, Any] = {}
    if time is not None:
        waits = {
            "pacer": Pacer(clock=time.clock, sleep=time.sleep, wall=time.wall),
            "sleep": time.sleep,
        }
    client = SipaltoClient(
        server.url,
        "demo",
        "demo",
        timeout=5,
        retry=RetryPolicy(attempts=8, backoff=0.005, max_backoff=0.05),
        **waits,
    )
    journal = Journal(tmp_path / "journal.sqlite")
    kwargs.setdefault("settle_delay", 0.2)  # the sandbox carries writes out before answering
    return ApplyEngine(client, journal, backup_dir=tmp_path / "backups", **kwargs)


def mixed_items(count: int = 20) -> list[dict]:
    items = [add(f"New Person {n}", f"0770090{n:04d}") for n in range(count)]
    items.append(update("30001", contact("Alice Archer", "01632960001"),
                        contact("Alice Archer", "01632960001", "07700900999")))  # fmt: skip
    items.append(delete("30002", contact("Bob Baker", "01632960002")))
    return items


def test_a_clean_apply_leaves_exactly_the_planned_phonebook(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(BOOK)
    items = mixed_items()
    report = engine_for(server, tmp_path).run(read_plan_document(plan_doc(items)))
    assert report.ok, [(r.op.label, r.state, r.reason) for r in report.results]
    assert phonebook_rows(server.state.snapshot()) == expected_phonebook(BOOK, items)
    assert len(report.created) == 20


def test_review_rejected_and_duplicate_items_are_never_applied(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(BOOK)
    items = [
        {**add("Unsure", "07700900001"), "action": "review"},
        {**add("Broken", "07700900002"), "action": "rejected"},
        {**add("Twice", "07700900003"), "action": "duplicate"},
        {**add("Same", "07700900004"), "action": "unchanged"},
    ]
    report = engine_for(server, tmp_path).run(read_plan_document(plan_doc(items)))
    assert report.results == []
    assert server.state.snapshot() == BOOK


@pytest.mark.parametrize(
    ("faults", "seen"),
    [
        (Faults(fail_rate=0.3), {500, 503}),
        (Faults(lose_rate=0.3), {500}),
        (Faults(rate_limit=(40, 1.0)), {200}),
        (Faults(token_ttl=0.3, latency=0.01), {401}),
        (Faults(fail_rate=0.15, lose_rate=0.15, token_ttl=0.5, rate_limit=(60, 1.0)), {500, 401}),
    ],
    ids=["5xx", "lost-answers", "throttled", "token-expiry", "everything"],
)
def test_faults_end_with_exactly_the_planned_phonebook(
    sandbox_factory, tmp_path, faults, seen
) -> None:
    # One fake clock for both sides: the latency and the client's waits move it, and it
    # decides when tokens expire and rate windows end: a token of 0.3 s expires after 30
    # requests of 10 ms latency, however fast the machine is.
    time = FakeTime()
    server = sandbox_factory(BOOK, faults=faults, seed=7, clock=time.clock, sleep=time.sleep_async)
    items = mixed_items(30)
    doc = plan_doc(items)
    report = engine_for(server, tmp_path, time).run(read_plan_document(doc))
    if not report.ok:  # a second run finishes what the first could not
        report = engine_for(server, tmp_path, time).run(read_plan_document(doc))
    assert report.ok, [(r.op.label, r.state, r.reason) for r in report.results]
    assert phonebook_rows(server.state.snapshot()) == expected_phonebook(BOOK, items)
    statuses = {status for _, _, status in server.state.requests}
    assert seen <= statuses  # the faults really happened


def test_stale_targets_are_skipped_not_overwritten(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(BOOK)
    items = [
        update("30001", contact("Alice Archer", "01632960001"), contact("Alice A", "01632960001")),
        delete("30002", contact("Bob Baker", "01632960002")),
        update("30003", contact("Carol Cooper", "01632960003"), contact("Carol C", "01632960003")),
    ]
    # Someone edits Alice and deletes Carol after the plan was made.
    server.state.replace_contacts([
        {**BOOK[0], "name": "Alice Archer-Smith"}, BOOK[1],
    ])  # fmt: skip
    report = engine_for(server, tmp_path).run(read_plan_document(plan_doc(items)))
    states = {r.op.contact_id: (r.state, r.reason) for r in report.results}
    assert states["30001"][0] == SKIPPED and "changed since the plan" in states["30001"][1]
    assert states["30002"][0] == DONE
    assert states["30003"] == (SKIPPED, "the contact no longer exists; not recreated")
    assert server.state.contacts["30001"]["name"] == "Alice Archer-Smith"
    assert report.ok


def test_an_add_whose_contact_already_exists_is_skipped(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(BOOK)
    items = [add("Alice Archer", "01632960001")]
    report = engine_for(server, tmp_path).run(read_plan_document(plan_doc(items)))
    assert report.results[0].state == SKIPPED
    assert "already exists as contact 30001" in report.results[0].reason
    assert len(server.state.snapshot()) == 3


def test_phonebook_changed_since_the_plan_is_noticed(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(BOOK)
    base = phonebook_fingerprint([Contact.from_dict(c) for c in BOOK])
    server.state.replace_contacts([*BOOK, {"id": "30009", "name": "Zed", "phone1": "1009"}])
    doc = plan_doc([add("New", "07700900001")], base=base)
    report = engine_for(server, tmp_path).run(read_plan_document(doc))
    assert report.phonebook_changed


def test_backup_is_written_before_the_first_change(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(BOOK)
    report = engine_for(server, tmp_path).run(
        read_plan_document(plan_doc([delete("30002", contact("Bob Baker", "01632960002"))]))
    )
    saved = json.loads(Path(report.backup_path).read_text(encoding="utf-8"))
    assert saved["contacts"] == BOOK
    assert saved["server"] == server.url


def test_running_the_same_plan_twice_changes_nothing_the_second_time(sandbox_factory, tmp_path):
    server = sandbox_factory(BOOK)
    doc = plan_doc(mixed_items(5))
    engine_for(server, tmp_path).run(read_plan_document(doc))
    after_first = server.state.snapshot()
    requests = len(server.state.requests)
    report = engine_for(server, tmp_path).run(read_plan_document(doc))
    assert server.state.snapshot() == after_first
    later = server.state.requests[requests:]  # one read, to say whether it still holds
    assert [path for _, path, _ in later] == ["/auth/login", "/phone-books/get-global-contacts"]
    assert report.applied_at is not None and report.ok


def test_journal_is_keyed_by_plan_id_so_lookalike_plans_both_apply(sandbox_factory, tmp_path):
    server = sandbox_factory(BOOK)
    items = [add("Twin", "07700900123")]
    engine_for(server, tmp_path).run(read_plan_document(plan_doc(items)))
    server.state.replace_contacts(BOOK)
    report = engine_for(server, tmp_path).run(read_plan_document(plan_doc(items)))
    assert report.results[0].state == DONE


def test_ids_of_added_contacts_are_learned_and_owned(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(BOOK)
    engine = engine_for(server, tmp_path)
    report = engine.run(read_plan_document(plan_doc([add("Owned One", "07700900111")])))
    new_id = report.results[0].new_id
    assert server.state.contacts[new_id]["name"] == "Owned One"
    assert engine.journal.owned_ids(server.url) == {new_id}


def test_a_forbidden_user_stops_early_and_fails(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(BOOK, users={"demo": "demo"}, read_only_users={"demo"})
    report = engine_for(server, tmp_path, concurrency=1).run(
        read_plan_document(plan_doc(mixed_items(5)))
    )
    assert not report.ok
    assert any("stopped early" in n for n in report.notes)
    assert server.state.snapshot() == BOOK


def test_a_malformed_plan_is_a_plan_error() -> None:
    broken = {**update("1", contact("A", "1"), contact("B", "1")), "before": None}
    with pytest.raises(PlanError, match=r"^plan item 1: an update needs"):
        read_plan_document(plan_doc([broken]))
    with pytest.raises(PlanError):
        read_plan_document({"items": []})


def test_messages_count_plan_items_from_1(tmp_path: Path) -> None:
    good = add("Fine", "07700900111")
    with pytest.raises(PlanError, match=r"^plan item 2: an add needs a name"):
        read_plan_document(plan_doc([good, add("", "07700900112")]))
    with pytest.raises(PlanError, match=r"^plan file: plan item 2 has unknown action"):
        read_plan_document(plan_doc([good, {**good, "action": "merge"}]))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_doc([good, {**good, "action": "merge"}])))
    with pytest.raises(PlanError, match=r"plan\.json: plan item 2 has unknown action"):
        load_plan_file(path)


def test_throttling_is_paced_not_stormed(sandbox_factory, tmp_path) -> None:
    time = FakeTime()
    server = sandbox_factory([], faults=Faults(rate_limit=(20, 1.0)), clock=time.clock)
    engine = engine_for(server, tmp_path, time, concurrency=4)
    report = engine.run(
        read_plan_document(plan_doc([add(f"P{n}", f"0770090{n:04d}") for n in range(30)]))
    )
    assert report.ok
    throttled = sum(1 for r in server.state.requests if r[2] == 429)
    assert throttled <= 4


def _crashed_while_sending(engine: ApplyEngine, target, idx: int) -> None:
    """Leave the journal as a run killed mid-request would: begun, baselined, one op sending."""
    journal = engine.journal
    ops = [(op.idx, op.action, op.contact_id) for op in target.operations]
    journal.begin(target.plan_id, engine.client.base_url, ops)
    journal.set_baseline(target.plan_id, engine.client.base_url, [(idx, [])])
    journal.set_state(target.plan_id, engine.client.base_url, idx, "sending", attempt=True)


def test_an_add_that_landed_before_a_crash_is_verified_not_repeated(sandbox_factory, tmp_path):
    server = sandbox_factory(BOOK)
    target = read_plan_document(plan_doc([add("Landed", "07700900321")]))
    engine = engine_for(server, tmp_path)
    _crashed_while_sending(engine, target, 0)
    server.state.replace_contacts([*BOOK, {"id": "30050", "name": "Landed",
                                           "phone1": "07700900321"}])  # fmt: skip
    report = engine.run(target)
    assert (report.results[0].state, report.results[0].new_id) == (DONE, "30050")
    assert report.results[0].reason == "verified by reading"
    assert [c["name"] for c in server.state.snapshot()].count("Landed") == 1


def test_an_add_lost_in_a_crash_is_sent_again(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(BOOK)
    target = read_plan_document(plan_doc([add("Lost", "07700900322")]))
    engine = engine_for(server, tmp_path)
    _crashed_while_sending(engine, target, 0)
    report = engine.run(target)
    assert report.results[0].state == DONE
    assert [c["name"] for c in server.state.snapshot()].count("Lost") == 1
