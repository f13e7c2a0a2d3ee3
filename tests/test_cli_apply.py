"""``sipalto-sync apply`` end to end: confirmation, reports, exit codes, and kill -9 resumes."""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from apply_helpers import add, contact, delete, expected_phonebook, phonebook_rows, plan_doc, update

from connector.sandbox import Faults

BOOK = [
    {"id": "30001", "name": "Alice Archer", "phone1": "01632960001", "phone2": "", "phone3": ""},
    {"id": "30002", "name": "Bob Baker", "phone1": "01632960002", "phone2": "", "phone3": ""},
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private data directory for the journal and backups."""
    return tmp_path / "home"


def write_plan(path: Path, items: list[dict], server: str = "") -> Path:
    path.write_text(json.dumps(plan_doc(items, server=server)), encoding="utf-8")
    return path


def test_apply_with_yes_applies_and_reports(run_cli, sandbox_factory, tmp_path, home) -> None:
    server = sandbox_factory(BOOK)
    items = [add("Dan Dyer", "07700900004"), delete("30002", contact("Bob Baker", "01632960002"))]
    plan = write_plan(tmp_path / "plan.json", items, server.url)
    result = run_cli("apply", str(plan), "--yes", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Apply plan" in result.stderr and "1 to add, 0 to update, 1 to delete." in result.stderr
    assert "  add     1 done" in result.stderr
    assert "Apply complete." in result.stderr
    assert "Backup of the phonebook as it was: " + str(home / "backups") in result.stderr
    assert phonebook_rows(server.state.snapshot()) == expected_phonebook(BOOK, items)


def test_apply_without_a_terminal_and_without_yes_refuses(run_cli, sandbox, tmp_path, home):
    plan = write_plan(tmp_path / "plan.json", [add("Dan Dyer", "07700900004")])
    result = run_cli("apply", str(plan), env={"SIPALTO_SYNC_HOME": str(home)})
    assert result.exit_code == 1
    assert "there is no terminal to ask on; pass --yes" in result.stderr
    assert len(sandbox.state.snapshot()) == 2


def test_apply_refuses_a_plan_made_for_another_server(run_cli, sandbox, tmp_path, home) -> None:
    plan = write_plan(tmp_path / "plan.json", [add("X", "1009")], "https://app-api.sipalto.com")
    result = run_cli("apply", str(plan), "--yes", env={"SIPALTO_SYNC_HOME": str(home)})
    assert result.exit_code == 1
    assert "was made against https://app-api.sipalto.com" in result.stderr


def test_apply_of_a_broken_plan_file_is_one_line(run_cli, tmp_path, home) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json", encoding="utf-8")
    result = run_cli("apply", str(bad), "--yes", env={"SIPALTO_SYNC_HOME": str(home)})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad}: not a plan file (invalid JSON")


def test_stale_update_is_reported_and_exit_is_still_zero(run_cli, sandbox_factory, tmp_path, home):
    server = sandbox_factory(BOOK)
    items = [
        update("30001", contact("Alice Archer", "01632960001"), contact("Alice", "01632960001"))
    ]
    plan = write_plan(tmp_path / "plan.json", items, server.url)
    server.state.replace_contacts([{**BOOK[0], "phone2": "07700900001"}, BOOK[1]])
    result = run_cli("apply", str(plan), "--yes", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 0
    assert (
        'skipped  update 30001 "Alice" (test.csv): changed since the plan was made' in result.stderr
    )


def test_failed_operations_give_exit_1_and_stay_retryable(run_cli, sandbox_factory, tmp_path, home):
    server = sandbox_factory(BOOK, users={"demo": "demo"}, read_only_users={"demo"})
    plan = write_plan(tmp_path / "plan.json", [add("Dan Dyer", "07700900004")], server.url)
    env = {"SIPALTO_SYNC_HOME": str(home)}
    result = run_cli("apply", str(plan), "--yes", server=server, env=env)
    assert result.exit_code == 1
    assert 'failed   add "Dan Dyer"' in result.stderr
    assert "run the same command again" in result.stderr
    server.state.read_only_users.clear()
    result = run_cli("apply", str(plan), "--yes", server=server, env=env)
    assert result.exit_code == 0, result.stderr
    assert "Resumed plan" in result.stderr
    assert [c["name"] for c in server.state.snapshot()].count("Dan Dyer") == 1


def _apply_subprocess(plan: Path, url: str, home: Path) -> subprocess.Popen:
    env = {**os.environ, "SIPALTO_BASE_URL": url, "SIPALTO_USERNAME": "demo",
           "SIPALTO_PASSWORD": "demo", "SIPALTO_SYNC_HOME": str(home), "NO_COLOR": "1"}  # fmt: skip
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connector",
            "-q",
            "apply",
            str(plan),
            "--yes",
            "--concurrency",
            "3",
            "--settle-delay",
            "0.5",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


class Stall:
    """The sandbox's latency, with a stop: requests wait out the latency as usual until the
    armed one arrives, and from then on every request is held until :meth:`release`.

    A CLI whose requests are held is mid-apply for as long as the test likes, however
    fast the sandbox answers, so killing it then is killing it mid-apply. Released after
    the kill, a held delete is carried out with nobody to hear the answer, while a held
    form post finds its client gone before its body is read (Starlette raises
    ``ClientDisconnect``, which uvicorn logs) and changes nothing.
    """

    def __init__(self) -> None:
        self.arrived = 0
        self.stalled = threading.Event()
        self._stall_at = math.inf
        self._held: list[asyncio.Task] = []
        self._go: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def arm(self, after: int) -> None:
        """Hold the request that arrives ``after`` requests from now, and all that follow."""
        self._stall_at = self.arrived + after

    async def sleep(self, seconds: float) -> None:
        """The sandbox's ``sleep``."""
        self.arrived += 1
        if self.arrived < self._stall_at:
            await asyncio.sleep(seconds)
            return
        if self._go is None:
            self._go, self._loop = asyncio.Event(), asyncio.get_running_loop()
        self._held.append(asyncio.current_task())
        self.stalled.set()
        await self._go.wait()

    def release(self) -> None:
        """Disarm, let the held requests go on without their client, and wait until they
        have ended: only then may the next run start (a late write would race it)."""
        self._stall_at = math.inf
        self.stalled.clear()
        if self._go is None or self._loop is None:
            return

        async def drain(go: asyncio.Event, held: list[asyncio.Task]) -> None:
            go.set()
            await asyncio.wait(held)

        done = asyncio.run_coroutine_threadsafe(drain(self._go, self._held), self._loop)
        done.result(timeout=10)
        self._go, self._held = None, []


def _reaches(stall: Stall, process: subprocess.Popen) -> bool:
    """Wait until ``process`` has a request held by ``stall`` (True) or has ended (False)."""
    deadline = time.monotonic() + 30
    while process.poll() is None:
        if stall.stalled.wait(timeout=0.01):
            return True
        assert time.monotonic() < deadline, "the apply neither ended nor reached the stall"
    return False


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_apply_killed_at_random_points_resumes_to_the_exact_phonebook(
    sandbox_factory, tmp_path, home, seed
) -> None:
    rng = random.Random(seed)
    stall = Stall()
    server = sandbox_factory(
        BOOK, faults=Faults(latency=0.02, lose_rate=0.05), seed=seed, sleep=stall.sleep
    )
    items = [add(f"Person {n}", f"0770090{n:04d}") for n in range(40)]
    items.append(update("30001", contact("Alice Archer", "01632960001"),
                        contact("Alice Archer", "01632960001", "07700900999")))  # fmt: skip
    items.append(delete("30002", contact("Bob Baker", "01632960002")))
    plan = write_plan(tmp_path / "plan.json", items, server.url)
    kills = 0
    for _ in range(4):  # kill -9 up to four times, then let it finish
        # A random point counted in requests, not seconds: the first run sends a login, a
        # read of the phonebook and then a write per item, so the first kill always lands.
        stall.arm(after=rng.randint(1, len(items)))
        process = _apply_subprocess(plan, server.url, home)
        if _reaches(stall, process):
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
        stall.release()
    final = _apply_subprocess(plan, server.url, home)
    _, err = final.communicate(timeout=60)
    assert final.returncode == 0, err.decode()
    assert kills >= 1
    names = Counter(c["name"] for c in server.state.snapshot())
    assert max(names.values()) == 1  # no duplicates
    assert phonebook_rows(server.state.snapshot()) == expected_phonebook(BOOK, items)
