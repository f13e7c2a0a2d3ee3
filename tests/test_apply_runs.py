"""What a run records and says: begun only after a first read, Ctrl-C, plans applied before."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
from pathlib import Path

from apply_helpers import add, contact, delete, expected_phonebook, phonebook_rows, plan_doc
from cli_process import start_apply, wait_for

from connector.api.client import SipaltoClient
from connector.apply.engine import ApplyEngine
from connector.apply.journal import DONE, SENDING, Journal
from connector.apply.report import ApplyObserver, OpResult, Tally
from connector.apply.target import read_plan_document
from connector.model import Contact, phonebook_fingerprint
from connector.sandbox import Faults

ADD = "/phone-books/add-global-contact"
BOOK = [
    {"id": "30001", "name": "Alice Archer", "phone1": "01632960001", "phone2": "", "phone3": ""},
    {"id": "30002", "name": "Bob Baker", "phone1": "01632960002", "phone2": "", "phone3": ""},
]


def write_plan(tmp_path: Path, items, server, *, base: str | None = None) -> Path:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_doc(items, server=server.url, base=base)), encoding="utf-8")
    return plan


def journal_runs(home: Path) -> list[tuple]:
    with Journal(home / "journal.sqlite") as journal:
        return journal._db.execute("SELECT plan_id, server FROM runs").fetchall()


def test_a_run_whose_first_read_fails_is_not_recorded(run_cli, sandbox_factory, tmp_path):
    server = sandbox_factory(BOOK)
    base = phonebook_fingerprint([Contact.from_dict(c) for c in BOOK])
    plan = write_plan(tmp_path, [add("Dan Dyer", "07700900004")], server, base=base)
    server.state.replace_contacts(BOOK[:1])  # changed since the plan was made
    home = tmp_path / "home"
    env = {"SIPALTO_SYNC_HOME": str(home)}

    wrong = run_cli("apply", str(plan), "--yes", server=server,
                    env={**env, "SIPALTO_PASSWORD": "wrong"})  # fmt: skip
    assert wrong.exit_code == 1
    assert "login refused for user 'demo'" in wrong.stderr
    assert journal_runs(home) == []
    assert not (home / "backups").exists()

    result = run_cli("apply", str(plan), "--yes", server=server, env=env)
    assert result.exit_code == 0, result.stderr
    assert "Resumed" not in result.stderr  # a new run: backed up, checked for staleness
    assert "Note: the phonebook changed since the plan was made" in result.stderr
    assert len(journal_runs(home)) == 1


def progress_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("progress: ")]


def assert_progress_adds_up(text: str) -> None:
    for line in progress_lines(text):
        match = re.fullmatch(r"progress: (\d+)/(\d+) \((.*)\)", line)
        assert match, line
        ended = match[3].split(";")[0]
        counted = sum(int(n) for n in re.findall(r"(\d+) (?:done|skipped|failed)", ended))
        assert counted == int(match[1]), line


def test_ctrl_c_stops_cleanly_says_what_was_done_and_the_same_command_resumes(
    sandbox_factory, tmp_path
):
    server = sandbox_factory(BOOK, faults=Faults(latency=0.05))
    items = [add(f"Person {n}", f"0770090{n:04d}") for n in range(80)]
    items.append(delete("30002", contact("Bob Baker", "01632960002")))
    plan = write_plan(tmp_path, items, server)
    home = tmp_path / "home"
    first = start_apply(plan, server.url, home, "--concurrency", "3")

    def adds_sent() -> int:
        return [path for _, path, _ in server.state.requests].count(ADD)

    wait_for(lambda: adds_sent() >= 10, what="ten adds")
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=30)
    assert first.returncode == 130, err
    assert "Traceback" not in err and "Error" not in err, err
    backup = re.search(r"^Backup of the phonebook as it was: (.+\.json)$", err, re.MULTILINE)
    assert backup and Path(backup[1]).is_file(), err
    assert err.index("Backup of the phonebook") < err.index("Interrupted: ")
    stopped = re.search(
        r"^Interrupted: (\d+) of 81 operations done or skipped, (\d+) not yet\. Run the same "
        r"command again to resume: nothing done is repeated\.$",
        err,
        re.MULTILINE,
    )
    assert stopped, err
    assert 10 <= int(stopped[1]) < 81 and int(stopped[1]) + int(stopped[2]) == 81
    with Journal(home / "journal.sqlite") as journal:
        states = [row.state for row in journal.operations(*journal_runs(home)[0])]
    assert SENDING not in states  # the requests in flight ended and were journalled
    assert states.count(DONE) == int(stopped[1])

    again = start_apply(plan, server.url, home)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    resumed = err.index(f"Resumed plan {plan_id(plan)[:8]} from its journal: {stopped[1]} of 81")
    assert resumed < err.index("progress: ")
    assert_progress_adds_up(err)
    assert phonebook_rows(server.state.snapshot()) == expected_phonebook(BOOK, items)
    assert [path for _, path, _ in server.state.requests].count(ADD) == 80


def plan_id(plan: Path) -> str:
    return json.loads(plan.read_text(encoding="utf-8"))["plan_id"]


def test_a_completed_plan_applied_again_says_when_and_whether_it_still_holds(
    run_cli, sandbox_factory, tmp_path
):
    server = sandbox_factory(BOOK)
    items = [add("Dan Dyer", "07700900004"), delete("30002", contact("Bob Baker", "01632960002"))]
    plan = write_plan(tmp_path, items, server)
    env = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    assert run_cli("apply", str(plan), "--yes", server=server, env=env).exit_code == 0

    again = run_cli("apply", str(plan), "--yes", server=server, env=env)
    assert again.exit_code == 0
    assert re.search(
        r"^Plan \w{8} was already applied on \d{4}-\d\d-\d\d \d\d:\d\d UTC; its changes are "
        r"still in place\. Nothing to do\.$",
        again.stderr,
        re.MULTILINE,
    ), again.stderr
    assert "Apply complete" not in again.stderr

    server.state.replace_contacts(BOOK)  # a restore: Dan is gone, Bob is back
    writes = len(server.state.requests)
    undone = run_cli("apply", str(plan), "--yes", server=server, env=env)
    assert undone.exit_code == 1
    assert "Apply complete" not in undone.stderr
    assert re.search(
        r"^Plan \w{8} was already applied on .+ UTC, but the phonebook has changed since: "
        r"2 of its 2 changes are no longer in place:$",
        undone.stderr,
        re.MULTILINE,
    ), undone.stderr
    assert '  add "Dan Dyer": no longer in the phonebook as added' in undone.stderr
    assert '  delete 30002 "Bob Baker": back in the phonebook' in undone.stderr
    assert (
        "Applying it again changes nothing: make a new plan (sipalto-sync plan) to change "
        "the phonebook again." in undone.stderr
    )
    assert {path for _, path, _ in server.state.requests[writes:]} == {
        "/auth/login",
        "/phone-books/get-global-contacts",
    }
    assert server.state.snapshot() == BOOK


class SomeoneElseAdds(ApplyObserver):
    """While the run goes, someone adds a contact identical to one the plan adds."""

    def __init__(self, server) -> None:
        self.server = server

    def changed(self, tally: Tally, result: OpResult) -> None:
        if result.op.action == "add" and result.state == DONE and not result.new_id:
            twin = {"id": "39999", "name": "Twin", "phone1": "07700900001"}
            self.server.state.replace_contacts([*self.server.state.snapshot(), twin])


def test_an_identical_contact_someone_else_adds_during_the_run_is_never_removed(
    sandbox_factory, tmp_path
):
    server = sandbox_factory(BOOK)
    target = read_plan_document(plan_doc([add("Twin", "07700900001")]))
    with (
        SipaltoClient(server.url, "demo", "demo") as client,
        Journal(tmp_path / "journal.sqlite") as journal,
    ):
        engine = ApplyEngine(
            client,
            journal,
            backup_dir=tmp_path / "backups",
            settle_delay=0.1,
            observer=SomeoneElseAdds(server),
        )
        report = engine.run(target)
    assert report.ok and report.duplicates_removed == []
    assert [c["name"] for c in server.state.snapshot()].count("Twin") == 2


OLD_SCHEMA = """
CREATE TABLE runs (plan_id TEXT NOT NULL, server TEXT NOT NULL, started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, backup_path TEXT, PRIMARY KEY (plan_id, server));
CREATE TABLE operations (plan_id TEXT NOT NULL, server TEXT NOT NULL, idx INTEGER NOT NULL,
    action TEXT NOT NULL, contact_id TEXT, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
    new_id TEXT, baseline TEXT NOT NULL DEFAULT '[]', attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL, PRIMARY KEY (plan_id, server, idx));
