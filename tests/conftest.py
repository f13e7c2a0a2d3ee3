"""Shared fixtures: a real sandbox server on a loopback port, and a CLI runner wired to it."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from connector.api.client import RetryPolicy, SipaltoClient
from connector.cli.app import cli
from connector.sandbox import Faults, Sandbox, SandboxServer, SandboxState

# Property tests check behaviour, not speed: on a loaded 2-core machine (CI, parallel
# workers) the first example, which loads libphonenumber's metadata, can pass any deadline.
settings.register_profile("sipalto", deadline=None)
settings.load_profile("sipalto")

# A shell starts a background job (`pytest &`, a CI step run with `&`) with SIGINT
# ignored, and programs inherit that: the Ctrl-C tests' children would never see their
# SIGINT. Give this process (each xdist worker imports this file) the default handler back,
# so its children start with the default disposition whatever started the run.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

SMALL_BOOK = [
    {"id": "11111", "name": "Domino's Pizza", "phone1": "01491833000",
     "phone2": "07591524881", "phone3": "07591524882"},
    {"id": "22222", "name": "McDonald's", "phone1": "01491835522", "phone2": "", "phone3": ""},
]  # fmt: skip

SandboxFactory = Callable[..., SandboxServer]


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes with chosen contacts, faults, clock (token lifetimes and rate-limit
    windows run on it) and sleep (the latency waits on it); all are stopped after the test."""
    servers: list[SandboxServer] = []

    def start(
        contacts: list[dict[str, str]] | None = None,
        *,
        faults: Faults | None = None,
        seed: int = 1234,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **state_options: Any,
    ) -> SandboxServer:
        state = SandboxState.from_contacts(
            [dict(c) for c in (SMALL_BOOK if contacts is None else contacts)], **state_options
        )
        sandbox = Sandbox(state, faults, rng=random.Random(seed), clock=clock, sleep=sleep)
        server = SandboxServer(sandbox).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> SandboxServer:
    """A well-behaved sandbox holding the two contacts of the API docs."""
    return sandbox_factory()


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[SipaltoClient]:
    """A client logged in to ``sandbox`` as demo/demo, with quick retries."""
    with SipaltoClient(
        sandbox.url, "demo", "demo", timeout=10, retry=RetryPolicy(backoff=0.01, max_backoff=0.05)
    ) as client:
        yield client


CliRun = Callable[..., Result]


@pytest.fixture
def run_cli(sandbox: SandboxServer) -> CliRun:
    """Run the real ``sipalto-sync`` command line against ``sandbox``."""

    def run(*args: str, server: SandboxServer | None = None, **kwargs: Any) -> Result:
        target = server or sandbox
        env = {
            "SIPALTO_BASE_URL": target.url,
            "SIPALTO_USERNAME": "demo",
            "SIPALTO_PASSWORD": "demo",
            "NO_COLOR": "1",
            **kwargs.pop("env", {}),
        }
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False, **kwargs)

    return run
