"""The safety valves of a scheduled sync: which plan each holds back, exactly at which
boundary, in which order, and what the message tells the operator to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.model import ContactFields
from connector.reconcile.plan import Plan, PlanItem, PlanSettings, SourceRef
from connector.sync.job import DEFAULT_MAX_DELETES, MaxDeletes, Policy
from connector.sync.valves import (
    EMPTY_SOURCE,
    INCOMPLETE_SOURCE,
    MAX_DELETES,
    MIRROR_UNCONFIRMED,
    VALVES,
    ValveTrip,
    check_valves,
)

REPORT = "reports/crm-nightly-20250101T020000Z.json"


def make_plan(*, delete: int = 0, rejected: int = 0, **source_actions: int) -> Plan:
    """A plan with that many items of each action: one per source record, and the deletes
    (phonebook contacts without a record) after them."""
    items = []
    counts = {**source_actions, "rejected": rejected}
    for action, count in counts.items():
        for n in range(count):
            key = f"{action}-{n}"
            items.append(PlanItem(action, source=SourceRef(key, f"row {len(items) + 2}")))
    for n in range(delete):
        fields = ContactFields(f"Gone {n}", "01632960000")
        items.append(PlanItem("delete", id=str(30000 + n), before=fields, reason="owned"))
    return Plan(
        plan_id="p",
        created_at=datetime(2025, 1, 1, 2, tzinfo=timezone.utc),
        server="http://127.0.0.1:8000",
        base="b",
        settings=PlanSettings(),
        items=tuple(items),
    )


@dataclass
class Run:
    """One run's inputs to the valves; the defaults are an ordinary nightly run."""

    plan: Plan = field(default_factory=lambda: make_plan(unchanged=500))
    records: int | None = None  # default: the plan's source items
    source_complete: bool = True
    phonebook_size: int = 1000
    bound_contacts: int = 500
    policy: Policy = field(default_factory=lambda: Policy(delete="owned"))
    allow_deletes: int | None = None
    confirmed: bool = False
    report: str | None = REPORT
    partial: bool = False

    def check(self) -> ValveTrip | None:
        records = self.records
        if records is None:
            records = sum(1 for item in self.plan.items if item.source is not None)
        return check_valves(
            self.plan,
            records=records,
            source_complete=self.source_complete,
            partial=self.partial,
            phonebook_size=self.phonebook_size,
            bound_contacts=self.bound_contacts,
            policy=self.policy,
            allow_deletes=self.allow_deletes,
            confirmed=self.confirmed,
            report=self.report,
        )


def policy(delete: str = "owned", max_deletes: object = DEFAULT_MAX_DELETES) -> Policy:
    return Policy(delete=delete, max_deletes=MaxDeletes.parse(max_deletes))  # type: ignore[arg-type]


def nightly(deletes: int, **changes: object) -> Run:
    """A run whose plan keeps 500 records and deletes ``deletes`` owned contacts."""
    run = Run(plan=make_plan(unchanged=500, delete=deletes))
    for name, value in changes.items():
        setattr(run, name, value)
    return run


