"""The sandbox's rate limit: fixed and sliding windows, the headers each server style sends,
latency spikes, the request log, and the ``sandbox`` command's checks of its options."""

from __future__ import annotations

import io
import json
import math
import random
import time as real_time
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from fake_time import EPOCH, FakeTime

from connector.cli import sandbox as sandbox_cli
from connector.cli.app import cli
from connector.errors import ConfigError
from connector.sandbox import (
    Faults,
    RateLimit,
    RateLimiter,
    Sandbox,
    SandboxServer,
    SandboxState,
    parse_rate,
)
from connector.sandbox.limits import HEADER_STYLES, WINDOW_KINDS

WALL = EPOCH


def hits(limiter: RateLimiter, *moments: float) -> list[tuple[bool, dict[str, str]]]:
    """Requests of one user at ``moments`` (seconds): whether each passed, and its headers."""
    results = []
    for moment in moments:
        verdict = limiter.hit("demo", moment, WALL + moment)
        results.append((verdict.allowed, verdict.headers))
    return results


# -- counting ------------------------------------------------------------------------


def test_a_fixed_window_starts_with_the_first_request_after_the_last_one_ended() -> None:
    limiter = RateLimiter(RateLimit(3, 1.0, kind="fixed"))
    passed = [allowed for allowed, _ in hits(limiter, 0.5, 0.6, 0.7, 0.8, 1.49, 1.5, 1.6)]
    # 0.5-1.5 is the first window (not 0-1 by the clock); 1.5 opens the next one.
    assert passed == [True, True, True, False, False, True, True]


def test_a_sliding_window_frees_one_place_as_each_request_ages_out() -> None:
    limiter = RateLimiter(RateLimit(3, 1.0, kind="sliding"))
    passed = [allowed for allowed, _ in hits(limiter, 0.0, 0.4, 0.8, 0.9, 1.0, 1.1, 1.5)]
    # At 1.0 the request of 0.0 has left; at 1.1 the window still holds 0.4, 0.8, 1.0.
    assert passed == [True, True, True, False, True, False, True]


@pytest.mark.parametrize("kind", WINDOW_KINDS)
def test_a_refused_request_is_not_counted(kind: str) -> None:
    limiter = RateLimiter(RateLimit(2, 1.0, kind=kind))
    hits(limiter, 0.0, 0.1, *[0.2 + n / 100 for n in range(50)])
    assert hits(limiter, 1.0)[0][0] is True


def test_each_user_has_a_budget_of_their_own() -> None:
    limiter = RateLimiter(RateLimit(1, 10.0))
    assert limiter.hit("alice", 0.0, WALL).allowed
    assert limiter.hit("bob", 0.0, WALL).allowed
    assert not limiter.hit("alice", 1.0, WALL).allowed


# -- headers -------------------------------------------------------------------------


def test_full_headers_announce_limit_remaining_and_reset_on_every_answer() -> None:
    limiter = RateLimiter(RateLimit(2, 10.0, headers="full"))
    (_, first), (_, second), (allowed, refused) = hits(limiter, 0.0, 2.5, 3.0)
    assert first == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1",
                     "X-RateLimit-Reset": "10.000"}  # fmt: skip
    assert second["X-RateLimit-Remaining"] == "0" and second["X-RateLimit-Reset"] == "7.500"
    assert not allowed
    assert refused == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset": "7.000", "Retry-After": "7"}  # fmt: skip


def test_laravel_headers_say_only_limit_and_remaining_until_the_429() -> None:
    limiter = RateLimiter(RateLimit(2, 10.0, headers="laravel"))
    (_, first), (_, second), (_, refused) = hits(limiter, 0.0, 2.5, 3.2)
    assert first == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1"}
    assert second == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0"}
    # Whole seconds, rounded up: 6.8 s remain; the reset is a Unix time.
    assert refused == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0",
                       "Retry-After": "7", "X-RateLimit-Reset": f"{WALL + 10:.0f}"}  # fmt: skip


