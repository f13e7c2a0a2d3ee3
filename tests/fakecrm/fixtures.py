"""Pytest fixtures serving the fake CRMs over loopback HTTP.

Import them into the conftest (or test module) that uses them::

    from fakecrm.fixtures import dynamics, fake_crm, hubspot, pipedrive, salesforce, zoho

Each vendor fixture is a factory: ``hubspot(contacts=40, seed=3, faults=Faults(...))``
serves the fake on a loopback port and returns a :class:`Served` (``.url``, ``.fake``,
``.settings``). Ports are reused from test to test (one per fake a test serves), and the
servers stop when the process exits.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pytest
from starlette.responses import PlainTextResponse

from fakecrm.base import FakeCRM
from fakecrm.dynamics import FakeDynamics
from fakecrm.hubspot import FakeHubSpot
from fakecrm.pipedrive import FakePipedrive
from fakecrm.salesforce import FakeSalesforce
from fakecrm.server import FakeServer
from fakecrm.zoho import FakeZoho

F = TypeVar("F", bound=FakeCRM)


@dataclass
class Served(Generic[F]):
    """A fake CRM and the server that serves it."""

    fake: F
    server: FakeServer

    @property
    def url(self) -> str:
        """The server's base URL (no trailing slash)."""
        return self.server.url

    @property
    def settings(self) -> dict[str, str]:
        """What a reader needs to reach this fake (URLs and credentials)."""
        return connection_settings(self.fake, self.url)


def connection_settings(fake: FakeCRM, url: str) -> dict[str, str]:
    """Base URL, token URL and credentials for ``fake`` served at ``url``.

    Keys: ``base_url`` always; ``token`` for a ready bearer/API token; ``token_url``,
    ``client_id``, ``client_secret``, ``refresh_token``, ``scope``, ``tenant`` where the
    vendor's auth flow uses them.
    """
    settings = {"base_url": url}
    if isinstance(fake, (FakeHubSpot, FakePipedrive)):
        settings["token"] = fake.token
    if isinstance(fake, FakeZoho):
        settings.update(
            token_url=f"{url}/oauth/v2/token",
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            refresh_token=fake.refresh_token,
        )
    if isinstance(fake, FakeSalesforce):
        settings.update(
            token=fake.token,
            token_url=f"{url}/services/oauth2/token",
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            refresh_token=fake.refresh_token,
        )
    if isinstance(fake, FakeDynamics):
        environment = fake.org_url or url
        settings.update(
            token_url=f"{url}/{fake.tenant}/oauth2/v2.0/token",
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            scope=f"{environment}/.default",
            tenant=fake.tenant,
        )
    return settings


Serve = Callable[[FakeCRM], Served[Any]]


class _Swap:
    """An ASGI app that forwards to whichever fake its server lends itself to."""

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.target is None:  # between tests: nobody should be calling
            await PlainTextResponse("no fake CRM is being served", 503)(scope, receive, send)
            return
        await self.target(scope, receive, send)


# Servers are lent out test by test rather than started and stopped each time: uvicorn
# takes a tick (0.1 s and more) to shut down, which adds up over a few dozen tests.
_POOL: list[tuple[FakeServer, _Swap]] = []


@atexit.register
def _stop_pool() -> None:
    for server, _ in _POOL:
        server.stop()


@pytest.fixture
def fake_crm() -> Iterator[Serve]:
    """Serve any fake CRM on its own loopback port for the length of the test."""
    lent: list[_Swap] = []

    def serve(fake: FakeCRM) -> Served[Any]:
        if len(lent) == len(_POOL):
            swap = _Swap()
            _POOL.append((FakeServer(swap).start(), swap))
        server, swap = _POOL[len(lent)]
        swap.target = fake.app
        lent.append(swap)
        return Served(fake, server)

    yield serve
    for swap in lent:
        swap.target = None


@pytest.fixture
def hubspot(fake_crm: Serve) -> Callable[..., Served[FakeHubSpot]]:
    """Start a :class:`FakeHubSpot` (same arguments) and serve it."""
    return lambda *args, **options: fake_crm(FakeHubSpot(*args, **options))


@pytest.fixture
def pipedrive(fake_crm: Serve) -> Callable[..., Served[FakePipedrive]]:
    """Start a :class:`FakePipedrive` (same arguments) and serve it."""
    return lambda *args, **options: fake_crm(FakePipedrive(*args, **options))


@pytest.fixture
def zoho(fake_crm: Serve) -> Callable[..., Served[FakeZoho]]:
    """Start a :class:`FakeZoho` (same arguments) and serve it."""
    return lambda *args, **options: fake_crm(FakeZoho(*args, **options))


@pytest.fixture
def salesforce(fake_crm: Serve) -> Callable[..., Served[FakeSalesforce]]:
    """Start a :class:`FakeSalesforce` (same arguments) and serve it."""
    return lambda *args, **options: fake_crm(FakeSalesforce(*args, **options))


@pytest.fixture
def dynamics(fake_crm: Serve) -> Callable[..., Served[FakeDynamics]]:
    """Start a :class:`FakeDynamics` (same arguments) and serve it."""
    return lambda *args, **options: fake_crm(FakeDynamics(*args, **options))
