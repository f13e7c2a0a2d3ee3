"""A scheduled sync job set up in a temporary folder against a sandbox, for the sync tests:
its job file, its source (rewritten between runs), the phonebook and the state as they are."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from subprocess import DEVNULL, PIPE, Popen
from typing import Any

import yaml

from connector.sandbox import SandboxServer
from connector.sync.state import Binding, Hold, SyncState

#: A source row: (key, name, phones separated by ';').
Row = tuple[str, str, str]


class Scene:
    """One job (``name``) in ``folder``: ``job.yaml``, ``contacts.csv``, ``reports/``,
    ``state/NAME.db``; the data directory (journal, backups, ownership registry) is
    ``home``, shared by every job of a test."""

    def __init__(
        self,
        server: SandboxServer,
        folder: Path,
        home: Path,
        *,
        name: str = "crm",
        policy: Mapping[str, Any] | None = None,
        keep_reports: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.server = server
        self.folder = folder
        self.home = home
        self.name = name
        folder.mkdir(parents=True, exist_ok=True)
        self.job = folder / "job.yaml"
        self.source = folder / "contacts.csv"
        self.reports = folder / "reports"
        self.state_path = folder / "state" / f"{name}.db"
        document: dict[str, Any] = {
            "job": name,
            "source": {"path": "contacts.csv"},
            "state": f"state/{name}.db",
            "policy": dict(policy or {}),
            "report": "reports/",
        }
        if keep_reports is not None:
            document["keep_reports"] = keep_reports
        document.update(extra or {})
        self.job.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    @property
    def env(self) -> dict[str, str]:
        """The environment of a run: the sandbox's address and account, the data folder."""
        return {
            "SIPALTO_BASE_URL": self.server.url,
            "SIPALTO_USERNAME": "demo",
            "SIPALTO_PASSWORD": "demo",
            "SIPALTO_SYNC_HOME": str(self.home),
            "NO_COLOR": "1",
        }

    def write_source(self, rows: Iterable[Row]) -> None:
        """The source: a CSV with an ID column (the key), a name and up to two numbers."""
        lines = ["ID,Name,Mobile,Office"]
        for key, name, phones in rows:
            numbers = [*phones.split(";"), "", ""][:2] if phones else ["", ""]
            lines.append(",".join([key, name, *numbers]))
        self.source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def args(self, *options: str) -> list[str]:
        """``sync --config JOB OPTIONS``."""
        return ["sync", "--config", str(self.job), *options]

    # -- what there is ------------------------------------------------------------------

    def phonebook(self) -> dict[str, tuple[str, ...]]:
        """The phonebook now: id -> (name, non-empty phones...)."""
        return {
            c["id"]: (c["name"], *(p for p in (c["phone1"], c["phone2"], c["phone3"]) if p))
            for c in self.server.state.snapshot()
        }

    def by_name(self) -> dict[str, str]:
        """The phonebook now: name -> id (names are unique in these tests)."""
        book = self.server.state.snapshot()
        names = [c["name"] for c in book]
        assert len(names) == len(set(names)), f"a name appears twice: {sorted(names)}"
        return {c["name"]: c["id"] for c in book}

    def bindings(self) -> dict[str, Binding]:
        """The job's bindings, by source key."""
        with SyncState.open(self.state_path, job=self.name, server=self.server.url) as state:
            return state.bindings()

    def held(self) -> dict[str, Hold]:
        with SyncState.open(self.state_path, job=self.name, server=self.server.url) as state:
            return {hold.key: hold for hold in state.held()}

    def owned(self) -> set[str]:
        return {b.contact_id for b in self.bindings().values() if b.owned}

    def writes(self) -> list[tuple[str, str, int]]:
        """Every request the sandbox saw that could change the phonebook."""
        verbs = ("/phone-books/add-", "/phone-books/update-", "/phone-books/delete-")
        return [r for r in self.server.state.requests if r[1].startswith(verbs)]

    def edit(self, contact_id: str, **fields: str) -> None:
        """Change a contact in the phonebook, as a person would by hand."""
        with self.server.state.lock:
            self.server.state.contacts[contact_id].update(fields)

    def delete(self, contact_id: str) -> None:
        """Delete a contact from the phonebook by hand."""
        with self.server.state.lock:
            del self.server.state.contacts[contact_id]

    def add_by_hand(self, contact_id: str, name: str, phone: str) -> None:
        """A contact someone made in Sipalto (no run made it)."""
        with self.server.state.lock:
            self.server.state.contacts[contact_id] = {
                "id": contact_id, "name": name, "phone1": phone, "phone2": "", "phone3": ""
            }  # fmt: skip

    def report_files(self) -> list[Path]:
        return sorted(self.reports.iterdir()) if self.reports.exists() else []

    def last_report(self) -> dict[str, Any]:
        reports = [p for p in self.report_files() if p.name.endswith("-report.json")]
        return json.loads(reports[-1].read_text(encoding="utf-8"))


def start_sync(scene: Scene, *options: str, env: Mapping[str, str] | None = None) -> Popen[str]:
    """``sipalto-sync sync --config JOB OPTIONS`` in a process of its own."""
    return Popen(
        [sys.executable, "-m", "connector", *scene.args(*options)],
        env={**os.environ, **scene.env, **(env or {})},
        stdout=PIPE,
        stderr=PIPE,
        stdin=DEVNULL,
        text=True,
    )
