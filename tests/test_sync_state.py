"""The sync state of a job and the ownership registry: what they keep, refuse and survive."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from connector.apply.target import same_server
from connector.errors import ConfigError
from connector.model import ContactFields
from connector.sync import (
    ERROR,
    OK,
    SCHEMA_VERSION,
    UNFINISHED,
    VALVE,
    BindingConflict,
    OwnershipConflict,
    OwnershipRegistry,
    StateError,
    StateMismatch,
    SyncState,
    check_job_name,
    clean_server,
    default_registry_path,
    default_state_path,
    server_key,
)
from connector.sync.state import _add_new_columns

SERVER = "https://pbx.example.com"
START = datetime(2027, 1, 15, 2, 0, tzinfo=timezone.utc)
AMELIA = ContactFields("Amelia Hartley", "+441491833000", "07591524881")
AMELIA_NEW = ContactFields("Amelia Hartley-Jones", "+441491833000", "07700900123")
BRIAN = ContactFields("Brian O'Neill", "+442079460000")


class Clock:
    """A wall clock that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SIPALTO_SYNC_HOME", str(home))
    return home


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "crm-nightly.db"


@pytest.fixture
def state(path: Path, clock: Clock):
    with SyncState.open(path, job="crm-nightly", server=SERVER, clock=clock) as state:
        yield state


def reopen(path: Path, clock: Clock | None = None, **identity: str) -> SyncState:
    identity = {"job": "crm-nightly", "server": SERVER, **identity}
    return SyncState.open(path, clock=clock or Clock(), **identity)


# -- names and paths ------------------------------------------------------------------


def test_the_default_state_is_one_file_per_job_under_the_data_directory(home: Path) -> None:
    assert default_state_path("crm-nightly") == home / "jobs" / "crm-nightly.db"
    assert default_registry_path() == home / "owners.db"


@pytest.mark.parametrize(
    "name",
    ["", "../etc", "a/b", "a\\b", ".hidden", "-rf", "crm nightly", "x\n", "nul\0", "é", "a" * 65],
)
def test_a_job_name_that_is_not_a_safe_file_name_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=r"job name .* is not usable"):
        default_state_path(name)


@pytest.mark.parametrize("name", ["crm-nightly", "CRM_2", "a", "export.v2", "a" * 64])
def test_a_plain_job_name_is_accepted(name: str) -> None:
    assert check_job_name(name) == name


def test_a_new_state_is_private_and_in_a_private_folder(home: Path) -> None:
    path = default_state_path("crm-nightly")
    old = os.umask(0)
    try:
        with reopen(path) as state:
            state.bind("k1", "33333", AMELIA, owned=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for side in path.parent.glob("crm-nightly.db-*"):
        assert stat.S_IMODE(side.stat().st_mode) == 0o600


# -- identity -----------------------------------------------------------------------------


def test_a_new_state_records_its_job_server_and_creation(path: Path, clock: Clock) -> None:
    with reopen(path, clock) as state:
        assert state.new
        assert (state.job, state.server, state.created_at) == ("crm-nightly", SERVER, START)
        assert state.schema_version == SCHEMA_VERSION
        assert state.mismatch is None
    clock.advance(days=1)
    with reopen(path, clock) as again:
        assert not again.new
        assert again.created_at == START


def test_userinfo_query_and_fragment_never_reach_the_file(path: Path) -> None:
    url = "https://sync-user:hunter2-secret@pbx.example.com:8443/api?token=tok-secret#frag"
    with reopen(path, server=url) as state:
        assert state.server == "https://pbx.example.com:8443/api"
        state.bind("k1", "33333", AMELIA, owned=True)
        state.set_value("cursor", "2027-01-15")
    with reopen(path, server="https://pbx.example.com:8443/api") as again:
        assert again.mismatch is None
    written = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"secret" not in written
    assert b"sync-user" not in written


@pytest.mark.parametrize(
    "url", ["ftp://pbx.example.com", "pbx.example.com", "https://", "https://h:port", "http://[::1"]
)
def test_a_server_that_is_not_an_http_url_is_refused(path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="not an http\\(s\\) base URL"):
        reopen(path, server=url)
    assert not path.exists()


def test_a_refused_server_url_with_userinfo_is_not_repeated() -> None:
    with pytest.raises(ConfigError) as caught:
        clean_server("ftp://user:hunter2@pbx.example.com")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "spelling",
    ["https://PBX.example.com/", "https://pbx.example.com:443", "https://u:p@pbx.example.com"],
)
def test_the_same_server_spelled_differently_is_no_mismatch(path: Path, spelling: str) -> None:
    reopen(path).close()
    with reopen(path, server=spelling) as state:
        assert state.mismatch is None
        assert state.server == SERVER


