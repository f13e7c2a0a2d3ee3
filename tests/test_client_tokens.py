"""Tokens, logins, the connection pool and the client's counters.

A server whose tokens expire on a fake clock: a request that waits in the pacer must not
carry a token that expired while it waited, and a client must log in as often as tokens
expire; only a token refused right after a fresh login is fatal.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from fake_time import FakeTime

from connector.api.client import RetryPolicy, SipaltoClient
from connector.api.pacing import Pacer
from connector.errors import Unauthorized
from connector.sandbox import Faults

CONTACTS = {"success": True, "response": [{"id": "5", "name": "A", "phone1": "1"}]}


class ExpiringTokens:
    """A server whose tokens live ``ttl`` seconds of ``time``; it refuses older ones."""

    def __init__(self, time: FakeTime, ttl: float) -> None:
        self.time = time
        self.ttl = ttl
        self.issued: dict[str, float] = {}
        self.refused = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login":
            token = f"tok-{len(self.issued) + 1}"
            self.issued[token] = self.time.now
            return httpx.Response(200, json={"access_token": token, "expires_in": 86400})
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        issued = self.issued.get(token)
        if issued is None or self.time.now - issued > self.ttl:
            self.refused += 1
            return httpx.Response(401, json={"message": "Unauthenticated."})
        return httpx.Response(200, json=CONTACTS)


def paced_client(handler, time: FakeTime, rate: float, **kwargs) -> SipaltoClient:
    return SipaltoClient(
        "http://sipalto.test",
        "demo",
        "pw",
        transport=httpx.MockTransport(handler),
        pacer=Pacer(rate, clock=time.clock, sleep=time.sleep, wall=time.wall),
        clock=time.clock,
        sleep=time.sleep,
        **kwargs,
    )


def test_a_token_cannot_expire_while_its_request_waits_in_the_pacer() -> None:
    # One request every 3 s, tokens valid 2 s: every token taken before the wait would
    # be stale when sent. The token is taken after the wait, so each request succeeds.
    time = FakeTime()
    server = ExpiringTokens(time, ttl=2.0)
    client = paced_client(server, time, rate=1 / 3)
    for _ in range(5):
        assert len(client.list_contacts()) == 1
    assert client.logins == len(server.issued) >= 5


def test_tokens_expiring_every_few_requests_mean_as_many_logins_as_it_takes() -> None:
    time = FakeTime()
    server = ExpiringTokens(time, ttl=2.5)
    client = paced_client(server, time, rate=10)
    for _ in range(100):  # 10 s of requests: four or five tokens' lifetimes
        client.list_contacts()
    assert server.refused >= 3
    assert client.logins == len(server.issued) == server.refused + 1
    assert client.retried == server.refused  # each refused request went again, once


def test_a_token_refused_right_after_logging_in_is_fatal() -> None:
    time = FakeTime()
    server = ExpiringTokens(time, ttl=-1)  # refuses every token, even a new one
    client = paced_client(server, time, rate=None)
    with pytest.raises(Unauthorized, match="refused right after logging in again"):
        client.list_contacts()
    assert client.logins == 2  # the first token might have been an old one: one more try


def test_a_server_refusing_tokens_issued_longer_ago_than_fresh_is_bounded() -> None:
    # The token is refused when it is two seconds old, and every attempt waits three in
    # the pacer for the login: never "fresh", so only the policy's bound stops it.
    time = FakeTime()
    server = ExpiringTokens(time, ttl=-1)
    client = paced_client(server, time, rate=None, retry=RetryPolicy(fresh_token=-1.0, relogins=4))
    with pytest.raises(Unauthorized, match="still refused after logging in 4 times"):
        client.list_contacts()
    assert client.logins == 5


def test_the_connection_pool_holds_as_many_connections_as_threads_send(sandbox_factory) -> None:
    # Twelve threads at once, each answered after 1 s: with room for twelve connections
    # they are all in flight together; a pool of ten would hold two back for a second turn.
    server = sandbox_factory(faults=Faults(latency=1.0))
    with SipaltoClient(server.url, "demo", "demo", max_connections=12) as client:
        client.login()
        barrier = threading.Barrier(12)

        def read() -> None:
            barrier.wait()
            client.list_contacts()

        threads = [threading.Thread(target=read) for _ in range(12)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    assert elapsed < 1.8, f"12 reads took {elapsed:.2f}s: some waited for a connection"
