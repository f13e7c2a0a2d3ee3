"""A sync job's lock and a killed run, with the real command line in processes of its own:
an overlapping run is refused at once and names the process that holds the lock; a run
killed with SIGKILL mid-apply leaves no lock behind, ``sync status`` says it was killed,
and the next run resumes the apply from its journal and completes exactly (no contact
twice, every record bound, nothing written again by a later run).

The sandbox holds a chosen request of the first run (:class:`stall.Stall`), so the run is
mid-apply for as long as the test likes; one thread makes the requests' order exact: the
run's login and read, then the apply's login and read (its backup), then one add per
record, then the read that finds the new contacts.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from cli_process import wait_for
from conftest import CliRun, SandboxFactory
from stall import Stall, reaches
from sync_scene import Scene, start_sync

from connector.apply.lock import lock_holder
from connector.sandbox import Faults
from connector.sync.files import job_lock_path

ONE_THREAD = ("--concurrency", "1", "--settle-delay", "0.5")
SOURCE = [
    ("A1", "Alice Archer", "07700 900001"),
    ("B2", "Bob Baker", "07700 900002"),
    ("C3", "Carol Cole", "07700 900003"),
    ("D4", "Dan Dyer", "07700 900004"),
]
HAND_MADE = [{"id": "501", "name": "Hannah Hand", "phone1": "01632960501"}]
#: Requests of a first run before its first add: login and read, the apply's login and read.
BEFORE_ADDS = 4


def stalled_scene(sandbox_factory: SandboxFactory, tmp_path: Path, stall: Stall) -> Scene:
    server = sandbox_factory(
        [dict(c, phone2="", phone3="") for c in HAND_MADE],
        faults=Faults(latency=0.001),
        sleep=stall.sleep,
    )
    scene = Scene(server, tmp_path / "job", tmp_path / "home", policy={"delete": "owned"})
    scene.write_source(SOURCE)
    return scene


def test_an_overlapping_run_is_refused_and_names_the_holder(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    stall = Stall()
    scene = stalled_scene(sandbox_factory, tmp_path, stall)
    stall.arm(after=BEFORE_ADDS + 2)  # the second add
    first = start_sync(scene, *ONE_THREAD)
    try:
        assert reaches(stall, first), first.communicate()
        second = run_cli(*scene.args(), server=scene.server, env=scene.env)
        assert second.exit_code == 1
        assert second.stderr.startswith(
            f"Error: job 'crm' is already running: process {first.pid} on "
        )
        assert second.stdout == ""
        status = run_cli("sync", "status", "--config", str(scene.job), env=scene.env)
        assert status.exit_code == 0
        assert f"Running now: yes, process {first.pid}" in status.stdout
        assert "running (process" in status.stdout
    finally:
        stall.release()
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert set(scene.by_name()) == {"Hannah Hand", *(name for _, name, _ in SOURCE)}
    assert lock_holder(job_lock_path(scene.state_path)) is None


@pytest.mark.parametrize("at", [BEFORE_ADDS, BEFORE_ADDS + 2, BEFORE_ADDS + 5])
def test_a_run_killed_mid_apply_leaves_no_lock_and_the_next_completes_exactly(
    run_cli: CliRun, sandbox_factory: SandboxFactory, tmp_path: Path, at: int
) -> None:
    """Killed at the apply's first read, at its second add, and at its final read."""
    stall = Stall()
    scene = stalled_scene(sandbox_factory, tmp_path, stall)
    stall.arm(after=at)
    killed = start_sync(scene, *ONE_THREAD)
    try:
        assert reaches(stall, killed), killed.communicate()
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
    finally:
        stall.release()
    lock = job_lock_path(scene.state_path)
    assert lock_holder(lock) is None  # the kernel let go of it with the process
    status = run_cli("sync", "status", "--config", str(scene.job), env=scene.env)
    assert "Running now: no" in status.stdout
    assert f"killed (process {killed.pid}" in status.stdout
    assert "Last failure: " in status.stdout
    assert ", killed: it was killed before it finished" in status.stdout

    result = run_cli(*scene.args(*ONE_THREAD), server=scene.server, env=scene.env)
    assert result.exit_code == 0, result.stdout + result.stderr
    if at > BEFORE_ADDS:
        assert "resuming the apply of plan" in result.stderr
    names = scene.by_name()  # fails on any contact twice
    assert set(names) == {"Hannah Hand", *(name for _, name, _ in SOURCE)}
    bound = scene.bindings()
    assert {key: b.contact_id for key, b in bound.items()} == {
        key: names[name] for key, name, _ in SOURCE
    }
    assert scene.owned() == {names[name] for _, name, _ in SOURCE}
    assert scene.held() == {}

    writes = len(scene.writes())
    again = run_cli(*scene.args("--detailed-exitcode"), server=scene.server, env=scene.env)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert len(scene.writes()) == writes
    wait_for(lambda: lock_holder(lock) is None, what="the lock to be free")