def test_a_state_made_for_another_server_says_so_and_guards_its_bindings(path: Path) -> None:
    with reopen(path) as state:
        state.bind("k1", "33333", AMELIA, owned=True)
        state.hold("k1", "edited")
        state.set_value("cursor", "c1")
        run = state.begin_run(dry_run=False)
        state.finish_run(run, OK, {"add": 1})
    with reopen(path, server="https://other.example.com") as moved:
        assert moved.mismatch == f"made for server {SERVER}"
        for use in (
            moved.bindings,
            moved.bound_ids,
            moved.owned_ids,
            moved.held,
            lambda: moved.get_value("cursor"),
            lambda: moved.bind("k2", "44444", BRIAN, owned=True),
            lambda: moved.confirm("k1", AMELIA),
            lambda: moved.unbind("k1"),
            lambda: moved.forget_contact("33333"),
            lambda: moved.hold("k1", "edited"),
            lambda: moved.release("k1"),
            lambda: moved.set_value("cursor", "c2"),
        ):
            with pytest.raises(StateMismatch, match=r"made for server .*reset it"):
                use()
        # The history is the file's, whoever it belongs to now.
        assert moved.last_run() is not None
        assert moved.last_run().counts == {"add": 1}


def test_a_state_made_for_another_job_says_so(path: Path) -> None:
    reopen(path).close()
    with reopen(path, job="hr-weekly") as state:
        assert state.mismatch == "made for job 'crm-nightly'"
    with reopen(path, job="hr-weekly", server="http://other.example.com") as state:
        assert state.mismatch == f"made for job 'crm-nightly' on server {SERVER}"


def test_reset_drops_bindings_holds_and_values_keeps_runs_and_records_it(
    path: Path, clock: Clock
) -> None:
    with reopen(path) as state:
        state.bind("k1", "33333", AMELIA, owned=True)
        state.bind("k2", "44444", BRIAN, owned=False)
        state.hold("k2", "edited")
        state.set_value("cursor", "c1")
        state.finish_run(state.begin_run(dry_run=False), OK, {})
    clock.advance(days=2)
    other = "https://other.example.com"
    with reopen(path, clock, server=other) as state:
        reset = state.reset()
        assert state.mismatch is None
        assert (state.job, state.server) == ("crm-nightly", other)
        assert state.bindings() == {}
        assert state.held() == []
        assert state.get_value("cursor") is None
        assert len(state.runs()) == 1
    assert (reset.at, reset.previous_server, reset.server) == (clock.now, SERVER, other)
    assert (reset.bindings, reset.owned) == (2, 1)
    with reopen(path, server=other) as again:
        assert again.mismatch is None
        assert again.resets() == [reset]


def test_reset_of_a_state_that_is_not_mismatched_rebuilds_it(state: SyncState) -> None:
    state.bind("k1", "33333", AMELIA, owned=True)
    reset = state.reset()
    assert (reset.previous_server, reset.server, reset.bindings) == (SERVER, SERVER, 1)
    assert state.owned_ids() == frozenset()


# -- files that are not a state ------------------------------------------------------------


def test_a_file_that_is_not_sqlite_is_a_config_error_naming_it(path: Path) -> None:
    path.write_text("name,phone\nAmelia,0149\n" * 200)
    with pytest.raises(ConfigError, match=f"{path}: is not a sync state file"):
        reopen(path)


