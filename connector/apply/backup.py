"""Phonebook backups: written before any change, read back to restore.

A backup is JSON: ``{"kind": "sipalto-sync backup", "created_at", "server", "reason",
"contacts": [{id, name, phone1, phone2, phone3}, ...]}``. ``load_backup`` also takes a
plain list of contacts (``contacts list --format json``) and a saved API answer. Making
the plan that brings a backup back is :mod:`connector.apply.restore`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.errors import PlanError
from connector.files import atomic_write
from connector.model import Contact
from connector.paths import private_dir


def write_backup(
    contacts: Sequence[Contact], backup_dir: Path, *, server: str, reason: str
) -> Path:
    """Save the phonebook as read to a timestamped JSON file; returns its path."""
    private_dir(backup_dir)
    now = datetime.now(timezone.utc)
    host = (urlsplit(server).hostname or "server").replace(":", "_")
    path = backup_dir / f"phonebook-{host}-{now:%Y%m%dT%H%M%S%fZ}.json"
    document = {
        "kind": "sipalto-sync backup",
        "created_at": now.isoformat(timespec="seconds"),
        "server": server,
        "reason": reason,
        "contacts": [c.to_dict() for c in contacts],
    }
    # A backup is either whole or absent; it holds personal data, so the owner's only.
    return atomic_write(path, json.dumps(document, indent=1, ensure_ascii=False))


def load_backup(path: str | Path) -> list[Contact]:
    """Read a backup (or a ``contacts list --format json`` export)."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the backup: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"{path}: not a backup (not JSON: {exc})") from exc
    if isinstance(data, dict):
        data = data.get("contacts", data.get("response"))
    if not isinstance(data, list):
        raise PlanError(f"{path}: not a backup: expected a list of contacts")
    contacts = []
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("name"):
            raise PlanError(f"{path}: contact {number} has no id or name")
        contacts.append(Contact.from_dict(entry))
    return contacts
