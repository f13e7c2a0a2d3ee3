"""What the tool keeps is a phonebook, so the owner only may read it: the data directory
and its folders are 0700, every file in them 0600, whatever the umask."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_helpers import add, contact, delete, plan_doc

from connector import paths
from connector.apply.backup import write_backup
from connector.apply.journal import Journal
from connector.files import atomic_write
from connector.model import Contact

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")

BOOK = [
    {"id": "30001", "name": "Alice Archer", "phone1": "01632960001", "phone2": "", "phone3": ""},
    {"id": "30002", "name": "Bob Baker", "phone1": "01632960002", "phone2": "", "phone3": ""},
]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask: every private mode must come from the tool, not the umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory that does not exist yet (as on a first run)."""
    home = tmp_path / "fresh" / "home"
    monkeypatch.setenv("SIPALTO_SYNC_HOME", str(home))
    return home


def test_apply_keeps_the_journal_and_backups_private(
    run_cli, sandbox_factory, tmp_path: Path, home: Path, open_umask: None
) -> None:
    server = sandbox_factory(BOOK)
    items = [add("Dan Dyer", "07700900004"), delete("30002", contact("Bob Baker", "01632960002"))]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_doc(items, server=server.url)), encoding="utf-8")
    result = run_cli(
        "apply", str(plan), "--yes", server=server, env={"SIPALTO_SYNC_HOME": str(home)}
    )
    assert result.exit_code == 0, result.output
    assert mode(home) == 0o700
    assert mode(home / "backups") == 0o700
    assert mode(home / "journal.sqlite") == 0o600
    (backup,) = (home / "backups").iterdir()
    assert mode(backup) == 0o600
    assert sorted(p.name for p in home.iterdir()) == ["backups", "journal.sqlite"]


def test_restore_keeps_its_plan_private(
    run_cli, sandbox_factory, tmp_path: Path, home: Path, open_umask: None
) -> None:
    server = sandbox_factory(BOOK)
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(BOOK[:1]), encoding="utf-8")
    result = run_cli("restore", str(saved), "--yes", server=server,
                     env={"SIPALTO_SYNC_HOME": str(home)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert mode(home / "plans") == 0o700
    (plan,) = (home / "plans").iterdir()
    assert mode(plan) == 0o600
    assert [mode(p) for p in (home / "backups").iterdir()] == [0o600]


def test_the_journals_sqlite_side_files_are_private_while_open(
    home: Path, open_umask: None
) -> None:
    with Journal(paths.journal_path()):  # creating its tables is a write: the WAL exists
        side = [home / f"journal.sqlite{suffix}" for suffix in ("-wal", "-shm")]
        assert all(p.exists() for p in side)
        assert [mode(p) for p in side] == [0o600, 0o600]
    assert mode(home / "journal.sqlite") == 0o600


def test_files_and_folders_an_older_version_left_open_are_tightened(home: Path) -> None:
    (home / "backups").mkdir(parents=True, mode=0o755)
    os.chmod(home, 0o755)
    journal = home / "journal.sqlite"
    with Journal(journal):
        pass
    for path in (journal, home / "journal.sqlite-wal"):
        path.touch()
        os.chmod(path, 0o644)
    with Journal(journal):
        assert mode(journal) == 0o600
        assert mode(home / "journal.sqlite-wal") == 0o600
    write_backup([Contact("1", "A", "1009")], paths.backup_dir(), server="http://x", reason="t")
    assert mode(home) == 0o700
    assert mode(home / "backups") == 0o700


def test_a_backup_dir_of_the_users_choosing_keeps_its_mode_and_gets_private_files(
    tmp_path: Path, home: Path, open_umask: None
) -> None:
    shared = tmp_path / "srv"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    path = write_backup([Contact("1", "A", "1009")], shared / "new" / "deeper",
                        server="http://x", reason="t")  # fmt: skip
    assert mode(shared) == 0o755
    assert mode(shared / "new") == 0o700
    assert mode(shared / "new" / "deeper") == 0o700
    assert mode(path) == 0o600


def test_private_file_creates_an_empty_owner_only_file(tmp_path: Path, open_umask: None) -> None:
    lock = paths.private_file(tmp_path / "locks" / "plan.lock")
    assert lock.read_bytes() == b""
    assert mode(lock) == 0o600
    assert mode(tmp_path / "locks") == 0o700


def test_atomic_write_is_private_by_default(tmp_path: Path, open_umask: None) -> None:
    assert mode(atomic_write(tmp_path / "plan.json", "{}")) == 0o600