CASES = [
    # (id, run, the valve that trips or None)
    ("nothing to do", Run(), None),
    ("adds and updates only", Run(plan=make_plan(add=40, update=300)), None),
    # max_deletes, at and past the boundary
    ("exactly the default limit (10 of 1000)", nightly(10), None),
    ("one past the default limit", nightly(11), MAX_DELETES),
    ("default limit on 100 contacts is 5%: 5", nightly(5, phonebook_size=100), None),
    ("default limit on 100 contacts: 6 trips", nightly(6, phonebook_size=100), MAX_DELETES),
    ("5% of 19 contacts rounds down to 0", nightly(1, phonebook_size=19), MAX_DELETES),
    ("5% of 20 contacts is 1", nightly(1, phonebook_size=20), None),
    ("5% of 0 contacts allows no delete", nightly(0, phonebook_size=0, bound_contacts=0), None),
    ("a count limit, exactly", nightly(3, policy=policy(max_deletes=3)), None),
    ("a count limit, one past", nightly(4, policy=policy(max_deletes=3)), MAX_DELETES),
    ("a share limit, exactly", nightly(20, policy=policy(max_deletes="2%")), None),
    ("a share limit, one past", nightly(21, policy=policy(max_deletes="2%")), MAX_DELETES),
    ("max_deletes 0 and no delete", nightly(0, policy=policy(max_deletes=0)), None),
    ("max_deletes 0 and one delete", nightly(1, policy=policy(max_deletes=0)), MAX_DELETES),
    # --allow-deletes N: exactly up to N, and it replaces the limit for the run
    ("allowed exactly", nightly(37, allow_deletes=37), None),
    ("allowed fewer than planned", nightly(38, allow_deletes=37), MAX_DELETES),
    ("allowed more than planned", nightly(12, allow_deletes=100), None),
    ("allowed fewer than the policy would", nightly(8, allow_deletes=5), MAX_DELETES),
    ("allowed none, none planned", nightly(0, allow_deletes=0), None),
    # an incremental read that found nothing changed is a quiet night, not an empty source
    ("incremental, nothing changed", Run(plan=make_plan(), records=0, partial=True), None),
    ("a full read, nothing read", Run(plan=make_plan(), records=0), EMPTY_SOURCE),
    # a source read incompletely never deletes
    ("incomplete, no delete", nightly(0, source_complete=False), None),
    ("incomplete, one delete", nightly(1, source_complete=False), INCOMPLETE_SOURCE),
    (
        "incomplete, deletes allowed",
        nightly(1, source_complete=False, allow_deletes=100),
        INCOMPLETE_SOURCE,
    ),
    # an empty source
    (
        "empty source, bound contacts, owned",
        Run(plan=make_plan(delete=120), bound_contacts=120),
        EMPTY_SOURCE,
    ),
    (
        "empty source, checked",
        Run(plan=make_plan(delete=120), bound_contacts=120, allow_deletes=120),
        None,
    ),
    (
        "empty source, bound contacts, never deletes",
        Run(plan=make_plan(), bound_contacts=3, policy=policy("never")),
        EMPTY_SOURCE,
    ),
    (
        "empty source, never deletes, checked",
        Run(plan=make_plan(), bound_contacts=3, policy=policy("never"), allow_deletes=0),
        None,
    ),
    ("every record rejected", Run(plan=make_plan(rejected=5), bound_contacts=3), EMPTY_SOURCE),
    ("empty source, a new job", Run(plan=make_plan(), bound_contacts=0), None),
    (
        "empty source, a new job, mirror",
        Run(
            plan=make_plan(delete=40),
            bound_contacts=0,
            policy=policy("mirror", 100),
            confirmed=True,
        ),
        EMPTY_SOURCE,
    ),
    ("one usable record", Run(plan=make_plan(rejected=5, unchanged=1)), None),
    # mirror needs --yes every time, whatever it deletes
    ("mirror without --yes", nightly(0, policy=policy("mirror")), MIRROR_UNCONFIRMED),
    ("mirror with --yes", nightly(3, policy=policy("mirror"), confirmed=True), None),
    ("--yes alone changes nothing", nightly(11, confirmed=True), MAX_DELETES),
    (
        "mirror with --yes, too many deletes",
        nightly(11, policy=policy("mirror"), confirmed=True),
        MAX_DELETES,
    ),
    # the order: incomplete, empty, max_deletes, mirror
    (
        "incomplete before max_deletes and mirror",
        nightly(50, source_complete=False, policy=policy("mirror")),
        INCOMPLETE_SOURCE,
    ),
    (
        "empty before max_deletes",
        Run(plan=make_plan(delete=500), bound_contacts=500),
        EMPTY_SOURCE,
    ),
    ("max_deletes before mirror", nightly(11, policy=policy("mirror")), MAX_DELETES),
    (
        "mirror after --allow-deletes",
        nightly(11, policy=policy("mirror"), allow_deletes=11),
        MIRROR_UNCONFIRMED,
    ),
    (
        "mirror, checked and confirmed",
        nightly(11, policy=policy("mirror"), allow_deletes=11, confirmed=True),
        None,
    ),
]


