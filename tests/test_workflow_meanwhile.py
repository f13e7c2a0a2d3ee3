"""The phonebook read while a file's records are read (``workflow.plan_from_source``)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.api.client import SipaltoClient
from connector.errors import SourceError, Unauthorized
from connector.model import RawPhone, SourceRecord
from connector.reconcile import workflow
from connector.reconcile.workflow import plan_from_source, read_source
from connector.sandbox import SandboxServer

ROWS = "name,phone\nAnn Lee,07700900001\nBob Stone,07700900002\nCy Young,07700900003\n"


def _record(row: int) -> SourceRecord:
    phones = (RawPhone(f"0770090000{row}"),)
    return SourceRecord(f"row:{row}", f"f.csv:{row}", f"row {row}", phones)


class _Source:
    """A source whose reading is seen: each record read is noted in ``events``, and
    ``fail_after`` records in, the read fails as a damaged file does."""

    path = Path("f.csv")
    format_name = "csv"
    cut_short = None

    def __init__(self, events: list[str], count: int, fail_after: int | None = None) -> None:
        self.events, self.count, self.fail_after = events, count, fail_after
        self.messages: list[str] = []

    def records(self) -> Iterator[SourceRecord]:
        for row in range(1, self.count + 1):
            if row == self.fail_after:
                raise SourceError(f"f.csv:{row}: the file ends in the middle of a row")
            self.events.append(f"record {row}")
            yield _record(row)


def test_started_is_called_once_the_first_record_is_read(monkeypatch) -> None:
    events: list[str] = []
    monkeypatch.setattr(workflow, "open_source", lambda *a, **k: _Source(events, 3))
    read = read_source("f.csv", started=lambda: events.append("started"))
    assert events == ["record 1", "started", "record 2", "record 3"]
    assert [r.name for r in read.records] == ["row 1", "row 2", "row 3"]


def test_a_file_failing_at_its_first_record_starts_nothing(monkeypatch) -> None:
    events: list[str] = []
    monkeypatch.setattr(workflow, "open_source", lambda *a, **k: _Source(events, 3, 1))
    with pytest.raises(SourceError):
        read_source("f.csv", started=lambda: events.append("started"))
    assert events == []


def _reads_seen(client: SipaltoClient, seen: list[threading.Thread]) -> None:
    """Note the thread ``client`` reads the phonebook in."""
    list_contacts = client.list_contacts

    def noted() -> list:
        seen.append(threading.current_thread())
        return list_contacts()

    client.list_contacts = noted  # type: ignore[method-assign]


def test_the_phonebook_is_read_in_a_thread_while_the_file_is_read(
    api: SipaltoClient, tmp_path: Path
) -> None:
    source = tmp_path / "contacts.csv"
    source.write_text(ROWS, encoding="utf-8")
    seen: list[threading.Thread] = []
    _reads_seen(api, seen)
    interval = sys.getswitchinterval()
    plan, read = plan_from_source(api, source)
    assert len(seen) == 1 and seen[0] is not threading.main_thread()
    assert not seen[0].is_alive()  # joined before planning (which may fork)
    assert sys.getswitchinterval() == interval
    assert len(read.records) == 3
    assert plan.summary["add"] == 3  # against the docs' two contacts: all three are new


def test_a_crm_is_read_first_and_the_phonebook_after(api: SipaltoClient, monkeypatch) -> None:
    """A CRM read that fails part-way must leave the phonebook unread: no thread."""
    events: list[str] = []
    monkeypatch.setattr(workflow, "open_source", lambda *a, **k: _Source(events, 2))
    seen: list[threading.Thread] = []
    _reads_seen(api, seen)
    plan_from_source(api, "https://crm.example/api")
    assert seen == [threading.main_thread()]


def test_a_file_failing_part_way_is_the_error_shown(api: SipaltoClient, monkeypatch) -> None:
    """The file's error wins over the phonebook's, and the switch interval comes back."""
    events: list[str] = []
    monkeypatch.setattr(workflow, "open_source", lambda *a, **k: _Source(events, 5, 3))
    release = threading.Event()

    def refused() -> list:
        release.wait(5)
        raise Unauthorized("login refused")

    api.list_contacts = refused  # type: ignore[method-assign]
    interval = sys.getswitchinterval()
    with pytest.raises(SourceError, match=r"f\.csv:3"):
        plan_from_source(api, "f.csv")
    release.set()
    assert sys.getswitchinterval() == interval
    assert events == ["record 1", "record 2"]


def test_the_phonebook_error_comes_after_a_good_file(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    source = tmp_path / "contacts.csv"
    source.write_text(ROWS, encoding="utf-8")
    interval = sys.getswitchinterval()
    with (
        SipaltoClient(sandbox.url, "demo", "wrong", timeout=10) as client,
        pytest.raises(Unauthorized),
    ):
        plan_from_source(client, source)
    assert sys.getswitchinterval() == interval
