"""``sipalto-sync apply`` end to end: confirmation, reports, exit codes, and kill -9 resumes."""

from __future__ import annotations

import json
import random
import signal
from collections import Counter
from pathlib import Path

import pytest
from apply_helpers import add, contact, delete, expected_phonebook, phonebook_rows, plan_doc, update
from cli_process import start_apply
from stall import Stall, reaches

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


#: The killed runs' options: three requests in flight, a short wait for slow writes.
OPTIONS = ("--concurrency", "3", "--settle-delay", "0.5")


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
        process = start_apply(plan, server.url, home, *OPTIONS, quiet=True)
        if reaches(stall, process):
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
        stall.release()
    final = start_apply(plan, server.url, home, *OPTIONS, quiet=True)
    _, err = final.communicate(timeout=60)
    assert final.returncode == 0, err
    assert kills >= 1
    names = Counter(c["name"] for c in server.state.snapshot())
    assert max(names.values()) == 1  # no duplicates
    assert phonebook_rows(server.state.snapshot()) == expected_phonebook(BOOK, items)
