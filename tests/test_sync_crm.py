"""A scheduled sync whose source is a CRM (``source: {path: https://..., mapping: PRESET}``),
against the independent vendor fakes (tests/fakecrm) and the sandbox, through the real
command line: consecutive runs follow the CRM, a read that fails part way writes nothing,
a CRM answering no record trips the empty-source valve, and an incremental mapping reads
only what changed (deleting nothing) until a full read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CliRun, SandboxFactory
from fakecrm.base import Faults
from fakecrm.fixtures import (  # noqa: F401  (fixtures, reached by name)
    Served,
    fake_crm,
    hubspot,
    pipedrive,
)
from sync_scene import Scene

from connector.sync import incremental

HAND_MADE = [
    {"id": "501", "name": "Hannah Hand", "phone1": "01632960501", "phone2": "", "phone3": ""},
]


def crm_scene(
    sandbox_factory: SandboxFactory,
    tmp_path: Path,
    served: Served[Any],
    preset: str,
    env: dict[str, str],
    **policy: Any,
) -> tuple[Scene, dict[str, str]]:
    server = sandbox_factory(HAND_MADE)
    scene = Scene(server, tmp_path / "job", tmp_path / "home", policy=policy)
    document = yaml.safe_load(scene.job.read_text(encoding="utf-8"))
    document["source"] = {"path": served.url, "mapping": preset}
    scene.job.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return scene, {**scene.env, **env}


def run(run_cli: CliRun, scene: Scene, env: dict[str, str], *options: str) -> Any:
    return run_cli(*scene.args(*options), server=scene.server, env=env)


def names(scene: Scene) -> set[str]:
    return {entry[0] for entry in scene.phonebook().values()}


def test_a_crm_job_follows_the_crm_and_a_failed_read_writes_nothing(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path, request: Any
) -> None:
    served = request.getfixturevalue("hubspot")(130)  # two pages of 100
    fake = served.fake
    env = {"HUBSPOT_TOKEN": served.settings["token"]}
    scene, env = crm_scene(sandbox_factory, tmp_path, served, "hubspot", env, delete="owned")
    callable_ = [e for e in fake.expected() if e.phones]

    first = run(run_cli, scene, env)
    assert first.exit_code == 0, first.stdout + first.stderr
    assert f"records read from {served.url}" in first.stdout
    assert names(scene) == {e.name for e in callable_} | {"Hannah Hand"}

    # The CRM changes: one contact gone, one with a new mobile number.
    gone, moved = fake.records[5], fake.records[6]
    fake.records.remove(gone)
    moved["properties"]["mobilephone"] = "07700 900999"
    second = run(run_cli, scene, env)
    assert second.exit_code == 0, second.stdout + second.stderr
    assert "1 to update, 1 to delete" in second.stdout
    book = scene.phonebook()
    assert "07700900999" in book[scene.bindings()[str(moved["id"])].contact_id]
    assert str(gone["id"]) not in scene.bindings()
    assert book["501"] == ("Hannah Hand", "01632960501")

    # A read that fails on page 2 (an HTML sign-in page) is no source: nothing is
    # planned, written or deleted, and the state is as it was.
    fake.records.remove(fake.records[0])
    fake.faults = Faults(html_on_page=2)
    bound, writes = scene.bindings(), len(scene.writes())
    failed = run(run_cli, scene, env)
    assert failed.exit_code == 1, failed.stdout + failed.stderr
    assert "page 2" in failed.stderr and "Traceback" not in failed.stderr
    assert (scene.bindings(), len(scene.writes())) == (bound, writes)
    assert env["HUBSPOT_TOKEN"] not in failed.stdout + failed.stderr


def test_a_long_crm_read_logs_its_progress(
    run_cli: CliRun,
    sandbox_factory: SandboxFactory,
    tmp_path: Path,
    request: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(incremental, "PROGRESS_EVERY", 0.0)  # a line per page, not per 10 s
    served = request.getfixturevalue("hubspot")(250)  # three pages of 100
    env = {"HUBSPOT_TOKEN": served.settings["token"]}
    scene, env = crm_scene(sandbox_factory, tmp_path, served, "hubspot", env)
    result = run(run_cli, scene, env, "--log-format", "json", "--dry-run")
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines()]
    progress = [e for e in events if e["event"] == "source.progress"]
    assert [(e["pages"], e["records"]) for e in progress] == [(1, 100), (2, 200), (3, 250)]
    assert progress[0]["message"].startswith("reading hubspot: 100 records in 1 page so far")


def test_a_crm_answering_no_record_trips_the_empty_source_valve(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path, request: Any
) -> None:
    served = request.getfixturevalue("hubspot")(20)
    env = {"HUBSPOT_TOKEN": served.settings["token"]}
    scene, env = crm_scene(sandbox_factory, tmp_path, served, "hubspot", env, delete="owned")
    assert run(run_cli, scene, env).exit_code == 0
    book = scene.phonebook()
    served.fake.records.clear()
    result = run(run_cli, scene, env)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "safety valve empty-source" in result.stderr
    assert scene.phonebook() == book


def test_an_incremental_crm_job_reads_only_changes_and_deletes_only_on_a_full_read(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path, request: Any
) -> None:
    served = request.getfixturevalue("pipedrive")(30)
    fake = served.fake
    env = {"PIPEDRIVE_API_TOKEN": served.settings["token"]}
    scene, env = crm_scene(sandbox_factory, tmp_path, served, "pipedrive", env, delete="owned")
    assert run(run_cli, scene, env).exit_code == 0
    first = [e for e in fake.log if e.page is not None]
    assert all("updated_since" not in dict(e.query) for e in first)  # a first, full read
    owned = len(scene.owned())

    # One person changes (a new number, touched later than anything read); one is
    # removed, which an incremental read cannot see.
    latest = max(r["update_time"] for r in fake.records)
    changed, removed = fake.records[1], fake.records[5]
    changed["phones"] = [{"value": "07700 900888", "primary": True, "label": "mobile"}]
    changed["update_time"] = "2099-01-01T00:00:00Z"
    fake.records.remove(removed)
    fake.log.clear()
    second = run(run_cli, scene, env)
    assert second.exit_code == 0, second.stdout + second.stderr
    (request,) = [e for e in fake.log if e.page is not None]
    assert dict(request.query)["updated_since"] == latest
    assert "changed since" in second.stderr
    assert "0 to delete" in second.stdout and "1 to update" in second.stdout, second.stdout
    assert len(scene.owned()) == owned  # the removed person's contact stays for now
    contact = scene.bindings()[str(changed["id"])].contact_id
    assert "07700900888" in scene.phonebook()[contact]

    # A full read (asked for; full_every would do it after 7 days) sees the removal.
    third = run(run_cli, scene, env, "--full-read")
    assert third.exit_code == 0, third.stdout + third.stderr
    assert "1 to delete" in third.stdout
    assert str(removed["id"]) not in scene.bindings()
    assert scene.phonebook()["501"] == ("Hannah Hand", "01632960501")
