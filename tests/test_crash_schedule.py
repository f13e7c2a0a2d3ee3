"""The crash schedule: an apply killed with SIGKILL at many points, then run again (and
perhaps killed again) until it exits 0, ends every time with the planned phonebook and
nothing twice (issue 10, section 5).

The real command line runs in a process of its own against the sandbox. A seeded
schedule picks the points, counted in requests, not seconds: the sandbox holds the Nth
request (:class:`stall.Stall`), the process is killed with SIGKILL while it waits, and the
held requests then go on without it (a held delete is carried out, a held add or update
finds its client gone and changes nothing). With one thread and no faults the first
run's requests are numbered exactly: a login, the first read (the backup is written
after it), one write per operation in the plan's order, then the read that finds the
new contacts; so each phase of a run is hit on purpose and checked to have been hit.

Every run after a kill must get the plan's lock at once: the killed run's lock file is
still there and still names it, but the kernel let go of its ``flock`` when it died.

The slow part: schedules of several kills at three threads with every fault on (lost
answers, 5xx, dropped connections, expiring tokens, writes carried out after the
client's timeout, some of them landing after the process that sent them was killed).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cli_process import start_apply
from fault_mixes import (
    CLIENT_TIMEOUT,
    Scene,
    phonebook_problems,
    plan_document,
    scene,
    wait_for_late_writes,
)
from stall import Stall, reaches

from connector.apply.lock import lock_path
from connector.sandbox import Faults, SandboxServer

LOGIN, READ = "/auth/login", "/phone-books/get-global-contacts"
#: The plan: 8 adds, then 8 updates, then 8 deletes, among 6 contacts it leaves alone.
PLAN_SIZE = 24
#: The phases of a first run.
PHASES = ("before-backup", "adds", "updates", "deletes", "final-read")
ONE_THREAD = ("--concurrency", "1", "--settle-delay", "0.5")
#: Under faults: the client gives up after CLIENT_TIMEOUT; a slow write lands 1.5 s after
#: it arrived, so one sent by a killed run lands after the next run has started and
#: read the phonebook (a process takes more than half a second to start); the engine
#: waits 2.5 s before it believes an add lost.
FAULTY: dict[str, Any] = {"latency": 0.005, "lose_rate": 0.1, "fail_rate": 0.1, "drop_rate": 0.05,
          "token_ttl": 2.0, "slow_write_rate": 0.1, "slow_write_delay": 1.5}  # fmt: skip
THREE_THREADS = ("--concurrency", "3", "--settle-delay", "2.5")


def write_path(item: dict) -> str:
    """The path of the request that carries out a plan item."""
    if item["action"] == "add":
        return "/phone-books/add-global-contact"
    verb = "update" if item["action"] == "update" else "delete"
    return f"/phone-books/{verb}-global-contact/{item['id']}"


def first_run_paths(planned: Scene) -> list[str]:
    """The requests of an undisturbed first run at one thread, in order."""
    return [LOGIN, READ, *(write_path(item) for item in planned.items), READ]


def phase_of(n: int, planned: Scene) -> str:
    """Which phase of a one-thread first run its ``n``th request (from 1) belongs to."""
    if n <= 2:
        return "before-backup"
    if n > 2 + len(planned.items):
        return "final-read"
    return planned.items[n - 3]["action"] + "s"


def point_in(phase: str, planned: Scene, rng: random.Random) -> int:
    """A request of a one-thread first run, chosen by ``rng`` among those of ``phase``."""
    count = len(first_run_paths(planned))
    return rng.choice([n for n in range(1, count + 1) if phase_of(n, planned) == phase])


class Schedule:
    """Runs the real command line against ``server`` again and again, killing it where
    told, and checks what every run must show. ``timeout`` is the client's, in seconds
    (``None``: the default)."""

    def __init__(
        self, server: SandboxServer, stall: Stall, planned: Scene, tmp_path: Path,
        options: tuple[str, ...], where: str, timeout: float | None = None,
    ) -> None:  # fmt: skip
        self.server = server
        self.stall = stall
        self.planned = planned
        self.options = options
        self.where = where
        self.home = tmp_path / "home"
        document = plan_document(planned, server.url)
        self.plan = tmp_path / "plan.json"
        self.plan.write_text(json.dumps(document), encoding="utf-8")
        self.lock = lock_path(self.home / "journal.sqlite", document["plan_id"], server.url)
        self.kills = 0
        self.env = {"SIPALTO_TIMEOUT": str(timeout)} if timeout is not None else {}

    def kill_at(self, n: int) -> bool:
        """Start a run and kill it with SIGKILL at its ``n``th request; False when the run
        ended before it (then it must have ended well)."""
        self.stall.arm(after=n)
        process = self.start()
        try:
            if not reaches(self.stall, process):
                self.check_end(process)
                return False
            self.on_kill(n)
            self.kill(process)
        finally:
            self.stall.release()
        return True

    def kill_during_a_slow_write(self) -> bool:
        """Start a run and kill it while a write it sent is on its way to being carried
        out after the client's timeout: that write lands after its sender died. False
        when the run ended before any write was slow."""
        slow = self.server.sandbox.slow_writes
        process = self.start()
        while self.server.sandbox.slow_writes == slow:
            if process.poll() is not None:
                self.check_end(process)
                return False
            time.sleep(0.005)
        self.kill(process)
        return True

    def kill(self, process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL, f"{self.where}: {err}"
        self.check_not_blocked(err)
        # The lock file outlives its holder and still names it; the next run gets in anyway.
        holder = json.loads(self.lock.read_text(encoding="utf-8"))
        assert holder["pid"] == str(process.pid), f"{self.where}: {holder}"
        self.kills += 1

    def on_kill(self, n: int) -> None:
        """Called with the ``n``th request held, before the kill (for checks)."""

    def finish(self) -> str:
        """Run to the end (no kill); it must exit 0. Returns what it said."""
        return self.check_end(self.start())

    def start(self) -> subprocess.Popen[str]:
        return start_apply(self.plan, self.server.url, self.home, *self.options, env=self.env)

    def check_end(self, process: subprocess.Popen[str]) -> str:
        """A run that was not killed: exit 0, the phonebook as planned. Returns its stderr."""
        _, err = process.communicate(timeout=180)
        self.check_not_blocked(err)
        assert process.returncode == 0, f"{self.where}: exit {process.returncode}\n{err}"
        assert "Apply complete. A final read of the phonebook agrees with the plan." in err, (
            f"{self.where}:\n{err}"
        )
        return err

    def check_not_blocked(self, err: str) -> None:
        assert "already being applied" not in err, f"{self.where}: the lock blocked a run\n{err}"

    def check_phonebook(self) -> None:
        wait_for_late_writes(self.server)
        problems = phonebook_problems(self.server.state.snapshot(), self.planned)
        assert not problems, f"{self.where}: not the planned phonebook:\n  " + "\n  ".join(
            problems[:12]
        )


class CheckedFirstKill(Schedule):
    """A schedule whose first kill is checked to fall where the plan's order puts it."""

    def on_kill(self, n: int) -> None:
        if self.kills:
            return
        done = [path for _, path, _ in self.server.state.requests]
        assert done == first_run_paths(self.planned)[: n - 1], (
            f"{self.where}: request {n} is not where the schedule meant it to be: {done}"
        )
        backups = list((self.home / "backups").glob("*.json"))
        assert bool(backups) == (n > 2), f"{self.where}: a backup before the first read?"


