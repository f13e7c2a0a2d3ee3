"""Where sipalto-sync keeps its files: the journal, backups and (later) sync state.

The per-user data directory comes from platformdirs (``~/.local/share/sipalto-sync`` on
Linux, ``~/Library/Application Support/sipalto-sync`` on macOS, ``%LOCALAPPDATA%`` on
Windows); ``SIPALTO_SYNC_HOME`` moves everything elsewhere (tests, containers, cron).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "sipalto-sync"


def data_dir() -> Path:
    """The directory holding the journal and backups."""
    override = os.environ.get("SIPALTO_SYNC_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def journal_path() -> Path:
    """The SQLite journal of applies and of the contacts the tool created."""
    return data_dir() / "journal.sqlite"


def backup_dir() -> Path:
    """Where phonebook backups are written before any change."""
    return data_dir() / "backups"
