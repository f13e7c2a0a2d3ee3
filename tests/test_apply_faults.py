"""One ``apply`` under faults ends with exactly the planned phonebook, nothing written twice.

End to end: the real command line (click's runner) against a sandbox on a loopback port
that fails, loses answers, drops connections, expires tokens, throttles, and carries out
writes long after the client gave up on them. Seeds are fixed and named in every
failure message so a failure can be replayed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from apply_helpers import add, contact, delete, expected_phonebook, phonebook_rows, plan_doc, update

from connector.sandbox import Faults

ADD = "/phone-books/add-global-contact"


def book(size: int) -> list[dict[str, str]]:
    """A phonebook of ``size`` contacts with ids 40001... (room for the plan's targets)."""
    return [
        {"id": str(40001 + n), "name": f"Known {n}", "phone1": f"0163296{n:04d}",
         "phone2": "", "phone3": ""}
        for n in range(size)
    ]  # fmt: skip


def write_plan(server, items, tmp_path: Path) -> Path:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_doc(items, server=server.url)), encoding="utf-8")
    return plan


def apply_cli(run_cli, server, items, tmp_path: Path, *options: str):
    """Write a plan of ``items`` for ``server`` (unless written) and apply it."""
    plan = tmp_path / "plan.json"
    if not plan.exists():
        write_plan(server, items, tmp_path)
    env = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    return run_cli("apply", str(plan), "--yes", *options, server=server, env=env)


def with_timeout(run_cli, seconds: float):
    """``run_cli`` with a client timeout of ``seconds``."""

    def run(*args, env=None, **kwargs):
        return run_cli(*args, env={"SIPALTO_TIMEOUT": str(seconds), **(env or {})}, **kwargs)

    return run


@pytest.fixture
def short_timeout(run_cli):
    """``run_cli`` with a client timeout of half a second."""
    return with_timeout(run_cli, 0.5)


def assert_exactly_planned(server, start, items, seed) -> None:
    rows = phonebook_rows(server.state.snapshot())
    twice = [fields for fields, n in Counter(rows).items() if n > 1]
    assert not twice, f"seed {seed}: contacts written twice: {twice[:3]}"
    assert rows == expected_phonebook(start, items), f"seed {seed}: not the planned phonebook"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [10])
def test_the_issues_measured_case_finishes_in_one_run(run_cli, sandbox_factory, tmp_path, seed):
    # Before: eight threads waiting their turn in the pacer carried tokens that expired
    # on the way; the run stopped with "HTTP 401 unauthorized" after 41 adds, exit 1.
    faults = Faults(
        fail_rate=0.15, lose_rate=0.15, token_ttl=2.0, rate_limit=(10, 1.0), latency=0.02
    )
    server = sandbox_factory([], faults=faults, seed=seed)
    items = [add(f"Person {n}", f"0770090{n:04d}") for n in range(300)]
    options = ("--settle-delay", "2", "--concurrency", "8")
    result = apply_cli(run_cli, server, items, tmp_path, *options)
    assert result.exit_code == 0, f"seed {seed}:\n{result.stderr[-2000:]}"
    assert_exactly_planned(server, [], items, seed)
    assert "Apply complete. A final read of the phonebook agrees with the plan." in result.stderr
    stats = re.search(r"Requests: (\d+) retried, (\d+) re-sent .*; (\d+) logins\.", result.stderr)
    assert stats, result.stderr[-1000:]
    _, resent, logins = map(int, stats.groups())
    assert resent > 0 and logins > 5, f"seed {seed}: the faults did not happen? {stats[0]}"
    statuses = Counter(status for _, _, status in server.state.requests)
    assert statuses[401] and statuses[500] and statuses[503], f"seed {seed}: {statuses}"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21, 22])
def test_every_fault_at_once_with_adds_updates_and_deletes(
    run_cli, sandbox_factory, tmp_path, seed
):
    start = book(80)
    faults = Faults(
        fail_rate=0.1,
        lose_rate=0.1,
        drop_rate=0.05,
        slow_write_rate=0.05,
        slow_write_delay=1.5,
        token_ttl=2.0,
        rate_limit=(25, 1.0),
        latency=0.02,
    )
    server = sandbox_factory(start, faults=faults, seed=seed)
    items = [add(f"Person {n}", f"0770090{n:04d}") for n in range(120)]
    for known in start[:40]:
        before = contact(known["name"], known["phone1"])
        items.append(update(known["id"], before, {**before, "phone2": "07700900999"}))
    for known in start[40:80]:
        items.append(delete(known["id"], contact(known["name"], known["phone1"])))
    # Slow writes land 1.5 s after they arrive, the client gives up after 1 s.
    options = ("--settle-delay", "3", "--concurrency", "6", "--max-time", "600")
    result = apply_cli(with_timeout(run_cli, 1.0), server, items, tmp_path, *options)
    assert result.exit_code == 0, f"seed {seed}:\n{result.stderr[-2000:]}"
    assert_exactly_planned(server, start, items, seed)
    statuses = Counter(status for _, _, status in server.state.requests)
    assert statuses[0] and statuses[401] and server.sandbox.slow_writes, f"seed {seed}: {statuses}"