def replay(request: pytest.FixtureRequest, seed: int) -> str:
    return f"seed {seed} (replay: pytest '{request.node.nodeid}')"


@pytest.mark.parametrize(
    ("phase", "seed"), [pytest.param(p, n, id=f"{p}-seed{n}") for n, p in enumerate(PHASES, 1)]
)
def test_killed_in_each_phase_and_again_the_last_run_ends_as_planned(
    sandbox_factory, tmp_path, request, phase: str, seed: int
) -> None:
    planned = scene("mixed", PLAN_SIZE)
    stall = Stall()
    server = sandbox_factory(planned.start, faults=Faults(latency=0.002), seed=seed,
                             sleep=stall.sleep)  # fmt: skip
    rng = random.Random(seed)
    first = point_in(phase, planned, rng)
    # The run that resumes is killed too, somewhere in its login, read, or what is left.
    again = rng.randint(1, len(first_run_paths(planned)) - first + 3)
    where = f"{phase}: kills at requests {first} and {again}, {replay(request, seed)}"
    schedule = CheckedFirstKill(server, stall, planned, tmp_path, ONE_THREAD, where)
    assert schedule.kill_at(first)
    if schedule.kill_at(again):
        schedule.finish()
    schedule.check_phonebook()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 9))
def test_a_seeded_schedule_of_kills_under_faults_ends_as_planned(
    sandbox_factory, tmp_path, request, seed: int
) -> None:
    planned = scene("mixed", PLAN_SIZE)
    stall = Stall()
    server = sandbox_factory(planned.start, faults=Faults(**FAULTY), seed=seed,
                             sleep=stall.sleep)  # fmt: skip
    rng = random.Random(seed)
    # The first kill in each phase in turn (as numbered without faults; faults and
    # threads move it a little), then one to three more: at a request anywhere in what
    # is left, or while a slow write is on its way.
    points: list[int | str] = [point_in(PHASES[seed % len(PHASES)], planned, rng)]
    for _ in range(rng.randint(1, 3)):
        slow = rng.random() < 0.5
        points.append("slow write" if slow else rng.randint(1, len(planned.items) + 4))
    where = f"kills at {points}, {replay(request, seed)}"
    schedule = Schedule(server, stall, planned, tmp_path, THREE_THREADS, where, CLIENT_TIMEOUT)
    for point in points:
        killed = (
            schedule.kill_during_a_slow_write() if point == "slow write"
            else schedule.kill_at(int(point))
        )  # fmt: skip
        if not killed:
            break  # that run ended before the point, and ended well
    else:
        schedule.finish()
    assert schedule.kills >= 1, where
    schedule.check_phonebook()
