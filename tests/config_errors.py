"""The promise every file people write keeps: a mistake is one line, before anything is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import Result

from connector.sandbox import SandboxServer


def assert_one_line_before_reading(
    result: Result, path: Path, line: int, key: str | None, says: str, sandbox: SandboxServer
) -> None:
    """``result`` failed with one line, ``Error: PATH:LINE: KEY: ...`` holding ``says``,
    no traceback, nothing on standard output, and no request made to ``sandbox``."""
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stdout == ""
    place = f"{path}:{line}: " + (f"{key}: " if key else "")
    assert result.stderr.splitlines() == [result.stderr.rstrip("\n")]
    assert result.stderr.startswith(f"Error: {place}"), result.stderr
    assert says in result.stderr
    assert sandbox.state.requests == []


def places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and list entry in ``data``, as paths from the top."""
    found = [path] if path else []
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(places(value, (*path, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(places(value, (*path, index)))
    return found
