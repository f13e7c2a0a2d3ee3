"""The one atomic-write rule: whole or nothing, private by default, no clobbering on request."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.files import atomic_write


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_text_as_utf8_private_by_default(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "plan.json", "Zoë\n")
    assert target.read_bytes() == "Zoë\n".encode()
    assert _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_mode_none_follows_the_umask(tmp_path: Path) -> None:
    import os

    old = os.umask(0o022)
    try:
        target = atomic_write(tmp_path / "call.wav", b"RIFF", mode=None)
    finally:
        os.umask(old)
    assert _mode(target) == 0o644


def test_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "backup.json"
    target.write_text("old")
    atomic_write(target, "new")
    assert target.read_text() == "new"


def test_refuses_to_clobber_without_overwrite_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "call.wav"
    target.write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        atomic_write(target, b"theirs", overwrite=False)
    assert target.read_bytes() == b"mine"
    assert [p.name for p in tmp_path.iterdir()] == ["call.wav"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        atomic_write(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_text_in_pieces_is_written_as_one_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    atomic_write(target, (piece for piece in ("{\n", '  "naïve": 1', "\n}\n")))
    assert target.read_text(encoding="utf-8") == '{\n  "naïve": 1\n}\n'


def test_a_piece_that_fails_part_way_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")

    def pieces() -> Iterator[str]:
        yield "half of a new "
        raise RuntimeError("the plan could not be encoded")

    with pytest.raises(RuntimeError):
        atomic_write(target, pieces())
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