def test_bare_laravel_headers_leave_the_reset_off_the_429_too() -> None:
    limiter = RateLimiter(RateLimit(1, 60.0, headers="laravel-bare"))
    (_, first), (_, refused) = hits(limiter, 0.0, 0.5)
    assert first == {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"}
    assert refused == {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0",
                       "Retry-After": "60"}  # fmt: skip


def test_a_sliding_429_says_when_the_oldest_request_leaves() -> None:
    limiter = RateLimiter(RateLimit(2, 10.0, headers="full", kind="sliding"))
    *_, (_, refused) = hits(limiter, 0.0, 4.0, 5.0)
    assert refused["Retry-After"] == "5" and refused["X-RateLimit-Reset"] == "5.000"


def test_retry_after_is_never_zero() -> None:
    limiter = RateLimiter(RateLimit(1, 1.0, headers="laravel"))
    *_, (_, refused) = hits(limiter, 0.0, 0.9999)
    assert refused["Retry-After"] == "1"


# -- settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("25", (25, 1.0)), ("25/s", (25, 1.0)), ("100/60", (100, 60.0)), ("5/0.5", (5, 0.5)),
     (" 60/60s ", (60, 60.0))],
)  # fmt: skip
def test_rate_limits_are_read_as_n_per_s(text: str, expected: tuple[int, float]) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize(
    "text", ["0/1", "-1/1", "25/0", "25/-1", "25/nan", "25/inf", "25/1e400", "25/86401",
             "x", "2.5/1", "", "25/1/1"],
)  # fmt: skip
def test_absurd_rate_limits_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="rate limit"):
        parse_rate(text)


def test_a_rate_limit_is_checked_when_made() -> None:
    with pytest.raises(ConfigError, match="headers 'github'"):
        RateLimit(25, 1.0, headers="github")
    with pytest.raises(ConfigError, match="window 'leaky'"):
        RateLimit(25, 1.0, kind="leaky")
    with pytest.raises(ConfigError, match="N must be at least 1"):
        RateLimit(25, math.nan)
    with pytest.raises(ConfigError, match="headers"):
        Faults(rate_limit=(25, 1.0), rate_headers="github").rate()


def test_the_command_line_offers_exactly_the_sandbox_styles() -> None:
    assert sandbox_cli.HEADER_STYLES == HEADER_STYLES
    assert sandbox_cli.WINDOW_KINDS == WINDOW_KINDS


# -- over HTTP, on the sandbox's clock --------------------------------------------------


@pytest.fixture
def served() -> Iterator[list[SandboxServer]]:
    servers: list[SandboxServer] = []
    yield servers
    for server in servers:
        server.stop()


def start(servers: list[SandboxServer], faults: Faults, time: FakeTime | None = None,
          **options) -> SandboxServer:  # fmt: skip
    clock = {"clock": time.clock, "wall": time.wall} if time else {}
    sandbox = Sandbox(SandboxState.from_contacts([]), faults, rng=random.Random(5), **clock,
                      **options)  # fmt: skip
    server = SandboxServer(sandbox).start()
    servers.append(server)
    return server


def token(client: httpx.Client) -> dict[str, str]:
    answer = client.post("/auth/login", data={"username": "demo", "password": "demo"})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.mark.parametrize("kind", WINDOW_KINDS)
def test_a_laravel_style_sandbox_answers_as_laravel_does(served, kind: str) -> None:
    time = FakeTime()
    faults = Faults(rate_limit=(3, 10.0), rate_headers="laravel", rate_window=kind)
    server = start(served, faults, time)
    with httpx.Client(base_url=server.url) as client:
        auth = token(client)  # the login is the first of the user's three requests
        time.advance(4)
        first = client.get("/phone-books/get-global-contacts", headers=auth)
        second = client.get("/phone-books/get-global-contacts", headers=auth)
        refused = client.get("/phone-books/get-global-contacts", headers=auth)
        time.advance(6)
        after = client.get("/phone-books/get-global-contacts", headers=auth)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert "X-RateLimit-Reset" not in first.headers and "Retry-After" not in first.headers
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "6"
    assert refused.headers["X-RateLimit-Reset"] == f"{EPOCH + 10:.0f}"
    # Ten seconds after the login: a fixed window starts afresh, a sliding one lets the
    # login go but still counts the two reads.
    assert after.status_code == 200
    assert after.headers["X-RateLimit-Remaining"] == ("2" if kind == "fixed" else "0")


def test_a_server_error_after_counting_carries_the_rate_headers(served) -> None:
    faults = Faults(rate_limit=(10, 1.0), rate_headers="laravel", fail_rate=1.0)
    server = start(served, faults)
    with httpx.Client(base_url=server.url) as client:
        answer = client.post("/auth/login", data={"username": "demo", "password": "demo"})
    assert answer.status_code in (500, 503)
    assert answer.headers["X-RateLimit-Remaining"] == "9"


