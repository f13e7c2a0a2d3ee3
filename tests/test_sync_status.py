"""``sync status``: when the job last ran and how, what it owns, whether a run is in
progress, its last failure and its held records; it changes nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import CliRun, SandboxFactory
from sync_scene import Scene

from connector.sync.files import job_lock_path


def status(run_cli: CliRun, scene: Scene, *options: str) -> str:
    result = run_cli("sync", "status", "--config", str(scene.job), *options, env=scene.env)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_status_of_a_job_that_never_ran_creates_nothing(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = Scene(sandbox_factory(), tmp_path / "job", tmp_path / "home")
    assert status(run_cli, scene).splitlines() == [
        f"Job crm against {scene.server.url}",
        f"State: {scene.state_path}",
        "Running now: no",
        "Last run: never (no state file yet)",
    ]
    assert not scene.state_path.parent.exists()
    assert not scene.home.exists()


def test_status_after_runs_says_result_counts_ownership_failures_and_holds(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = Scene(
        sandbox_factory(), tmp_path / "job", tmp_path / "home", policy={"delete": "owned"}
    )
    scene.write_source([("A1", "Ann Able", "07700 900101"), ("B2", "Ben Bold", "07700 900102")])
    assert run_cli(*scene.args(), env=scene.env).exit_code == 0
    lines = status(run_cli, scene).splitlines()
    assert re.fullmatch(
        r"Last run: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, ok in \d+ s: 2 added, 0 updated, "
        r"0 deleted, 0 held for review, 0 rejected",
        lines[3],
    ), lines[3]
    assert lines[4:] == ["Last failure: none", "Owned contacts: 2 (bound: 2)"]

    ann = scene.by_name()["Ann Able"]
    scene.edit(ann, name="Ann Able-Baker")  # held for review
    scene.source.write_text("ID,Name,Mobile,Office\n", encoding="utf-8")  # a valve trips
    assert run_cli(*scene.args(), env=scene.env).exit_code == 3
    shown = status(run_cli, scene)
    assert re.search(r"Last run: .*, valve in \d+ s", shown)
    assert "Last failure: " in shown and "valve: safety valve empty-source:" in shown

    scene.write_source([("A1", "Ann Able", "07700 900101"), ("B2", "Ben Bold", "07700 900102")])
    assert run_cli(*scene.args(), env=scene.env).exit_code == 0
    shown = status(run_cli, scene)
    assert "Held for review (1):\n  A1: " in shown
    data = json.loads(status(run_cli, scene, "--format", "json"))
    assert data["last_run"]["result"] == "ok"
    assert data["last_run"]["state"] == "ok"
    assert data["last_failure"]["result"] == "valve"
    assert data["owned"] == 2
    assert data["running"] is None
    assert [h["key"] for h in data["held"]] == ["A1"]


def test_status_sees_a_run_in_progress_by_its_lock(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    scene = Scene(sandbox_factory(), tmp_path / "job", tmp_path / "home")
    lock = job_lock_path(scene.state_path)
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(lock)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        shown = status(run_cli, scene)
        assert f"Running now: yes, process {holder.pid} on " in shown
        refused = run_cli(*scene.args(), env=scene.env)
        assert refused.exit_code == 1
        assert f"job 'crm' is already running: process {holder.pid} on " in refused.stderr
        assert not scene.state_path.exists()  # refused before it opened anything
    finally:
        holder.kill()
        holder.wait()
    assert "Running now: no" in status(run_cli, scene)


#: Another process taking the job's lock as a run does, then waiting to be killed.
HOLD_THE_LOCK = """
import sys, time
from pathlib import Path
from connector.sync.files import JobLock
lock = JobLock(Path(sys.argv[1]), job="crm", server="http://127.0.0.1")
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""
