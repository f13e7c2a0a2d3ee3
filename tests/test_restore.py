"""Backups and ``sipalto-sync restore``: the phonebook comes back exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.apply.backup import load_backup, write_backup
from connector.apply.restore import plan_restore
from connector.errors import PlanError
from connector.model import Contact

BOOK = [
    Contact("30001", "Alice Archer", "01632960001"),
    Contact("30002", "Bob Baker", "01632960002", "07700900002"),
    Contact("30003", "Carol Cooper", "01632960003"),
]


def actions(plan) -> list[tuple[str, str | None]]:
    return [(i.action, i.id) for i in plan.items if i.action != "unchanged"]


def test_restore_plan_reverts_readds_and_deletes() -> None:
    now = [
        Contact("30001", "Alice A", "01632960001"),  # changed
        Contact("30003", "Carol Cooper", "01632960003"),  # untouched; Bob was deleted
        Contact("30009", "Zed Newman", "07700900009"),  # added since
    ]
    plan = plan_restore(BOOK, now, server="http://x", source="b.json")
    assert actions(plan) == [("update", "30001"), ("add", None), ("delete", "30009")]
    update = plan.items[0]
    assert update.before.name == "Alice A" and update.after.name == "Alice Archer"


def test_a_contact_recreated_under_a_new_id_is_neither_deleted_nor_added() -> None:
    now = [BOOK[0], BOOK[2], Contact("30010", "Bob Baker", "01632960002", "07700900002")]
    plan = plan_restore(BOOK, now, server="http://x", source="b.json")
    assert actions(plan) == []
    assert not plan.has_changes


def test_backup_round_trips_and_plain_exports_load(tmp_path: Path) -> None:
    path = write_backup(BOOK, tmp_path, server="http://127.0.0.1:1", reason="test")
    backup = load_backup(path)
    assert backup.contacts == tuple(BOOK) and backup.server == "http://127.0.0.1:1"
    export = tmp_path / "export.json"
    export.write_text(json.dumps([c.to_dict() for c in BOOK]), encoding="utf-8")
    assert load_backup(export).contacts == tuple(BOOK)
    assert load_backup(export).server is None


def test_a_broken_backup_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "no id"}]', encoding="utf-8")
    with pytest.raises(PlanError, match=r"bad\.json: contact 1: no id"):
        load_backup(bad)


def test_restore_brings_back_a_backed_up_phonebook_exactly(run_cli, sandbox_factory, tmp_path):
    book = [c.to_dict() for c in BOOK]
    server = sandbox_factory(book)
    env = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    backup = tmp_path / "before.json"
    assert run_cli("contacts", "list", "--format", "json", "-o", str(backup),
                   server=server, env=env).exit_code == 0  # fmt: skip
    server.state.replace_contacts([
        {**book[0], "name": "Alice Changed", "phone3": "07700900111"},
        book[2],
        {"id": "30050", "name": "Intruder", "phone1": "07700900050", "phone2": "", "phone3": ""},
    ])  # fmt: skip
    result = run_cli("restore", str(backup), "--yes", server=server, env=env)
    assert result.exit_code == 0, result.output
    assert "Plan: 1 to add, 1 to update, 1 to delete" in result.stdout
    assert "Apply complete." in result.stderr
    restored = sorted((c["name"], c["phone1"], c["phone2"], c["phone3"])
                      for c in server.state.snapshot())  # fmt: skip
    assert restored == sorted((c.name, c.phone1, c.phone2, c.phone3) for c in BOOK)
    # The restore was itself backed up first, and that backup holds the intruder.
    backups = list((tmp_path / "home" / "backups").glob("phonebook-*.json"))
    assert len(backups) == 1
    assert "Intruder" in backups[0].read_text(encoding="utf-8")
    again = run_cli("restore", str(backup), "--yes", server=server, env=env)
    assert "nothing to restore" in again.stderr
