"""The fault matrix: every mix of faults × every kind of plan ends, in ONE apply run, with
exactly the planned phonebook (issue 10, section 5).

Each case applies a plan to the real sandbox over loopback with the real engine, once,
and then compares the whole phonebook with the planned one: contacts that were there
keep their ids, untouched ones unchanged, updated ones as planned, deleted ones gone;
every other contact is one of the plan's adds, each exactly once. The mixes (one table,
``fault_mixes.MIXES``) are each fault alone and all of them at once; the plans add,
update, delete, or do some of each, around contacts they do not name.

Seeds are fixed. A case's seed is in its test id and in every assertion message, with
the command that replays it; the sandbox draws its faults from it and the client its
backoff jitter. Threads (and, for the mixes on the real clock, timing) decide which
request meets which draw, so a replay repeats the same sequence of faults, not always
the same interleaving; each mix's faults are frequent enough that every run meets them.

Mixes on the fake clock (tokens, rate windows, backoffs and the engine's settling delay
on one :class:`FakeTime`) cost no waiting; mixes with writes carried out after the
client's timeout run on the real clock, and only their mixed plans are in the quick
part. The slow part: those mixes' other plans, another seed with bigger plans at eight
threads, and the all-faults mix through the real command line in a process of its own
for every kind of plan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_process import start_apply
from fake_time import FakeTime
from fault_mixes import (
    CLIENT_TIMEOUT,
    MIXES,
    PLAN_KINDS,
    SETTLE_DELAY,
    EngineRun,
    FaultMix,
    Scene,
    mix_named,
    phonebook_problems,
    plan_document,
    run_engine,
    scene,
    start_sandbox,
    wait_for_late_writes,
)

from connector.apply.engine import ApplyReport
from connector.apply.journal import FINAL
from connector.sandbox import SandboxServer

#: Operations per plan, threads, and seeds of the quick cases and of the slow ones.
SIZE, THREADS, SEEDS = 24, 4, (1,)
BIG_SIZE, BIG_THREADS, BIG_SEEDS = 90, 8, (2,)
CLI_SIZE, CLI_SEED = 40, 5


def cases(seeds: tuple[int, ...], *, quick: bool = False) -> list[object]:
    """Every mix × every kind of plan × ``seeds``, named ``MIX-KIND-seedN``. With
    ``quick``, the mixes that wait on the real clock are slow but for the mixed plan."""
    return [
        pytest.param(
            mix,
            kind,
            seed,
            id=f"{mix.name}-{kind}-seed{seed}",
            marks=[pytest.mark.slow] if mix.real_time and kind != "mixed" and quick else [],
        )
        for mix in MIXES
        for kind in PLAN_KINDS
        for seed in seeds
    ]


def replay(request: pytest.FixtureRequest, mix: FaultMix, kind: str, seed: int) -> str:
    """What a failure message starts with: the case, its seed, and how to run it again."""
    return f"{mix.name} x {kind}, seed {seed} (replay: pytest '{request.node.nodeid}')"


def unfinished(report: ApplyReport) -> str:
    """Why a run is not ok, in a few lines."""
    lines = [f"stopped: {report.stopped}", *report.notes, *report.unresolved]
    lines += [
        f"{r.op.label}: {r.state} ({r.reason})" for r in report.results if r.state not in FINAL
    ]
    return "\n  ".join(lines[:12])


def assert_exactly_planned(server: SandboxServer, scene: Scene, mix: FaultMix, where: str):
    """The whole phonebook is as planned, and the mix's faults really happened."""
    wait_for_late_writes(server)
    problems = phonebook_problems(server.state.snapshot(), scene)
    assert not problems, f"{where}: not the planned phonebook:\n  " + "\n  ".join(problems[:12])
    missing = mix.evidence(server) if mix.evidence else None
    assert missing is None, f"{where}: the faults did not happen, this proves nothing: {missing}"


def one_run(
    sandbox_factory, tmp_path: Path, where: str, mix: FaultMix, scene: Scene, seed: int,
    threads: int,
) -> None:  # fmt: skip
    """Apply ``scene`` under ``mix`` in one run of the engine; check the phonebook."""
    fake = None if mix.real_time else FakeTime()
    server = start_sandbox(sandbox_factory, mix, scene, seed=seed, fake=fake)
    how = EngineRun(concurrency=threads)
    report = run_engine(server, scene, tmp_path, seed=seed, fake=fake, how=how)
    assert report.ok, f"{where}: the run did not end as planned:\n  {unfinished(report)}"
    assert len(report.results) == len(scene.items)
    assert_exactly_planned(server, scene, mix, where)


@pytest.mark.parametrize(("mix", "kind", "seed"), cases(SEEDS, quick=True))
def test_one_run_ends_with_exactly_the_planned_phonebook(
    sandbox_factory, tmp_path, request, mix: FaultMix, kind: str, seed: int
) -> None:
    where = replay(request, mix, kind, seed)
    one_run(sandbox_factory, tmp_path, where, mix, scene(kind, SIZE), seed, THREADS)


@pytest.mark.slow
@pytest.mark.parametrize(("mix", "kind", "seed"), cases(BIG_SEEDS))
def test_bigger_plans_at_eight_threads_end_as_planned(
    sandbox_factory, tmp_path, request, mix: FaultMix, kind: str, seed: int
) -> None:
    where = replay(request, mix, kind, seed)
    one_run(sandbox_factory, tmp_path, where, mix, scene(kind, BIG_SIZE), seed, BIG_THREADS)


@pytest.mark.slow
@pytest.mark.parametrize("kind", PLAN_KINDS)
def test_the_command_line_under_every_fault_at_once(
    sandbox_factory, tmp_path, request, kind: str
) -> None:
    mix, seed = mix_named("everything"), CLI_SEED
    where = replay(request, mix, kind, seed)
    planned = scene(kind, CLI_SIZE)
    server = start_sandbox(sandbox_factory, mix, planned, seed=seed)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_document(planned, server.url)), encoding="utf-8")
    # The client gives up after CLIENT_TIMEOUT; slow writes land later, before the
    # settling delay; the retry policy is the command line's own.
    process = start_apply(
        plan, server.url, tmp_path / "home",
        "--settle-delay", str(SETTLE_DELAY), "--concurrency", "4", "--max-time", "300",
        env={"SIPALTO_TIMEOUT": str(CLIENT_TIMEOUT)},
    )  # fmt: skip
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, f"{where}: exit {process.returncode}\n{err[-3000:]}"
    assert "Apply complete. A final read of the phonebook agrees with the plan." in err, where
    assert_exactly_planned(server, planned, mix, where)