CREATE TABLE owned (server TEXT NOT NULL, contact_id TEXT NOT NULL, plan_id TEXT NOT NULL,
    source_key TEXT, created_at TEXT NOT NULL, PRIMARY KEY (server, contact_id));
"""


def test_a_run_begun_by_the_previous_version_is_resumed(sandbox_factory, tmp_path) -> None:
    # Killed mid-request by the previous version: one add done, one sending, no backup.
    server = sandbox_factory(BOOK)
    target = read_plan_document(plan_doc([add("Ann", "07700900001"), add("Ben", "07700900002")]))
    server.state.replace_contacts([*BOOK, {"id": "30005", "name": "Ann", "phone1": "07700900001"}])
    path = tmp_path / "journal.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO runs VALUES (?, ?, 'then', 'then', NULL)",
                   (target.plan_id, server.url))  # fmt: skip
        db.executemany(
            "INSERT INTO operations (plan_id, server, idx, action, state, attempts, updated_at) "
            "VALUES (?, ?, ?, 'add', ?, 1, 'then')",
            [(target.plan_id, server.url, 0, "done"), (target.plan_id, server.url, 1, "sending")],
        )
    with SipaltoClient(server.url, "demo", "demo") as client, Journal(path) as journal:
        engine = ApplyEngine(client, journal, backup_dir=tmp_path / "backups", settle_delay=0)
        report = engine.run(target)
    assert report.ok and report.resumed
    assert report.backup_path and Path(report.backup_path).is_file()  # written now
    assert [(r.state, r.new_id) for r in report.results] == [(DONE, "30005"), (DONE, "30006")]
    assert sorted(c["name"] for c in server.state.snapshot())[:2] == ["Alice Archer", "Ann"]
    assert [c["name"] for c in server.state.snapshot()].count("Ben") == 1
