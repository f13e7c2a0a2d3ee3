"""Parts of a plan worked out in a second process (connector.reconcile.ahead): the plan
is the same as without it, whatever happens to the child."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planning_helpers import CREATED, contact, record
from test_plan import World, worlds

from connector.model import Contact, SourceRecord
from connector.reconcile import ahead as ahead_module
from connector.reconcile.ahead import phonebook_ahead, records_share
from connector.reconcile.phones import PhoneNormaliser
from connector.reconcile.plan import Plan, PlanSettings
from connector.reconcile.planner import make_plan
from connector.reconcile.remotes import prepare_phonebook

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")


def _plan(
    records: list[SourceRecord], contacts: list[Contact], *, forked: bool, **options: str
) -> Plan:
    settings = PlanSettings(**options)  # type: ignore[arg-type]
    least = 0 if forked else 10**9
    with phonebook_ahead(contacts, settings.region, records, min_contacts=least) as ahead:
        assert (ahead is not None) == (forked and len(records) * 5 >= len(contacts))
        return make_plan(
            records, contacts, settings, plan_id="0" * 32, created_at=CREATED, ahead=ahead
        )


def _scene(copies: int = 1) -> World:
    """Three records (``copies`` times over: enough for the child to take some) and four
    contacts, one with a slot that is no number and two of the same name."""
    records = []
    for n in range(copies):  # repeats of the first three, each with a key of its own
        records += [
            record(f"k1-{n}", "John Smith", "07852 902011"),
            record(f"k2-{n}", "Acme Ltd", "+44 1491 833000", "020 7946 0123"),
            record(f"k3-{n}", "Jane Doe", "07700 900123"),
        ]
    contacts = [
        contact("30002", "Acme Limited", "01491833000", "ask reception"),
        contact("30001", "Smith, John", "07852902011"),
        contact("9", "Old Friend", "07700900999"),
        contact("10", "Old Friend", "07700900999"),
    ]
    return records, contacts


@given(worlds(), st.sampled_from(["merge", "replace"]), st.sampled_from(["phonebook", "source"]))
@settings(max_examples=40, deadline=None)
def test_a_plan_with_the_phonebook_prepared_in_a_child_is_the_same_plan(
    world: World, phones: str, names: str
) -> None:
    records, contacts = world
    if len(records) * 5 < len(contacts):
        records = records * 5  # enough records for a child to be started
    alone = _plan(records, contacts, forked=False, phones=phones, names=names)
    assert _plan(records, contacts, forked=True, phones=phones, names=names) == alone


def test_what_the_child_sends_is_what_the_planner_would_work_out() -> None:
    records, contacts = _scene(copies=4)  # the child takes the numbers of the last few
    with phonebook_ahead(contacts, "GB", records, min_contacts=0) as ahead:
        assert ahead is not None
        assert 0 < ahead.records_from < len(records)
        phones = ahead.record_phones()
        sent = ahead.phonebook()
    normaliser = PhoneNormaliser("GB")
    tail = records[ahead.records_from :]
    assert phones == [normaliser.normalise_record_phones(r.phones) for r in tail]
    assert sent == prepare_phonebook(contacts, "GB")
    assert sent is not None and sent.ids == ["9", "10", "30001", "30002"]
    assert sent.stored[3] == ("01491833000", "ask reception")  # not the party's numbers


def test_a_child_that_fails_leaves_the_work_to_the_planner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records, contacts = _scene()
    alone = _plan(records, contacts, forked=False)

    def broken(contacts: object, region: str) -> object:
        raise MemoryError  # as the child would if the system ran out

    monkeypatch.setattr(ahead_module, "prepare_phonebook", broken)
    with phonebook_ahead(contacts, "GB", records, min_contacts=0) as ahead:
        assert ahead is not None and ahead.phonebook() is None
    assert _plan(records, contacts, forked=True) == alone


def test_a_child_that_dies_before_sending_anything_leaves_all_to_the_planner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records, contacts = _scene(copies=4)
    alone = _plan(records, contacts, forked=False)

    def broken(records: object) -> object:
        raise MemoryError

    monkeypatch.setattr(ahead_module.PhoneNormaliser, "normalise_record_phones", broken)
    with phonebook_ahead(contacts, "GB", records, min_contacts=0) as ahead:
        assert ahead is not None
        assert ahead.record_phones() is None and ahead.phonebook() is None
    monkeypatch.undo()
    assert _plan(records, contacts, forked=True) == alone


def test_a_child_that_sends_nonsense_leaves_the_work_to_the_planner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records, contacts = _scene()
    alone = _plan(records, contacts, forked=False)
    monkeypatch.setattr(ahead_module.msgspec.msgpack, "encode", lambda wire: b"\xc1 not msgpack")
    assert _plan(records, contacts, forked=True) == alone


def test_another_phonebook_prepared_is_not_used() -> None:
    records, contacts = _scene()
    alone = _plan(records, contacts, forked=False)
    other = [*contacts[:3], contact("30003", "Someone Else", "07852902011")]
    with phonebook_ahead(other, "GB", records, min_contacts=0) as ahead:
        made = make_plan(records, contacts, plan_id="0" * 32, created_at=CREATED, ahead=ahead)
    assert made == alone


def test_a_small_phonebook_or_a_small_file_is_not_worth_a_process() -> None:
    records, contacts = _scene()
    with phonebook_ahead(contacts, "GB", records) as ahead:
        assert ahead is None
    with phonebook_ahead(contacts * 6, "GB", records, min_contacts=0) as ahead:
        assert ahead is None  # 3 records against 24 contacts: the parent would only wait


@pytest.mark.parametrize(
    ("records", "contacts", "share"),
    [(100_000, 100_000, 40_000), (10_000, 100_000, 0), (100_000, 20_000, 40_000),
     (100_000, 150_000, 13_333), (0, 0, 0)],
)  # fmt: skip
def test_the_child_takes_the_last_records_only_as_far_as_it_can_keep_up(
    records: int, contacts: int, share: int
) -> None:
    assert records_share(records, contacts) == share


def test_the_plan_command_prepares_a_large_phonebook_in_a_child(
    run_cli, sandbox_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the command line: with the threshold lowered to this phonebook, the child
    is started and waited for, and the plan file is the one made without it."""
    book = [
        {"id": str(30001 + i), "name": f"Person {i}", "phone1": f"0785290{2000 + i}",
         "phone2": "", "phone3": ""}
        for i in range(40)
    ]  # fmt: skip
    server = sandbox_factory(contacts=book)
    source = tmp_path / "people.csv"
    rows = [f"Person {i},0785290{2000 + i}" for i in range(0, 40, 2)]
    source.write_text("Name,Phone\n" + "\n".join([*rows, "New Person,07700900123"]) + "\n")
    started: list[int] = []
    start = ahead_module._Worker.start

    def counted(contacts: list[Contact], records: list[SourceRecord], *args: object) -> object:
        started.append(len(contacts))
        return start(contacts, records, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ahead_module._Worker, "start", staticmethod(counted))
    outputs = {}
    for least in (10**9, 0):
        monkeypatch.setattr(ahead_module, "MIN_CONTACTS", least)
        out = tmp_path / f"plan-{least}.json"
        result = run_cli("plan", str(source), "--out", str(out), server=server)
        assert result.exit_code == 0, result.output
        saved = json.loads(out.read_text())
        outputs[least] = (saved["items"], saved["base"], saved["summary"])
    assert started == [40]  # only with the threshold lowered
    assert outputs[0] == outputs[10**9]
    assert outputs[0][2]["unchanged"] == 20 and outputs[0][2]["add"] == 1


def test_numbers_for_fewer_records_than_asked_are_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records, contacts = _scene(copies=4)
    alone = _plan(records, contacts, forked=False)
    send = ahead_module._send

    def short(fd: int, value: object, done_fd: int) -> None:
        send(fd, value[:-1] if isinstance(value, list) else value, done_fd)

    monkeypatch.setattr(ahead_module, "_send", short)
    assert _plan(records, contacts, forked=True) == alone


def test_the_child_is_waited_for_and_no_file_is_left_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records, contacts = _scene(copies=4)
    workers: list[ahead_module._Worker] = []
    start = ahead_module._Worker.start

    def kept(*args: object) -> object:
        worker = start(*args)  # type: ignore[arg-type]
        workers.append(worker)  # type: ignore[arg-type]
        return worker

    monkeypatch.setattr(ahead_module._Worker, "start", staticmethod(kept))
    before = set(os.listdir("/proc/self/fd"))
    for _ in range(3):
        _plan(records, contacts, forked=True)
    assert set(os.listdir("/proc/self/fd")) == before
    assert len(workers) == 3
    for worker in workers:
        with pytest.raises(ChildProcessError):
            os.waitpid(worker._pid, os.WNOHANG)  # waited for already: no zombie left