def test_slow_adds_carried_out_after_the_clients_timeout_are_not_sent_twice(
    short_timeout, sandbox_factory, tmp_path
):
    seed = 31
    faults = Faults(slow_write_rate=0.3, slow_write_delay=1.0)
    server = sandbox_factory([], faults=faults, seed=seed)
    items = [add(f"Person {n}", f"0770090{n:04d}") for n in range(30)]
    # The client gives up after 0.5 s; the server carries the slow ones out at 1 s; the
    # engine waits 2 s before it believes an add with a lost answer did not land.
    result = apply_cli(short_timeout, server, items, tmp_path, "--settle-delay", "2")
    assert result.exit_code == 0, f"seed {seed}:\n{result.stderr}"
    assert server.sandbox.slow_writes >= 3, f"seed {seed}: too few slow writes to prove it"
    assert_exactly_planned(server, [], items, seed)
    adds = [r for r in server.state.requests if r[1] == ADD]
    assert len(adds) == 30, f"seed {seed}: an add was sent again"
    assert "0 re-sent after checking the phonebook" in result.stderr


def test_a_resent_add_whose_slow_original_lands_too_is_removed_and_reported(
    short_timeout, sandbox_factory, tmp_path
):
    # Seed 1 makes the first add slow and its re-send quick. The client gives up after
    # 0.5 s and the settling delay (1.5 s) is too short for this server (3 s): the add is
    # sent again at 2 s, the original lands at 3 s, the final read at 3.5 s sees both.
    seed = 1
    server = sandbox_factory([], faults=Faults(slow_write_rate=0.5, slow_write_delay=3.0),
                             seed=seed)  # fmt: skip
    items = [add("Slow Sam", "07700900123")]
    result = apply_cli(
        short_timeout, server, items, tmp_path, "--settle-delay", "1.5", "--concurrency", "1"
    )
    assert result.exit_code == 0, f"seed {seed}:\n{result.stderr}"
    assert [r[1] for r in server.state.requests].count(ADD) == 2, f"seed {seed}: no re-send"
    assert_exactly_planned(server, [], items, seed)
    removed = re.search(r"removed  contact (\d+), a second copy of add \"Slow Sam\"", result.stderr)
    assert removed, f"seed {seed}:\n{result.stderr}"
    assert removed[1] not in {c["id"] for c in server.state.snapshot()}
    assert "1 re-sent after checking the phonebook" in result.stderr


def test_a_refusal_that_will_not_change_is_reported_and_the_rest_is_done(
    run_cli, sandbox_factory, tmp_path
):
    server = sandbox_factory([])
    # A name of blanks passes the plan's checks; the server answers 400 "name required".
    items = [add("Ann", "07700900001"), add("  ", "07700900002"), add("Bob", "07700900003")]
    result = apply_cli(run_cli, server, items, tmp_path, "--settle-delay", "0")
    assert result.exit_code == 1
    assert 'failed   add "  " (test.csv:  ): ' in result.stderr
    assert "HTTP 400" in result.stderr
    assert sorted(c["name"] for c in server.state.snapshot()) == ["Ann", "Bob"]
    assert [r[1] for r in server.state.requests].count(ADD) == 3  # the 400 was not repeated


def test_out_of_time_stops_cleanly_and_the_same_command_finishes(
    short_timeout, sandbox_factory, tmp_path
):
    server = sandbox_factory([], faults=Faults(slow_write_rate=1.0, slow_write_delay=1.0))
    items = [add(f"Person {n}", f"0770090{n:04d}") for n in range(3)]
    # Every add times out; whether it landed can be known only 5 s later, after the
    # 2 s budget: the run stops at once rather than sleep past its budget.
    result = apply_cli(short_timeout, server, items, tmp_path,
                       "--settle-delay", "5", "--max-time", "2")  # fmt: skip
    assert result.exit_code == 1
    assert "Stopped: the time budget (--max-time) ran out with 3 of 3 operations" in result.stderr
    assert "Run the same command again to continue" in result.stderr
    server.sandbox.faults.slow_write_rate = 0.0
    again = apply_cli(short_timeout, server, items, tmp_path, "--settle-delay", "1")
    assert again.exit_code == 0, again.stderr
    assert_exactly_planned(server, [], items, "none")
    assert [r[1] for r in server.state.requests].count(ADD) == 3  # the slow ones landed