def test_an_sqlite_database_of_another_kind_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    with sqlite3.connect(journal) as db:
        db.execute("CREATE TABLE runs (plan_id TEXT)")
    db.close()
    with pytest.raises(ConfigError, match="is an SQLite database but not a sync state file"):
        reopen(journal)
    with pytest.raises(ConfigError, match="is an SQLite database but not a job ownership registry"):
        OwnershipRegistry(journal)


def test_a_state_from_a_newer_version_is_refused_untouched(path: Path) -> None:
    reopen(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.close()
    with pytest.raises(ConfigError, match=f"{path}: .*newer sipalto-sync \\(schema 99"):
        reopen(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("99",)
    db.close()


def test_an_empty_file_left_by_a_killed_first_run_becomes_a_new_state(path: Path) -> None:
    path.touch()
    with reopen(path) as state:
        assert state.new


def test_a_column_added_later_is_added_to_an_older_file_keeping_its_rows(path: Path) -> None:
    with reopen(path) as state:
        state.bind("k1", "33333", AMELIA, owned=True)
    db = sqlite3.connect(path)
    _add_new_columns(db, [("bindings", "note", "TEXT NOT NULL DEFAULT ''")])
    _add_new_columns(db, [("bindings", "note", "TEXT NOT NULL DEFAULT ''")])  # idempotent
    assert db.execute("SELECT source_key, note FROM bindings").fetchall() == [("k1", "")]
    db.close()


# -- bindings -----------------------------------------------------------------------------


def test_bind_records_the_contact_ownership_and_baseline(state: SyncState, clock: Clock) -> None:
    added = state.bind("k1", "33333", AMELIA, owned=True)
    state.bind("k2", "44444", BRIAN, owned=False)
    assert added.key == "k1"
    assert (added.contact_id, added.owned, added.fields) == ("33333", True, AMELIA)
    assert added.bound_at == added.confirmed_at == START
    assert state.bindings() == {"k1": added, "k2": state.bindings()["k2"]}
    assert state.bound_ids() == {"33333", "44444"}
    assert state.owned_ids() == {"33333"}


def test_the_baseline_is_kept_exactly_as_written(state: SyncState) -> None:
    odd = ContactFields("  Zoë  ŁÓDŹ, Ltd.\t", "+44 (0)1491 833000", "", "0800-FLOWERS")
    state.bind("k 1/ü", "33333", odd, owned=False)
    assert state.bindings()["k 1/ü"].fields == odd


def test_rebinding_a_key_to_another_contact_starts_a_new_binding(
    state: SyncState, clock: Clock
) -> None:
    state.bind("k1", "33333", AMELIA, owned=True)
    clock.advance(days=1)
    same = state.bind("k1", "33333", AMELIA_NEW, owned=True)
    assert (same.bound_at, same.confirmed_at, same.fields) == (START, clock.now, AMELIA_NEW)
    clock.advance(days=1)
    moved = state.bind("k1", "55555", AMELIA_NEW, owned=False)
    assert (moved.contact_id, moved.owned, moved.bound_at) == ("55555", False, clock.now)
    assert state.bound_ids() == {"55555"}


def test_a_contact_bound_to_another_key_is_a_conflict_that_changes_nothing(
    state: SyncState,
) -> None:
    state.bind("k1", "33333", AMELIA, owned=True)
    state.bind("k2", "44444", BRIAN, owned=True)
    before = state.bindings()
    with pytest.raises(BindingConflict, match="contact 33333 is already bound to source key 'k1'"):
        state.bind("k2", "33333", BRIAN, owned=True)
    with pytest.raises(BindingConflict) as caught:
        state.bind("k3", "33333", BRIAN, owned=False)
    assert (caught.value.key, caught.value.contact_id, caught.value.other_key) == (
        "k3",
        "33333",
        "k1",
    )
    assert state.bindings() == before


def test_the_database_itself_refuses_two_keys_for_one_contact(state: SyncState) -> None:
    state.bind("k1", "33333", AMELIA, owned=True)
    db = sqlite3.connect(state.path)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute(
            "INSERT INTO bindings VALUES ('k2', '33333', 1, 'x', '', '', '', 'now', 'now', NULL)"
        )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute(
            "INSERT INTO bindings VALUES ('k3', '9', 2, 'x', '', '', '', 'now', 'now', NULL)"
        )
    db.close()


@pytest.mark.parametrize(("key", "contact_id"), [("", "33333"), ("k1", "")])
def test_a_binding_needs_a_key_and_an_id(state: SyncState, key: str, contact_id: str) -> None:
    with pytest.raises(StateError, match="needs a source key and a contact id"):
        state.bind(key, contact_id, AMELIA, owned=True)


def test_confirm_makes_a_new_baseline_and_keeps_ownership(state: SyncState, clock: Clock) -> None:
    state.bind("k1", "33333", AMELIA, owned=True)
    clock.advance(hours=25)
    confirmed = state.confirm("k1", AMELIA_NEW)
    assert (confirmed.fields, confirmed.owned, confirmed.contact_id) == (AMELIA_NEW, True, "33333")
    assert (confirmed.bound_at, confirmed.confirmed_at) == (START, clock.now)
    assert state.bindings()["k1"] == confirmed


def test_a_kept_edit_keeps_the_jobs_own_version_beside_the_new_baseline(
    state: SyncState,
) -> None:
    state.bind("k1", "33333", AMELIA, owned=True)
    kept = state.confirm("k1", AMELIA_NEW, own=AMELIA)
    assert (kept.fields, kept.own, kept.base) == (AMELIA_NEW, AMELIA, AMELIA)
    assert state.bindings()["k1"] == kept
    # A write of the job's (or the phonebook coming to say what the source says) makes
    # the baseline the job's version again.
    assert state.confirm("k1", AMELIA_NEW).own is None
    rebound = state.bind("k1", "33333", AMELIA_NEW, owned=True, own=AMELIA)
    assert rebound.base == AMELIA
    assert state.bind("k1", "33333", AMELIA, owned=True, own=AMELIA).own is None


def test_a_state_file_from_before_own_versions_opens_with_none(path: Path) -> None:
    with reopen(path) as state:
        state.bind("k1", "33333", AMELIA, owned=True)
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE bindings DROP COLUMN own")
    db.commit()
    db.close()
    with reopen(path) as state:
        assert state.bindings()["k1"].own is None
        assert state.confirm("k1", AMELIA_NEW, own=AMELIA).own == AMELIA


def test_confirming_an_unbound_key_is_an_error(state: SyncState) -> None:
    with pytest.raises(StateError, match="source key 'k9' is not bound"):
        state.confirm("k9", AMELIA)


def test_unbind_drops_the_binding_and_returns_it(state: SyncState) -> None:
    bound = state.bind("k1", "33333", AMELIA, owned=True)
    state.hold("k1", "edited")
    assert state.unbind("k1") == bound
    assert state.unbind("k1") is None
    assert state.bindings() == {}
    assert [h.key for h in state.held()] == ["k1"]


def test_forget_contact_drops_the_binding_of_a_deleted_contact(state: SyncState) -> None:
    bound = state.bind("k1", "33333", AMELIA, owned=True)
    state.bind("k2", "44444", BRIAN, owned=True)
    assert state.forget_contact("33333") == bound
    assert state.forget_contact("33333") is None
    assert state.owned_ids() == {"44444"}


# -- held back for review ----------------------------------------------------------------


def test_holds_are_kept_with_reason_and_since_until_released(
    state: SyncState, clock: Clock
) -> None:
    first = state.hold("k1", "edited in the phonebook")
    clock.advance(days=1)
    state.hold("k2", "deleted in the phonebook")
    clock.advance(days=1)
    again = state.hold("k1", "edited in the phonebook")
    assert again == first
    assert [(h.key, h.since) for h in state.held()] == [
        ("k1", START),
        ("k2", START + timedelta(days=1)),
    ]
    changed = state.hold("k1", "deleted in the phonebook")
    assert changed.since == clock.now
    assert state.release("k1")
    assert not state.release("k1")
    assert [h.key for h in state.held()] == ["k2"]


def test_a_hold_needs_a_reason(state: SyncState) -> None:
    with pytest.raises(StateError, match="needs a reason"):
        state.hold("k1", "")


# -- runs -----------------------------------------------------------------------------------


def test_a_run_is_recorded_from_begin_to_finish(state: SyncState, clock: Clock) -> None:
    assert state.last_run() is None
    run_id = state.begin_run(dry_run=False)
    begun = state.last_run()
    assert begun is not None
    assert (begun.id, begun.result, begun.finished_at) == (run_id, UNFINISHED, None)
    assert (begun.pid, begun.host, begun.dry_run) == (os.getpid(), socket.gethostname(), False)
    clock.advance(seconds=90)
    finished = state.finish_run(run_id, OK, {"add": 3, "unchanged": 9997})
    assert (finished.result, finished.finished_at, finished.error) == (OK, clock.now, None)
    assert finished.counts == {"add": 3, "unchanged": 9997}
    assert state.last_run() == finished


def test_a_run_finishes_once_with_a_known_result(state: SyncState) -> None:
    run_id = state.begin_run(dry_run=True, pid=4242, host="cron-host")
    with pytest.raises(StateError, match="a run ends error, ok, valve, not 'unfinished'"):
        state.finish_run(run_id, UNFINISHED)
    with pytest.raises(StateError, match="whole numbers"):
        state.finish_run(run_id, OK, {"add": 1.5})  # type: ignore[dict-item]
    state.finish_run(run_id, VALVE, {"delete": 40}, "40 deletes exceed max_deletes 5")
    with pytest.raises(StateError, match=f"run {run_id} has already finished \\(valve\\)"):
        state.finish_run(run_id, OK)
    with pytest.raises(StateError, match="no run 999"):
        state.finish_run(999, OK)
    run = state.last_run()
    assert run is not None
    assert (run.pid, run.host, run.dry_run, run.error) == (
        4242,
        "cron-host",
        True,
        "40 deletes exceed max_deletes 5",
    )


def test_last_failure_is_the_latest_error_valve_or_abandoned_run(state: SyncState) -> None:
    assert state.last_failure() is None
    state.finish_run(state.begin_run(dry_run=False), OK, {})
    assert state.last_failure() is None
    failed = state.finish_run(state.begin_run(dry_run=False), ERROR, {}, "401: bad credentials")
    state.finish_run(state.begin_run(dry_run=False), OK, {})
    assert state.last_failure() == failed
    killed = state.begin_run(dry_run=False)
    # Still the latest run: perhaps running now, which the lock alone can tell.
    assert state.last_failure() == failed
    assert state.last_run().result == UNFINISHED
    valve = state.finish_run(state.begin_run(dry_run=False), VALVE, {"delete": 9}, "too many")
    assert state.last_failure() == valve
    state.finish_run(state.begin_run(dry_run=False), OK, {})
    assert state.last_failure() == valve
    assert [r.id for r in state.runs(None) if r.result == UNFINISHED] == [killed]


def test_runs_lists_the_latest_first(state: SyncState) -> None:
    ids = [state.begin_run(dry_run=False) for _ in range(5)]
    assert [r.id for r in state.runs(3)] == ids[::-1][:3]
    assert [r.id for r in state.runs(None)] == ids[::-1]


# -- values ---------------------------------------------------------------------------------


def test_values_are_kept_replaced_and_removed(state: SyncState) -> None:
    assert state.get_value("cursor") is None
    state.set_value("cursor", "2027-01-15T02:00:00Z")
    state.set_value("cursor", "2027-01-16T02:00:00Z")
    assert state.get_value("cursor") == "2027-01-16T02:00:00Z"
    state.set_value("cursor", None)
    assert state.get_value("cursor") is None


# -- transactions, reopening, concurrency --------------------------------------------------


def test_a_transaction_records_all_of_its_steps_or_none(state: SyncState) -> None:
    state.bind("k0", "11111", BRIAN, owned=True)
    with pytest.raises(RuntimeError), state.transaction():
        state.bind("k1", "33333", AMELIA, owned=True)
        state.unbind("k0")
        state.set_value("cursor", "c1")
        raise RuntimeError("the apply stopped")
    assert set(state.bindings()) == {"k0"}
    assert state.get_value("cursor") is None
    with state.transaction():
        state.bind("k1", "33333", AMELIA, owned=True)
        state.set_value("cursor", "c1")
    assert set(state.bindings()) == {"k0", "k1"}


def test_a_failed_step_inside_a_transaction_undoes_only_itself(state: SyncState) -> None:
    state.bind("k1", "33333", AMELIA, owned=True)
    with state.transaction():
        state.bind("k2", "44444", BRIAN, owned=True)
        with pytest.raises(BindingConflict):
            state.bind("k3", "33333", BRIAN, owned=True)
        with pytest.raises(RuntimeError), state.transaction():
            state.set_value("cursor", "c1")
            raise RuntimeError
    assert set(state.bindings()) == {"k1", "k2"}
    assert state.get_value("cursor") is None


def test_reopening_keeps_everything(path: Path, clock: Clock) -> None:
    with reopen(path, clock) as state:
        state.bind("k1", "33333", AMELIA, owned=True)
        state.bind("k2", "44444", BRIAN, owned=False)
        state.hold("k2", "edited")
        state.set_value("cursor", "c1")
        state.finish_run(state.begin_run(dry_run=False), OK, {"add": 1})
        running = state.begin_run(dry_run=False)
        kept = (state.bindings(), state.held(), state.runs(None))
    with reopen(path) as again:
        assert (again.bindings(), again.held(), again.runs(None)) == kept
        assert again.get_value("cursor") == "c1"
        assert again.last_run().id == running


def test_another_connection_sees_only_committed_steps(path: Path) -> None:
    with reopen(path) as writer, reopen(path) as reader:
        writer.bind("k1", "33333", AMELIA, owned=True)
        with writer.transaction():
            writer.bind("k2", "44444", BRIAN, owned=True)
            assert set(reader.bindings()) == {"k1"}
        assert set(reader.bindings()) == {"k1", "k2"}


def test_runs_opening_a_new_state_at_once_agree_on_who_created_it(path: Path) -> None:
    def open_and_bind(n: int) -> bool:
        with reopen(path) as state:
            state.bind(f"k{n}", f"{n}", BRIAN, owned=True)
            return state.new

    with ThreadPoolExecutor(6) as pool:
        created = list(pool.map(open_and_bind, range(6)))
    assert created.count(True) == 1
    with reopen(path) as state:
        assert state.bound_ids() == {str(n) for n in range(6)}


CHILD = """
import sys, time
from connector.model import ContactFields
from connector.sync import SyncState

state = SyncState.open(sys.argv[1], job="crm-nightly", server="https://pbx.example.com")
state.bind("k1", "33333", ContactFields("Amelia Hartley", "+441491833000"), owned=True)
with state.transaction():
    state.bind("k2", "44444", ContactFields("Brian O'Neill", "+442079460000"), owned=True)
    state.unbind("k1")
    state.set_value("cursor", "half-way")
    print("inside", flush=True)
    time.sleep(60)
"""


def test_a_process_killed_mid_transaction_leaves_the_last_committed_state(path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "inside\n", child.stderr.read() if child.stderr else ""
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    with reopen(path) as state:
        assert set(state.bindings()) == {"k1"}
        assert state.get_value("cursor") is None
        # The dead process's write lock went with it: writing works at once.
        state.bind("k2", "44444", BRIAN, owned=True)
        assert state.owned_ids() == {"33333", "44444"}


# -- invariants under any sequence of steps ------------------------------------------------

KEYS = st.sampled_from(["k1", "k2", "k3", "k4"])
IDS = st.sampled_from(["101", "102", "103", "104", "105"])
FIELDS = st.builds(
    ContactFields,
    st.text(min_size=1, max_size=12),
    st.text(max_size=8),
    st.text(max_size=8),
    st.text(max_size=8),
)


class BindingMachine(RuleBasedStateMachine):
    """Random binds, confirms, unbinds, forgets, failed transactions and reopens keep the
    store equal to a plain dict, with one key per contact and owned ⊆ bound."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / "machine.db"
        self.state = reopen(self.path)
        self.model: dict[str, tuple[str, bool, ContactFields]] = {}

    @rule(key=KEYS, contact_id=IDS, fields=FIELDS, owned=st.booleans())
    def bind(self, key: str, contact_id: str, fields: ContactFields, owned: bool) -> None:
        holder = {cid: k for k, (cid, _, _) in self.model.items()}.get(contact_id, key)
        if holder != key:
            with pytest.raises(BindingConflict):
                self.state.bind(key, contact_id, fields, owned=owned)
            return
        self.state.bind(key, contact_id, fields, owned=owned)
        self.model[key] = (contact_id, owned, fields)

    @rule(key=KEYS, fields=FIELDS)
    def confirm(self, key: str, fields: ContactFields) -> None:
        if key not in self.model:
            with pytest.raises(StateError):
                self.state.confirm(key, fields)
            return
        self.state.confirm(key, fields)
        contact_id, owned, _ = self.model[key]
        self.model[key] = (contact_id, owned, fields)

    @rule(key=KEYS)
    def unbind(self, key: str) -> None:
        removed = self.state.unbind(key)
        assert (removed is not None) == (key in self.model)
        self.model.pop(key, None)

    @rule(contact_id=IDS)
    def forget(self, contact_id: str) -> None:
        removed = self.state.forget_contact(contact_id)
        keys = [k for k, (cid, _, _) in self.model.items() if cid == contact_id]
        assert ([removed.key] if removed else []) == keys
        for key in keys:
            del self.model[key]

    @rule(key=KEYS, contact_id=IDS)
    def failed_transaction(self, key: str, contact_id: str) -> None:
        with pytest.raises(RuntimeError), self.state.transaction():
            self.state.unbind(key)
            self.state.forget_contact(contact_id)
            raise RuntimeError("killed half-way")

    @rule()
    def reopen(self) -> None:
        self.state.close()
        self.state = reopen(self.path)

    @invariant()
    def matches_the_model(self) -> None:
        bindings = self.state.bindings()
        assert {k: (b.contact_id, b.owned, b.fields) for k, b in bindings.items()} == self.model
        ids = [b.contact_id for b in bindings.values()]
        assert len(ids) == len(set(ids)), "one key per contact"
        assert self.state.owned_ids() <= self.state.bound_ids() == set(ids)

    def teardown(self) -> None:
        self.state.close()
        self.folder.cleanup()


TestBindingInvariants = BindingMachine.TestCase
TestBindingInvariants.settings = settings(max_examples=30, stateful_step_count=20)


# -- servers ---------------------------------------------------------------------------------

HOSTS = st.sampled_from(["pbx.example.com", "PBX.Example.com", "other.example.com", "127.0.0.1"])
URLS = st.builds(
    lambda scheme, userinfo, host, port, path: f"{scheme}://{userinfo}{host}{port}{path}",
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["", "user@", "user:pw@"]),
    HOSTS,
    st.sampled_from(["", ":80", ":443", ":8443"]),
    st.sampled_from(["", "/", "/api", "/api/"]),
)


@given(URLS, URLS)
def test_server_keys_agree_with_what_a_plan_calls_the_same_server(a: str, b: str) -> None:
    assert (server_key(a) == server_key(b)) == same_server(a, b)
    assert "@" not in server_key(a)


# -- ownership across jobs -----------------------------------------------------------------


@pytest.fixture
def registry(tmp_path: Path, clock: Clock):
    with OwnershipRegistry(tmp_path / "owners.db", clock=clock) as registry:
        yield registry


def test_claims_are_kept_per_server_and_job(registry: OwnershipRegistry) -> None:
    registry.claim(SERVER, "crm-nightly", ["33333", "44444"])
    registry.claim(SERVER, "crm-nightly", ["33333"])  # again: harmless
    registry.claim(SERVER, "hr-weekly", ["55555"])
    registry.claim("https://other.example.com", "hr-weekly", ["33333"])
    assert registry.owners(SERVER) == {
        "33333": "crm-nightly",
        "44444": "crm-nightly",
        "55555": "hr-weekly",
    }
    assert registry.claimed(SERVER, "crm-nightly") == {"33333", "44444"}
    assert registry.claimed("https://other.example.com", "hr-weekly") == {"33333"}


def test_a_claim_on_another_jobs_contact_is_refused_whole(registry: OwnershipRegistry) -> None:
    registry.claim(SERVER, "hr-weekly", ["55555"])
    with pytest.raises(OwnershipConflict, match="55555 \\(job 'hr-weekly'\\)") as caught:
        registry.claim(SERVER, "crm-nightly", ["33333", "55555"])
    assert caught.value.taken == {"55555": "hr-weekly"}
    assert caught.value.job == "crm-nightly"
    assert registry.claimed(SERVER, "crm-nightly") == frozenset()


def test_a_refusal_of_many_contacts_lists_a_few(registry: OwnershipRegistry) -> None:
    ids = [str(n) for n in range(1000, 1700)]
    registry.claim(SERVER, "hr-weekly", ids)
    with pytest.raises(OwnershipConflict, match="and 695 more") as caught:
        registry.claim(SERVER, "crm-nightly", ids)
    assert len(caught.value.taken) == 700


def test_of_jobs_claiming_one_contact_at_once_exactly_one_wins(tmp_path: Path) -> None:
    def claim(job: str) -> bool:
        with OwnershipRegistry(tmp_path / "owners.db") as registry:
            try:
                registry.claim(SERVER, job, ["33333", f"own-{job}"])
            except OwnershipConflict:
                return False
            return True

    jobs = [f"job-{n}" for n in range(6)]
    with ThreadPoolExecutor(6) as pool:
        won = dict(zip(jobs, pool.map(claim, jobs), strict=True))
    assert sum(won.values()) == 1
    winner = next(job for job, ok in won.items() if ok)
    with OwnershipRegistry(tmp_path / "owners.db") as registry:
        assert registry.owners(SERVER) == {"33333": winner, f"own-{winner}": winner}


def test_release_drops_only_the_jobs_own_claims(registry: OwnershipRegistry) -> None:
    registry.claim(SERVER, "crm-nightly", ["33333", "44444"])
    registry.claim(SERVER, "hr-weekly", ["55555"])
    assert registry.release(SERVER, "crm-nightly", ["33333", "55555", "99999"]) == 1
    assert registry.owners(SERVER) == {"44444": "crm-nightly", "55555": "hr-weekly"}
    registry.claim(SERVER, "hr-weekly", ["33333"])  # free again
    assert registry.owners(SERVER)["33333"] == "hr-weekly"


def test_the_registry_knows_a_server_however_it_is_spelled_and_keeps_no_userinfo(
    registry: OwnershipRegistry,
) -> None:
    registry.claim("https://user:hunter2@PBX.example.com:443/", "crm-nightly", ["33333"])
    assert registry.owners(SERVER) == {"33333": "crm-nightly"}
    with pytest.raises(OwnershipConflict):
        registry.claim("https://pbx.example.com/api", "hr-weekly", ["33333"])
    registry.close()
    written = b"".join(p.read_bytes() for p in registry.path.parent.glob("owners.db*"))
    assert b"hunter2" not in written


def test_the_registry_is_private_survives_reopening_and_checks_job_names(home: Path) -> None:
    with OwnershipRegistry() as registry:
        registry.claim(SERVER, "crm-nightly", ["33333"])
        with pytest.raises(ConfigError, match="job name"):
            registry.claim(SERVER, "../x", ["1"])
    assert registry.path == home / "owners.db"
    assert stat.S_IMODE(registry.path.stat().st_mode) == 0o600
    with OwnershipRegistry() as again, OwnershipRegistry() as other:
        assert again.owners(SERVER) == {"33333": "crm-nightly"}
        # Two jobs' processes at once: a second connection sees the first one's claims.
        other.claim(SERVER, "hr-weekly", ["55555"])
        assert again.owners(SERVER)["55555"] == "hr-weekly"


def test_a_registry_that_is_not_sqlite_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "owners.db"
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ConfigError, match=f"{path}: is not a"):
        OwnershipRegistry(path)
