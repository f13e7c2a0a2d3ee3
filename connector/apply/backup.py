"""Phonebook backups: written before any change, read back (and checked) to restore.

A backup is JSON: ``{"kind": "sipalto-sync backup", "created_at", "server", "reason",
"contacts": [{id, name, phone1, phone2, phone3}, ...]}``. ``load_backup`` also takes a
plain list of contacts (``contacts list --format json``) and a saved API answer
(``{"response": [...]}``); those do not say which server they came from.

A backup is checked whole before anything is planned from it: a file that is not one,
or an entry the API could not take back (no id, no name, no phone1, a number where text
belongs, an id used twice) is one error line naming the file, the entry and the reason,
rather than a preview that fails half-way through the apply. Making the plan that brings
a backup back is :mod:`connector.apply.restore`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.errors import PlanError
from connector.files import atomic_write
from connector.model import Contact
from connector.paths import private_dir

__all__ = ["BACKUP_KIND", "Backup", "load_backup", "write_backup"]

#: The ``kind`` of a backup file.
BACKUP_KIND = "sipalto-sync backup"

_PHONES = ("phone1", "phone2", "phone3")


@dataclass(frozen=True)
class Backup:
    """A backup read back and checked.

    ``server`` is the base URL it was made on, or ``None`` for a plain export, which
    does not say (its origin is unknown).
    """

    path: Path
    contacts: tuple[Contact, ...]
    server: str | None = None
    created_at: str | None = None


def write_backup(
    contacts: Sequence[Contact], backup_dir: Path, *, server: str, reason: str
) -> Path:
    """Save the phonebook as read to a timestamped JSON file; returns its path."""
    private_dir(backup_dir)
    now = datetime.now(timezone.utc)
    host = (urlsplit(server).hostname or "server").replace(":", "_")
    path = backup_dir / f"phonebook-{host}-{now:%Y%m%dT%H%M%S%fZ}.json"
    document = {
        "kind": BACKUP_KIND,
        "created_at": now.isoformat(timespec="seconds"),
        "server": server,
        "reason": reason,
        "contacts": [c.to_dict() for c in contacts],
    }
    # A backup is either whole or absent; it holds personal data, so the owner's only.
    return atomic_write(path, json.dumps(document, indent=1, ensure_ascii=False))


def load_backup(path: str | Path) -> Backup:
    """Read and check a backup (or a ``contacts list --format json`` export).

    Raises :class:`PlanError` naming the file, and the entry and what is wrong with it,
    for anything that could not be restored as it stands.
    """
    path = Path(path)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the backup: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise PlanError(f"{path}: not a backup: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}: not a backup: not JSON ({exc})") from exc
    entries, server, created_at = _document(data, path)
    return Backup(path, _contacts(entries, path), server, created_at)


def _document(data: Any, path: Path) -> tuple[list[Any], str | None, str | None]:
    """The entries of a backup, export or API answer, and the server and time it names."""
    if isinstance(data, list):
        return data, None, None
    if not isinstance(data, dict):
        raise PlanError(
            f"{path}: not a backup: expected a sipalto-sync backup or a list of contacts, "
            f"got {_kind_of(data)}"
        )
    if "contacts" not in data:
        if isinstance(data.get("response"), list):  # a saved API answer
            return data["response"], None, None
        raise PlanError(
            f"{path}: not a backup: a JSON object without 'contacts' (expected a "
            "sipalto-sync backup or a list of contacts)"
        )
    kind = data.get("kind", BACKUP_KIND)
    if kind != BACKUP_KIND:
        raise PlanError(f"{path}: not a backup: its kind is {kind!r}, not {BACKUP_KIND!r}")
    if not isinstance(data["contacts"], list):
        raise PlanError(f"{path}: not a backup: 'contacts' is {_kind_of(data['contacts'])}")
    server, created_at = data.get("server"), data.get("created_at")
    if server is not None and (not isinstance(server, str) or not server.strip()):
        raise PlanError(f"{path}: not a backup: 'server' must be the server's URL")
    if created_at is not None and not isinstance(created_at, str):
        raise PlanError(f"{path}: not a backup: 'created_at' must be a time as text")
    return data["contacts"], server, created_at


def _contacts(entries: list[Any], path: Path) -> tuple[Contact, ...]:
    """Every entry as a contact, or one error listing the first problem and how many more."""
    problems: list[str] = []
    contacts: list[Contact] = []
    first_of: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        problem = _problem(entry)
        contact_id = _id_of(entry)
        if problem is None and contact_id in first_of:
            problem = f"id {contact_id} is also contact {first_of[contact_id]}'s"
        if problem is not None:
            shown = f" (id {contact_id})" if contact_id else ""
            problems.append(f"{path}: contact {number}{shown}: {problem}")
            continue
        assert contact_id is not None
        first_of[contact_id] = number
        contacts.append(Contact.from_dict({**entry, "id": contact_id}))
    if problems:
        more = len(problems) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''} in the file)" if more else ""
        raise PlanError(problems[0] + tail)
    return tuple(contacts)


def _id_of(entry: Any) -> str | None:
    """The entry's id as text, when it has a usable one (the API sends ids quoted)."""
    if not isinstance(entry, dict):
        return None
    value = entry.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text or None


def _problem(entry: Any) -> str | None:
    """What stops ``entry`` from being restored as it stands, or ``None``."""
    if not isinstance(entry, dict):
        return f"not a contact: expected an object with id, name and phone1, got {_kind_of(entry)}"
    value = entry.get("id")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
        return f"the id must be text or a whole number, got {_kind_of(value)}"
    if _id_of(entry) is None:
        return "no id"
    name = entry.get("name")
    if name is not None and not isinstance(name, str):
        return f"the name must be text, got {_kind_of(name)}"
    if not (name or "").strip():
        return "no name"
    for field in _PHONES:
        phone = entry.get(field)
        if phone is not None and not isinstance(phone, str):
            return f"{field} must be text, got {_kind_of(phone)} (a number loses its leading 0)"
    phones = {field: (entry.get(field) or "").strip() for field in _PHONES}
    if not phones["phone1"]:
        if any(phones.values()):
            return "phone1 is empty (the API needs a number in phone1)"
        return "no phone number (the API needs one in phone1)"
    return None


def _kind_of(value: Any) -> str:
    """A JSON value's kind in words, for messages: ``a number``, ``a list``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"
