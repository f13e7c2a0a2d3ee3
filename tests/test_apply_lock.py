"""One writer per plan and server: two applies of one plan at once never both write."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from apply_helpers import add, expected_phonebook, phonebook_rows, plan_doc
from cli_process import start_apply, wait_for

from connector.apply.lock import PlanLock, lock_path
from connector.errors import AlreadyRunning
from connector.sandbox import Faults

ADD = "/phone-books/add-global-contact"


def a_lock(tmp_path: Path, plan_id: str = "p" * 32, server: str = "http://a") -> PlanLock:
    return PlanLock(
        lock_path(tmp_path / "journal.sqlite", plan_id, server), plan_id=plan_id, server=server
    )


def test_a_second_lock_on_the_same_plan_and_server_says_who_holds_it(tmp_path) -> None:
    with a_lock(tmp_path) as held:
        with pytest.raises(AlreadyRunning) as info:
            a_lock(tmp_path).acquire()
        assert info.value.holder["pid"] == str(os.getpid())
        assert info.value.holder["host"] == socket.gethostname()
        message = str(info.value)
        assert message.startswith(
            f"plan pppppppp is already being applied to http://a by process {os.getpid()} "
            f"on {socket.gethostname()} since 20"
        )
        assert str(held.path) in message
        assert (held.path.stat().st_mode & 0o777) == 0o600
    with a_lock(tmp_path):  # released: it can be taken again
        pass
    assert not held.path.exists()


def test_other_plans_and_other_servers_have_their_own_lock(tmp_path) -> None:
    with a_lock(tmp_path), a_lock(tmp_path, plan_id="q" * 32), a_lock(tmp_path, server="http://b"):
        pass


def test_a_killed_holder_leaves_no_lock_behind(tmp_path) -> None:
    lock = a_lock(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time; from pathlib import Path; from connector.apply.lock import PlanLock;"
            f"PlanLock(Path({str(lock.path)!r}), plan_id='p' * 32, server='http://a').acquire();"
            "print('held', flush=True); time.sleep(60)"
        )],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(AlreadyRunning, match=f"by process {holder.pid} "):
            lock.acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    with lock:  # the kernel let go of it with the process
        pass


def test_two_applies_of_one_plan_at_once_write_each_contact_once(sandbox_factory, tmp_path):
    # Before the lock, both runs sent every pending add: a 20-add plan gave 34 contacts.
    server = sandbox_factory([], faults=Faults(latency=0.2))  # four seconds of writing
    items = [add(f"Person {n}", f"0770090{n:04d}") for n in range(20)]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_doc(items, server=server.url)), encoding="utf-8")
    home = tmp_path / "home"
    first = start_apply(plan, server.url, home, "--concurrency", "1")

    def writing() -> bool:
        return any(path == ADD for _, path, _ in server.state.requests)

    wait_for(writing, what="the first apply to start writing")
    second = start_apply(plan, server.url, home, "--concurrency", "2")
    _, second_err = second.communicate(timeout=60)
    _, first_err = first.communicate(timeout=60)
    assert first.returncode == 0, first_err
    assert second.returncode == 1, second_err
    assert re.search(
        rf"^Error: plan \w{{8}} is already being applied to {re.escape(server.url)} by process "
        rf"{first.pid} on .+ since \d{{4}}-\d\d-\d\dT[\d:]+\+00:00 \(lock .+\.lock\); "
        "wait for that run to end$",
        second_err,
        re.MULTILINE,
    ), second_err
    assert "Traceback" not in second_err
    assert len(second_err.strip().splitlines()) == 2  # the plan's summary, then the refusal
    assert phonebook_rows(server.state.snapshot()) == expected_phonebook([], items)
    assert [path for _, path, _ in server.state.requests].count(ADD) == 20
