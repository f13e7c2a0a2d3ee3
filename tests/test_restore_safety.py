"""``sipalto-sync restore`` guards, end to end against the sandbox: a backup of another
server is refused, a backup is checked whole before the preview, and a restore that
deletes many contacts needs a go-ahead of its own (``--yes`` is not enough)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apply_helpers import phonebook_rows

from connector.apply.backup import write_backup
from connector.apply.restore import MASS_DELETE_COUNT, Deletes
from connector.model import Contact


def person(n: int) -> dict[str, str]:
    return {"id": str(50000 + n), "name": f"Person {n:02d}", "phone1": f"077009{n:05d}",
            "phone2": "", "phone3": ""}  # fmt: skip


SIXTY = [person(n) for n in range(1, 61)]
BOOK_A = [
    {"id": "30001", "name": "Alice Archer", "phone1": "01632960001", "phone2": "", "phone3": ""},
    {"id": "30002", "name": "Bob Baker", "phone1": "01632960002", "phone2": "", "phone3": ""},
]
BOOK_B = [
    # Server B's 30001 is someone else: a restore by id would overwrite her with Alice.
    {"id": "30001", "name": "Zoe Zimmer", "phone1": "07700900999", "phone2": "", "phone3": ""},
    {"id": "40002", "name": "Bob Baker", "phone1": "01632960002", "phone2": "", "phone3": ""},
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def backup_of(server, contacts: list[dict[str, str]], home: Path) -> Path:
    """A backup file as ``apply`` writes it, made on ``server``."""
    saved = [Contact.from_dict(c) for c in contacts]
    return write_backup(saved, home / "backups", server=server.url, reason="test")


def export(path: Path, contacts: list[dict[str, str]]) -> Path:
    """A plain ``contacts list --format json`` export."""
    path.write_text(json.dumps(contacts), encoding="utf-8")
    return path


# -- another server's backup -------------------------------------------------------------------


def test_a_backup_of_another_server_is_refused(run_cli, sandbox_factory, home: Path) -> None:
    server_a, server_b = sandbox_factory(BOOK_A), sandbox_factory(BOOK_B)
    backup = backup_of(server_a, BOOK_A, home)
    result = run_cli("restore", str(backup), "--yes", server=server_b,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {backup} is a backup of {server_a.url}, but the target is {server_b.url}: "
        "restoring it would replace this server's phonebook with that one's; "
        "pass --force-other-server if that is what you want\n"
    )
    assert result.stdout == ""
    assert phonebook_rows(server_b.state.snapshot()) == phonebook_rows(BOOK_B)
    assert not (home / "plans").exists()


def test_forcing_another_servers_backup_pairs_contacts_by_fields(
    run_cli, sandbox_factory, home: Path
) -> None:
    server_a, server_b = sandbox_factory(BOOK_A), sandbox_factory(BOOK_B)
    backup = backup_of(server_a, BOOK_A, home)
    result = run_cli("restore", str(backup), "--yes", "--force-other-server", server=server_b,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"was made on {server_a.url}, not on {server_b.url}" in result.stdout
    # Zoe (B's 30001) is deleted, not overwritten; Bob, already on B, is left alone.
    assert "Plan: 1 to add, 0 to update, 1 to delete" in result.stdout
    after = server_b.state.snapshot()
    assert phonebook_rows(after) == phonebook_rows(BOOK_A)
    assert {c["id"] for c in after if c["name"] == "Bob Baker"} == {"40002"}


def test_a_backup_of_the_same_server_restores_with_yes(run_cli, sandbox_factory, home) -> None:
    server = sandbox_factory(BOOK_A)
    backup = backup_of(server, BOOK_A, home)
    server.state.replace_contacts([{**BOOK_A[0], "name": "Alice Changed"}, BOOK_A[1]])
    result = run_cli("restore", str(backup), "--yes", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "origin is unknown" not in result.stdout
    assert phonebook_rows(server.state.snapshot()) == phonebook_rows(BOOK_A)


def test_a_plain_export_is_accepted_but_its_origin_is_unknown(
    run_cli, sandbox_factory, tmp_path: Path, home: Path
) -> None:
    server = sandbox_factory(BOOK_A)
    saved = export(tmp_path / "export.json", [BOOK_A[0]])
    result = run_cli("restore", str(saved), "--yes", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        f"Warning: {saved} does not say which server it was made on (a plain export): its "
        "origin is unknown; check that it is this server's phonebook"
    ) in result.stdout
    assert phonebook_rows(server.state.snapshot()) == phonebook_rows([BOOK_A[0]])


# -- a backup is checked whole before the preview ----------------------------------------------

ALICE = {"id": "30001", "name": "Alice Archer", "phone1": "01632960001"}

BAD_BACKUPS = [
    ("not-json", "{'id': 1}", "not a backup: not JSON (Expecting property name enclosed in "
     "double quotes: line 1 column 2 (char 1))"),
    ("empty-file", "", "not a backup: not JSON (Expecting value: line 1 column 1 (char 0))"),
    ("a-number", "42", "not a backup: expected a sipalto-sync backup or a list of contacts, "
     "got a number"),
    ("a-plan", '{"version": 1, "items": []}', "not a backup: a JSON object without "
     "'contacts' (expected a sipalto-sync backup or a list of contacts)"),
    ("other-kind", '{"kind": "something else", "contacts": []}', "not a backup: its kind is "
     "'something else', not 'sipalto-sync backup'"),
    ("contacts-not-list", '{"kind": "sipalto-sync backup", "contacts": {"a": 1}}',
     "not a backup: 'contacts' is an object"),
    ("server-not-text", '{"server": 7, "contacts": []}',
     "not a backup: 'server' must be the server's URL"),
    ("entry-not-object", json.dumps([ALICE, "Bob"]), "contact 2: not a contact: expected an "
     "object with id, name and phone1, got text"),
    ("no-id", json.dumps([ALICE, {"name": "Bob", "phone1": "1009"}]), "contact 2: no id"),
    ("blank-id", json.dumps([{**ALICE, "id": "  "}]), "contact 1: no id"),
    ("id-a-float", json.dumps([{**ALICE, "id": 1.5}]),
     "contact 1: the id must be text or a whole number, got a number"),
    ("id-true", json.dumps([{**ALICE, "id": True}]),
     "contact 1: the id must be text or a whole number, got true/false"),
    ("no-name", json.dumps([{**ALICE, "name": ""}]), "contact 1 (id 30001): no name"),
    ("name-a-list", json.dumps([{**ALICE, "name": ["A"]}]),
     "contact 1 (id 30001): the name must be text, got a list"),
    ("no-phone", json.dumps([{"id": "30001", "name": "Alice", "phone1": "", "phone2": ""}]),
     "contact 1 (id 30001): no phone number (the API needs one in phone1)"),
    ("phone2-only", json.dumps([{**ALICE, "phone1": "", "phone2": "07700900001"}]),
     "contact 1 (id 30001): phone1 is empty (the API needs a number in phone1)"),
    ("phone-a-number", json.dumps([{**ALICE, "phone1": 7700900001}]),
     "contact 1 (id 30001): phone1 must be text, got a number (a number loses its leading 0)"),
    ("duplicate-id", json.dumps([ALICE, {**ALICE, "name": "Alice Again"}]),
     "contact 2 (id 30001): id 30001 is also contact 1's"),
    ("duplicate-numeric-id", json.dumps([ALICE, {**ALICE, "id": 30001}]),
     "contact 2 (id 30001): id 30001 is also contact 1's"),
    ("many-problems", json.dumps([{"name": "A"}, {"id": "2"}, {"id": "3", "name": "C"}]),
     "contact 1: no id (and 2 more problems in the file)"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "reason"), BAD_BACKUPS, ids=[b[0] for b in BAD_BACKUPS])
def test_a_bad_backup_is_one_line_naming_the_file_and_entry_before_any_preview(
    run_cli, sandbox, tmp_path: Path, home: Path, name: str, text: str, reason: str
) -> None:
    path = tmp_path / f"{name}.json"
    path.write_text(text, encoding="utf-8")
    result = run_cli("restore", str(path), "--yes", env={"SIPALTO_SYNC_HOME": str(home)})
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}: {reason}\n"
    assert result.stdout == ""
    assert len(sandbox.state.snapshot()) == 2


def test_a_file_that_is_not_text_is_not_a_backup(run_cli, tmp_path: Path, home: Path) -> None:
    path = tmp_path / "photo.json"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    result = run_cli("restore", str(path), "--yes", env={"SIPALTO_SYNC_HOME": str(home)})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path}: not a backup: not UTF-8 text (")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_numeric_ids_and_missing_empty_slots_are_fine(run_cli, sandbox, tmp_path, home) -> None:
    saved = export(tmp_path / "ok.json", [
        {"id": 11111, "name": "Domino's Pizza", "phone1": "01491833000",
         "phone2": "07591524881", "phone3": "07591524882"},
        {"id": "22222", "name": "McDonald's", "phone1": "01491835522", "phone3": None},
    ])  # fmt: skip
    result = run_cli("restore", str(saved), "--yes", env={"SIPALTO_SYNC_HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert "nothing to restore" in result.stderr


# -- mass deletes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "total", "mass"),
    [
        (0, 0, False),
        (1, 3, False),
        (1, 2, False),  # half is not most
        (2, 3, True),
        (1, 1, True),
        (MASS_DELETE_COUNT, 100, False),
        (MASS_DELETE_COUNT + 1, 100, True),
    ],
)
def test_a_mass_delete_is_more_than_a_few_or_most_of_the_phonebook(
    count: int, total: int, mass: bool
) -> None:
    assert Deletes(count, total).mass is mass


def test_an_empty_backup_with_yes_deletes_nothing_and_says_why(
    run_cli, sandbox_factory, home: Path
) -> None:
    server = sandbox_factory(SIXTY)
    empty = backup_of(server, [], home)
    result = run_cli("restore", str(empty), "--yes", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "This restore DELETES 60 of 60 contacts in the phonebook: all of them, the phonebook "
        "will be empty.",
        "Error: refusing to delete 60 contacts on --yes alone: pass --max-delete 60 to allow it",
    ]
    assert "Plan: 0 to add, 0 to update, 60 to delete" in result.stdout
    assert phonebook_rows(server.state.snapshot()) == phonebook_rows(SIXTY)
    assert not (home / "plans").exists()


def test_without_a_terminal_a_mass_delete_is_refused(run_cli, sandbox_factory, tmp_path, home):
    server = sandbox_factory(SIXTY)
    saved = export(tmp_path / "three.json", SIXTY[:3])
    result = run_cli("restore", str(saved), server=server, env={"SIPALTO_SYNC_HOME": str(home)})
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        "This restore DELETES 57 of 60 contacts in the phonebook (every contact not in the "
        "backup).",
        "Error: refusing to delete 57 contacts without confirmation: there is no terminal to "
        "ask on; pass --max-delete 57 to allow it",
    ]
    assert len(server.state.snapshot()) == 60


def test_more_deletes_than_max_delete_allows_is_refused(run_cli, sandbox_factory, tmp_path, home):
    server = sandbox_factory(SIXTY)
    saved = export(tmp_path / "three.json", SIXTY[:3])
    result = run_cli("restore", str(saved), "--yes", "--max-delete", "10", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: this restore deletes 57 of 60 contacts, more than --max-delete 10 allows; "
        "nothing was changed"
    )
    assert len(server.state.snapshot()) == 60


def test_max_delete_zero_refuses_even_a_single_delete(run_cli, sandbox_factory, tmp_path, home):
    server = sandbox_factory(SIXTY)
    saved = export(tmp_path / "most.json", SIXTY[1:])
    result = run_cli("restore", str(saved), "--yes", "--max-delete", "0", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 1
    assert "deletes 1 of 60 contacts, more than --max-delete 0 allows" in result.stderr
    assert len(server.state.snapshot()) == 60


def test_max_delete_lets_the_mass_delete_through(run_cli, sandbox_factory, tmp_path, home):
    server = sandbox_factory(SIXTY)
    saved = export(tmp_path / "three.json", SIXTY[:3])
    result = run_cli("restore", str(saved), "--yes", "--max-delete", "57", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "This restore DELETES 57 of 60 contacts" in result.stderr
    assert "Apply complete." in result.stderr
    assert phonebook_rows(server.state.snapshot()) == phonebook_rows(SIXTY[:3])


def test_a_few_deletes_need_only_yes(run_cli, sandbox_factory, tmp_path, home) -> None:
    server = sandbox_factory(SIXTY)
    kept = SIXTY[MASS_DELETE_COUNT:]
    saved = export(tmp_path / "most.json", kept)
    result = run_cli("restore", str(saved), "--yes", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "DELETES" not in result.stderr
    assert phonebook_rows(server.state.snapshot()) == phonebook_rows(kept)


def restore_on_a_terminal(server, backup: Path, home: Path, typed: str) -> subprocess.Popen:
    """``sipalto-sync restore`` as a separate process whose standard input is a terminal
    on which ``typed`` is typed."""
    main, child = os.openpty()
    env = {
        **os.environ,
        "SIPALTO_BASE_URL": server.url,
        "SIPALTO_USERNAME": "demo",
        "SIPALTO_PASSWORD": "demo",
        "SIPALTO_SYNC_HOME": str(home),
        "NO_COLOR": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "restore", str(backup)],
        stdin=child, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    os.close(child)
    os.write(main, typed.encode() + b"\n")
    process.main_fd = main  # type: ignore[attr-defined]
    return process


def finish(process: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = process.communicate(timeout=60)
    finally:
        os.close(process.main_fd)  # type: ignore[attr-defined]
    return process.returncode, err


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_on_a_terminal_typing_the_number_lets_it_through(sandbox_factory, tmp_path, home) -> None:
    server = sandbox_factory(SIXTY)
    saved = export(tmp_path / "three.json", SIXTY[:3])
    code, err = finish(restore_on_a_terminal(server, saved, home, "57"))
    assert code == 0, err
    assert "This restore DELETES 57 of 60 contacts" in err
    assert "Type 57 to delete them: " in err
    assert "Restore the phonebook to this backup?" not in err  # typing it was the answer
    assert phonebook_rows(server.state.snapshot()) == phonebook_rows(SIXTY[:3])


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_on_a_terminal_typing_anything_else_changes_nothing(
    sandbox_factory, tmp_path, home
) -> None:
    server = sandbox_factory(SIXTY)
    saved = export(tmp_path / "three.json", SIXTY[:3])
    code, err = finish(restore_on_a_terminal(server, saved, home, "y"))
    assert code == 1, err
    # (what is typed is echoed on the terminal, not into the captured stderr)
    assert err.endswith("Type 57 to delete them: Nothing was changed.\n")
    assert len(server.state.snapshot()) == 60
    assert not (home / "plans").exists()
