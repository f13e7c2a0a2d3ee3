"""The fault matrix's parts: named mixes of sandbox faults, plans of each kind, the check.

A :class:`FaultMix` is one row of the table :data:`MIXES`: the sandbox's :class:`Faults`,
whether it needs the real clock, and a check that its faults really happened (so a
mix that stopped misbehaving fails instead of passing for nothing); a :class:`Neighbour`
spends the user's rate limit so that 429s really happen. A :class:`Scene` is a
starting phonebook and a plan of one kind (:data:`PLAN_KINDS`). :func:`phonebook_problems`
compares the whole phonebook after a run with the planned one, contact by contact.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from apply_helpers import add, contact, delete, plan_doc, update
from fake_time import FakeTime

from connector.api.client import RetryPolicy, SipaltoClient
from connector.api.pacing import Pacer
from connector.apply.engine import ApplyEngine, ApplyReport
from connector.apply.journal import Journal
from connector.apply.target import read_plan_document
from connector.sandbox import Faults, SandboxServer

Evidence = Callable[[SandboxServer], str | None]

#: Client timeout, slow-write delay and settling delay of the mixes on the real clock: a
#: slow write lands after the client gave up, and well before the engine believes it lost.
CLIENT_TIMEOUT = 0.3
SLOW_WRITE_DELAY = 0.6
SETTLE_DELAY = 1.2

WRITES = ("/phone-books/add-global-contact", "/phone-books/update-global-", "/phone-books/delete-")


def statuses(server: SandboxServer, *, writes_only: bool = False) -> Counter[int]:
    """How often the sandbox answered each status (0: a connection closed unanswered)."""
    return Counter(
        status
        for _, path, status in server.state.requests
        if not writes_only or path.startswith(WRITES)
    )


def saw(*wanted: int | tuple[int, ...], writes_only: bool = False) -> Evidence:
    """Evidence that the sandbox answered each of ``wanted`` at least once (a tuple: any
    one of its statuses)."""

    def check(server: SandboxServer) -> str | None:
        seen = statuses(server, writes_only=writes_only)
        groups = [w if isinstance(w, tuple) else (w,) for w in wanted]
        missing = [g for g in groups if not any(seen[status] for status in g)]
        where = "writes" if writes_only else "requests"
        return f"no {missing} among the {where}' answers {dict(seen)}" if missing else None

    return check


def slow_writes(server: SandboxServer) -> str | None:
    """Evidence that some writes were carried out after the client had given up."""
    return None if server.sandbox.slow_writes else "no write was slow"


def every(*checks: Evidence) -> Evidence:
    """Evidence made of several."""

    def check(server: SandboxServer) -> str | None:
        return "; ".join(filter(None, (c(server) for c in checks))) or None

    return check


@dataclass(frozen=True)
class FaultMix:
    """One named mix of sandbox faults.

    ``real_time`` mixes need the wall clock (a write carried out after the client's
    timeout is a race between real clocks); the others run on one :class:`FakeTime`
    shared by the sandbox, the client and the engine, so token lifetimes, rate windows,
    backoffs and the engine's settling delay (its real default of 30 s) take no time.
    """

    name: str
    settings: Mapping[str, Any]
    evidence: Evidence | None = None
    real_time: bool = False
    #: Another program of the same user spends the rate-limit window before every
    #: ``neighbour[0]``th request, ``neighbour[1]`` times at most (see :class:`Neighbour`).
    neighbour: tuple[int, int] | None = None

    def faults(self) -> Faults:
        """A fresh :class:`Faults` (the sandbox may change its own)."""
        return Faults(**self.settings)


#: The table of mixes: each fault alone, then all of them at once. A new sandbox fault is
#: one more row here (and a place in "everything"); the matrix, the seeds and the CLI
#: cases pick it up by name. Rates are high enough that a plan of two dozen operations
#: meets each fault (so its evidence holds) whichever request draws it.
MIXES: tuple[FaultMix, ...] = (
    # 5xx answered before the server did anything.
    FaultMix("5xx", {"fail_rate": 0.25}, saw((500, 503), writes_only=True)),
    # Writes carried out, then answered 500: the answer is lost, not the write.
    FaultMix("lost-answers", {"lose_rate": 0.25}, saw(500, writes_only=True)),
    # Writes carried out only after the client's timeout: on the real clock.
    FaultMix(
        "slow-writes",
        {"slow_write_rate": 0.3, "slow_write_delay": SLOW_WRITE_DELAY},
        slow_writes,
        real_time=True,
    ),
    # A per-user limit the client paces to, and another program of the same user that
    # spends it now and then: 429s with Retry-After that no pacer could have avoided.
    # Every third request, and a 429 on any request counts: on an idle machine the bursts
    # can all land before reads (the apply's own reads, which it must also get through).
    FaultMix(
        "throttled",
        {"rate_limit": (5, 1.0), "latency": 0.001},
        saw(429),
        neighbour=(3, 100),
    ),
    # The same, announced as Laravel's throttle does: Limit and Remaining only, and
    # Retry-After (whole seconds) with a Unix-time reset on the 429; a sliding window.
    FaultMix(
        "throttled-laravel",
        {
            "rate_limit": (5, 1.0),
            "latency": 0.001,
            "rate_headers": "laravel",
            "rate_window": "sliding",
        },
        saw(429),
        neighbour=(3, 100),
    ),
    # Tokens that live 2 s, as in the measured case, and 100 ms a request on the
    # fake clock: a token serves about twenty requests. Not shorter: the client takes a
    # token refused less than RetryPolicy.fresh_token (1 s) after it was issued, on a
    # second try, for a permission problem and stops; a token must outlive that by more
    # than a request can wait between leaving the client and being checked (on the fake
    # clock every request's latency adds up: eight in flight wait 0.8 s).
    FaultMix("token-expiry", {"token_ttl": 2.0, "latency": 0.1}, saw(401)),
    # Plain latency on the real clock, and now and then an answer held up far longer.
    FaultMix("latency", {"latency": 0.02}, real_time=True),
    FaultMix(
        "latency-spikes",
        {"latency": 0.005, "latency_spike_rate": 0.1, "latency_spike": 0.3},
        real_time=True,
    ),
    # Connections closed without an answer, half of the writes' after the write was done.
    FaultMix("drops", {"drop_rate": 0.3}, saw(0, writes_only=True)),
    FaultMix(
        "everything",
        {
            "fail_rate": 0.1,
            "lose_rate": 0.1,
            "slow_write_rate": 0.25,
            "slow_write_delay": SLOW_WRITE_DELAY,
            # The neighbour's burst early in a 2 s window earns a Retry-After of 2 s, so
            # the token taken before it (2 s, see token-expiry) has expired after it.
            "rate_limit": (60, 2.0),
            "token_ttl": 2.0,
            "latency": 0.005,
            "drop_rate": 0.1,
        },
        every(saw(0, 401, 429, 500), slow_writes),
        real_time=True,
        neighbour=(10, 1),  # each 429 stops every thread for seconds of real time
    ),
)


class Neighbour:
    """Another program using the same account, living in the sandbox's latency wait.

    Before every ``every``th request (up to ``bursts`` times) it logs in as many times as
    the rate limit allows in a window, so that window is spent when our request is
    counted: a 429 that our pacer could not foresee (the limit is per user, and our own
    answers' headers said there was room), as on a server shared with other tools.
    Pass :meth:`sleep` as the sandbox's ``sleep`` (it waits the latency on ``inner``) and
    set :attr:`url` once the server is up.
    """

    def __init__(
        self,
        every: int,
        bursts: int,
        burst: int,
        inner: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.every = every
        self.bursts = bursts
        self.burst = burst
        self.inner = inner
        self.url: str | None = None
        self.arrived = 0
        self._busy = False

    async def sleep(self, seconds: float) -> None:
        """The sandbox's ``sleep``: now and then spend the window, then wait ``seconds``."""
        if not self._busy and self.url is not None and self.bursts > 0:
            self.arrived += 1
            if self.arrived % self.every == 0:
                self.bursts -= 1
                self._busy = True  # its own requests pass through here too
                try:
                    await self._spend()
                finally:
                    self._busy = False
        await self.inner(seconds)

    async def _spend(self) -> None:
        form = {"username": "demo", "password": "demo"}
        async with httpx.AsyncClient(base_url=self.url or "") as http:
            for _ in range(self.burst):
                # The sandbox's other faults hit the neighbour too; it does not mind.
                with contextlib.suppress(httpx.HTTPError):
                    await http.post("/auth/login", data=form)


def neighbour_for(mix: FaultMix, inner: Callable[[float], Awaitable[None]]) -> Neighbour | None:
    """The :class:`Neighbour` of ``mix``, waiting the latency on ``inner`` (or ``None``)."""
    if mix.neighbour is None:
        return None
    every, bursts = mix.neighbour
    limit, _window = mix.settings["rate_limit"]
    return Neighbour(every, bursts, limit, inner)


def mix_named(name: str) -> FaultMix:
    """The mix called ``name``."""
    return next(mix for mix in MIXES if mix.name == name)


# -- scenes: a starting phonebook and a plan --------------------------------------------------

#: What a plan does: only adds, only updates, only deletes, or some of each.
PLAN_KINDS = ("adds", "updates", "deletes", "mixed")

#: Contacts in every starting phonebook that no plan touches.
UNTOUCHED = 6


def _fields(values: Mapping[str, str]) -> tuple[str, str, str, str]:
    return (values["name"], values["phone1"], values["phone2"], values["phone3"])


@dataclass(frozen=True)
class Scene:
    """A starting phonebook and a plan's items, and what the phonebook should become."""

    kind: str
    start: list[dict[str, str]]
    items: list[dict[str, Any]] = field(default_factory=list)

    def expected_by_id(self) -> dict[str, tuple[str, str, str, str]]:
        """The starting contacts that should remain, by id, with their planned fields."""
        book = {c["id"]: _fields(c) for c in self.start}
        for item in self.items:
            if item["action"] == "update":
                book[item["id"]] = _fields(item["after"])
            elif item["action"] == "delete":
                del book[item["id"]]
        return book

    def expected_new(self) -> Counter[tuple[str, str, str, str]]:
        """The contacts the plan adds (each once)."""
        return Counter(_fields(i["after"]) for i in self.items if i["action"] == "add")


def _known(n: int) -> dict[str, str]:
    return {"id": str(40001 + n), "name": f"Known {n}", "phone1": f"0163296{n:04d}",
            "phone2": "", "phone3": ""}  # fmt: skip


def _changed(known: dict[str, str], n: int) -> dict[str, str]:
    """A different change for every third contact: name, a second number, a new first one."""
    before = contact(known["name"], known["phone1"])
    if n % 3 == 0:
        return {**before, "name": f"{known['name']} (renamed)"}
    if n % 3 == 1:
        return {**before, "phone2": f"0770090{n:04d}"}
    return {**before, "phone1": f"0161496{n:04d}"}


def scene(kind: str, size: int) -> Scene:
    """A plan of ``size`` operations of ``kind`` over a phonebook that also holds
    :data:`UNTOUCHED` contacts the plan does not name."""
    if kind not in PLAN_KINDS:
        raise ValueError(kind)
    counts = {"adds": (size, 0, 0), "updates": (0, size, 0), "deletes": (0, 0, size)}
    adds, updates, deletes = counts.get(kind, (size - 2 * (size // 3), size // 3, size // 3))
    start = [_known(n) for n in range(UNTOUCHED + updates + deletes)]
    items = [add(f"Person {n}", f"0770091{n:04d}") for n in range(adds)]
    targets = start[UNTOUCHED:]
    for n, known in enumerate(targets[:updates]):
        items.append(update(known["id"], contact(known["name"], known["phone1"]),
                            _changed(known, n)))  # fmt: skip
    for known in targets[updates:]:
        items.append(delete(known["id"], contact(known["name"], known["phone1"])))
    return Scene(kind, start, items)


def phonebook_problems(snapshot: list[dict[str, str]], scene: Scene) -> list[str]:
    """How the phonebook ``snapshot`` differs from the one ``scene``'s plan should leave.

    Contacts that were there before are compared by id (untouched ones unchanged, updated
    ones as planned, deleted ones gone); every other contact must be one of the plan's
    adds, each exactly once. Empty when the phonebook is exactly as planned.
    """
    expected = scene.expected_by_id()
    before = {c["id"] for c in scene.start}
    old = {c["id"]: _fields(c) for c in snapshot if c["id"] in before}
    new = Counter(_fields(c) for c in snapshot if c["id"] not in before)
    wanted = scene.expected_new()
    problems = []
    for contact_id, fields in sorted(expected.items()):
        if contact_id not in old:
            problems.append(f"contact {contact_id} {fields} is gone")
        elif old[contact_id] != fields:
            problems.append(f"contact {contact_id} is {old[contact_id]}, planned {fields}")
    problems += [f"contact {i} should be deleted" for i in sorted(set(old) - set(expected))]
    for fields, count in sorted((new - wanted).items()):
        what = "written twice" if fields in wanted else "not in the plan"
        problems.append(f"{fields} {what}: {count + wanted[fields]} times")
    problems += [f"add {fields} is missing" for fields in sorted(wanted - new)]
    return problems


def start_sandbox(
    sandbox_factory: Callable[..., SandboxServer],
    mix: FaultMix,
    scene: Scene,
    *,
    seed: int,
    fake: FakeTime | None = None,
    inner: Callable[[float], Awaitable[None]] | None = None,
) -> SandboxServer:
    """A sandbox holding ``scene``'s phonebook, misbehaving as ``mix`` says with its
    random draws from ``seed``; on ``fake`` time if given. ``inner`` waits out the
    latency (default: the fake clock's or asyncio's)."""
    inner = inner or (fake.sleep_async if fake is not None else asyncio.sleep)
    neighbour = neighbour_for(mix, inner)
    clock = {"clock": fake.clock} if fake is not None else {}
    server = sandbox_factory(
        scene.start,
        faults=mix.faults(),
        seed=seed,
        sleep=neighbour.sleep if neighbour else inner,
        **clock,
    )
    if neighbour is not None:
        neighbour.url = server.url
    return server


# -- driving the real engine ------------------------------------------------------------------


@dataclass(frozen=True)
class EngineRun:
    """How :func:`run_engine` drives the engine."""

    concurrency: int = 4
    #: Seconds per request before the client gives up (only the real clock can time out).
    timeout: float = CLIENT_TIMEOUT
    settle_delay: float = SETTLE_DELAY
    max_time: float = 300.0


def run_engine(
    server: SandboxServer,
    scene: Scene,
    work: Path,
    *,
    seed: int,
    fake: FakeTime | None,
    how: EngineRun,
) -> ApplyReport:
    """Apply ``scene``'s plan to ``server`` in ONE run of the real engine over loopback.

    On ``fake`` time the client's pacer, backoff and token clock and the engine's clock
    and sleep all run on it, with the engine's real default settling delay and budget;
    else on the real clock with ``how``'s short timeout and settling delay. The client's
    backoff jitter is drawn from ``seed``.
    """
    waits: dict[str, Any] = {}
    engine_waits: dict[str, Any] = {"settle_delay": how.settle_delay, "max_time": how.max_time}
    timeout = how.timeout
    if fake is not None:
        waits = {
            "pacer": Pacer(clock=fake.clock, sleep=fake.sleep, wall=fake.wall),
            "clock": fake.clock,
            "sleep": fake.sleep,
        }
        # The defaults of the command line: on this clock, minutes cost nothing.
        engine_waits = {"clock": fake.wall, "sleep": fake.sleep}
        timeout = 10.0  # nothing is slow on the fake clock; a loaded machine may be
    else:
        # Quick retries keep the real-time cases short; the command line's own policy is
        # exercised by the cases that run it.
        waits = {"retry": RetryPolicy(backoff=0.05, max_backoff=0.5)}
    target = read_plan_document(plan_document(scene, server.url))
    with (
        SipaltoClient(
            server.url,
            "demo",
            "demo",
            timeout=timeout,
            rng=random.Random(seed),
            max_connections=how.concurrency,
            **waits,
        ) as client,
        Journal(work / "journal.sqlite") as journal,
    ):
        engine = ApplyEngine(
            client,
            journal,
            backup_dir=work / "backups",
            concurrency=how.concurrency,
            **engine_waits,
        )
        return engine.run(target)


def plan_document(scene: Scene, server: str) -> dict[str, Any]:
    """The plan file of ``scene`` for ``server`` (a fresh plan id every call)."""
    return plan_doc(scene.items, server=server)


def wait_for_late_writes(server: SandboxServer, timeout: float = 10.0) -> None:
    """Wait until no slow write is still on its way: one landing after the check would
    be a duplicate the check missed."""
    deadline = time.monotonic() + timeout
    while server.sandbox._late_writes:  # the sandbox keeps them only while pending
        if time.monotonic() > deadline:
            raise AssertionError("slow writes still pending after the run")
        time.sleep(0.02)