@pytest.mark.parametrize(("run", "valve"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_which_valve_trips(run: Run, valve: str | None) -> None:
    trip = run.check()
    assert (trip.valve if trip else None) == valve
    if trip is not None:
        assert trip.deletes == run.plan.summary["delete"]
        assert trip.message.startswith(f"safety valve {valve}: ")
        assert "nothing was written" in trip.message
        assert "\n" not in trip.message


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (
            nightly(37),
            "safety valve max-deletes: would delete 37 contacts, more than max_deletes (10 or "
            "5%, whichever is lower: 10 of 1000 contacts) allows, so nothing was written: "
            f"check the plan in {REPORT}, then run again with --allow-deletes 37",
        ),
        (
            nightly(37, policy=policy(max_deletes=10), report=None),
            "safety valve max-deletes: would delete 37 contacts, more than max_deletes (10) "
            "allows, so nothing was written: check the deletes in the plan, then run again "
            "with --allow-deletes 37",
        ),
        (
            nightly(2, policy=policy(max_deletes="0.1%")),
            "safety valve max-deletes: would delete 2 contacts, more than max_deletes (0.1%: "
            "1 of 1000 contacts) allows, so nothing was written: check the plan in "
            f"{REPORT}, then run again with --allow-deletes 2",
        ),
        (
            nightly(40, allow_deletes=37),
            "safety valve max-deletes: would delete 40 contacts, more than --allow-deletes 37, "
            f"so nothing was written: check the plan in {REPORT}, then run again with "
            "--allow-deletes 40",
        ),
        (
            nightly(1, source_complete=False),
            "safety valve incomplete-source: the source was not read completely and the plan "
            "would delete 1 contact that may only be missing from this read, so nothing was "
            "written: run again once the source reads completely (--allow-deletes does not "
            "apply)",
        ),
        (
            Run(plan=make_plan(delete=120), records=0, bound_contacts=120),
            "safety valve empty-source: the source has no usable records (none read) but this "
            "job is bound to 120 contacts in the phonebook, and the plan would delete 120; a "
            "truncated export or a source answering an empty list is the usual cause, so "
            "nothing was written: if the source really is empty, check the plan in "
            f"{REPORT}, then run again with --allow-deletes 120",
        ),
        (
            Run(plan=make_plan(rejected=4), bound_contacts=1, policy=policy("never")),
            "safety valve empty-source: the source has no usable records (4 read, all "
            "rejected) but this job is bound to 1 contact in the phonebook, and the plan would "
            "delete 0; a truncated export or a source answering an empty list is the usual "
            "cause, so nothing was written: if the source really is empty, check the plan in "
            f"{REPORT}, then run again with --allow-deletes 0",
        ),
        (
            nightly(3, policy=policy("mirror")),
            "safety valve mirror-unconfirmed: the delete policy is mirror, which deletes every "
            "contact the source does not match (3 in this plan) and needs --yes on every run, "
            f"so nothing was written: check the plan in {REPORT}, then run again with --yes",
        ),
        (
            nightly(11, policy=policy("mirror")),
            "safety valve max-deletes: would delete 11 contacts, more than max_deletes (10 or "
            "5%, whichever is lower: 10 of 1000 contacts) allows, so nothing was written: "
            f"check the plan in {REPORT}, then run again with --allow-deletes 11 --yes",
        ),
    ],
)
def test_the_message_says_how_many_which_valve_and_how_to_go_on(run: Run, message: str) -> None:
    trip = run.check()
    assert trip is not None
    assert trip.message == message


def test_following_the_message_gets_the_run_through() -> None:
    run = nightly(37, policy=policy("mirror"))
    trip = run.check()
    assert trip is not None and trip.message.endswith("--allow-deletes 37 --yes")
    assert nightly(37, policy=policy("mirror"), allow_deletes=37, confirmed=True).check() is None


def test_an_allowance_covers_one_count_of_deletes_not_later_larger_ones() -> None:
    assert nightly(37, allow_deletes=37).check() is None
    later = nightly(52, allow_deletes=37).check()
    assert later is not None and later.deletes == 52
    assert later.message.endswith("run again with --allow-deletes 52")


def test_a_negative_allowance_is_a_mistake_of_the_caller() -> None:
    with pytest.raises(ValueError, match="allow_deletes cannot be negative"):
        nightly(0, allow_deletes=-1).check()


def test_the_valves_are_listed_in_the_order_they_are_checked() -> None:
    assert VALVES == (INCOMPLETE_SOURCE, EMPTY_SOURCE, MAX_DELETES, MIRROR_UNCONFIRMED)


@given(
    deletes=st.integers(0, 300),
    phonebook=st.integers(0, 5000),
    count=st.none() | st.integers(0, 50),
    percent=st.none() | st.decimals(0, 100, places=1),
    allow=st.none() | st.integers(0, 300),
)
def test_a_complete_source_trips_on_deletes_exactly_past_the_limit(
    deletes: int, phonebook: int, count: int | None, percent: Decimal | None, allow: int | None
) -> None:
    if count is None and percent is None:
        count = 10
    limit = MaxDeletes(count, percent)
    run = nightly(
        deletes, phonebook_size=phonebook, policy=Policy(delete="owned", max_deletes=limit)
    )
    run.allow_deletes = allow
    trip = run.check()
    allowed = limit.limit(phonebook) if allow is None else allow
    assert (trip is not None) == (deletes > allowed)
    if trip is not None:
        assert trip.valve == MAX_DELETES
        assert f"would delete {deletes} contact" in trip.message
        assert trip.message.endswith(f"--allow-deletes {deletes}")