def test_latency_spikes_hold_up_some_answers(served) -> None:
    server = start(served, Faults(latency_spike_rate=1.0, latency_spike=0.8))
    calm = start(served, Faults(latency_spike_rate=0.0, latency_spike=0.8))
    with httpx.Client(base_url=server.url) as client, httpx.Client(base_url=calm.url) as other:
        began = real_time.perf_counter()
        token(client)
        spiked = real_time.perf_counter() - began
        began = real_time.perf_counter()
        token(other)
        quick = real_time.perf_counter() - began
    assert spiked >= 0.8
    # Relative, not absolute: on a loaded machine a plain login alone may take 0.3 s.
    assert quick < spiked - 0.5


def test_the_request_log_has_one_json_line_per_answer(served) -> None:
    time = FakeTime()
    log = io.StringIO()
    server = start(served, Faults(rate_limit=(1, 5.0)), time, request_log=log)
    with httpx.Client(base_url=server.url) as client:
        auth = token(client)
        client.get("/phone-books/get-global-contacts", headers=auth)
    entries = [json.loads(line) for line in log.getvalue().splitlines()]
    assert entries == [
        {"at": EPOCH, "method": "POST", "path": "/auth/login", "status": 200},
        {"at": EPOCH, "method": "GET", "path": "/phone-books/get-global-contacts", "status": 429},
    ]


# -- the command line -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "Invalid value for '--port': 99999 is not in the range 0<=x<=65535."),
        (["--port", "-1"], "Invalid value for '--port': -1 is not in the range 0<=x<=65535."),
        (["--latency", "-1"], "Invalid value for '--latency': -1.0 is not in the range 0<=x<=600."),
        (["--latency", "nan"],
         "Invalid value for '--latency': 'nan' is not a number in the range 0<=x<=600."),
        (["--latency", "inf"], "Invalid value for '--latency': inf is not in the range 0<=x<=600."),
        (["--token-ttl", "0"],
         "Invalid value for '--token-ttl': 0.0 is not in the range 0<x<=31536000."),
        (["--token-ttl", "1e400"],
         "Invalid value for '--token-ttl': inf is not in the range 0<x<=31536000."),
        (["--token-ttl", "nan"],
         "Invalid value for '--token-ttl': 'nan' is not a number in the range 0<x<=31536000."),
        (["--fail-rate", "nan"],
         "Invalid value for '--fail-rate': 'nan' is not a number in the range 0<=x<=1."),
        (["--lose-rate", "1.5"],
         "Invalid value for '--lose-rate': 1.5 is not in the range 0<=x<=1."),
        (["--latency-spike-rate", "-0.1"],
         "Invalid value for '--latency-spike-rate': -0.1 is not in the range 0<=x<=1."),
        (["--latency-spike", "nan"],
         "Invalid value for '--latency-spike': 'nan' is not a number in the range 0<=x<=600."),
        (["--rate-limit", "25/nan"],
         "Invalid value for '--rate-limit': '25/nan': N must be at least 1 and S between 0 and "
         "86400 seconds (e.g. 25/1)"),
        (["--rate-limit", "many"],
         "Invalid value for '--rate-limit': 'many': write N or N/S, e.g. 25/1"),
        (["--rate-limit", "25/1", "--rate-headers", "github"],
         "Invalid value for '--rate-headers': 'github' is not one of 'full', 'laravel', "
         "'laravel-bare'."),
        (["--rate-headers", "laravel"], "Error: --rate-headers needs --rate-limit N/S"),
        (["--rate-window", "sliding"], "Error: --rate-window needs --rate-limit N/S"),
        (["--state", "no/such/folder/state.json"],
         "Invalid value for '--state': folder 'no/such/folder' does not exist."),
        (["--user", "demo"], "Error: --user 'demo': write NAME:PASSWORD"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)  # fmt: skip
def test_absurd_sandbox_options_get_one_line_naming_option_and_range(
    args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["sandbox", *args])
    assert result.exit_code == 1
    assert message in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.output


def test_a_port_in_use_is_one_line_too(served) -> None:
    busy = start(served, Faults())
    result = CliRunner().invoke(cli, ["sandbox", "--port", str(busy.port)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith(
        f"Error: cannot listen on 127.0.0.1:{busy.port}"
    )
