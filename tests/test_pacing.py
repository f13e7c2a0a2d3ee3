"""The shared pacer, on a fake clock: rates, pauses and throttling without storms."""

from __future__ import annotations

import pytest
from fake_time import EPOCH, FakeTime

from connector.api.pacing import MAX_PAUSE, Pacer, parse_delay
from connector.sandbox.limits import RateLimit, RateLimiter, Verdict


def pacer(rate: float | None = None) -> tuple[Pacer, FakeTime]:
    time = FakeTime()
    return Pacer(rate, clock=time.clock, sleep=time.sleep, wall=time.wall), time


def test_unlimited_until_told_otherwise() -> None:
    gate, time = pacer()
    for _ in range(100):
        gate.acquire()
    assert time.now == 0


def test_a_fixed_rate_spaces_requests_evenly() -> None:
    gate, time = pacer(10)
    for _ in range(21):
        gate.acquire()
    assert 1.9 <= time.now <= 2.01


def test_rate_is_learned_from_the_servers_headers_with_a_margin() -> None:
    gate, time = pacer()
    gate.observe(200, {"X-RateLimit-Limit": "25", "X-RateLimit-Remaining": "24",
                       "X-RateLimit-Reset": "1.0"})  # fmt: skip
    assert gate.rate is not None and 24 <= gate.rate < 25
    for _ in range(49):
        gate.acquire()
    assert time.now >= 48 / 25


def test_a_spent_window_pauses_everyone_until_the_reset() -> None:
    gate, time = pacer()
    gate.observe(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0.75"})
    gate.acquire()
    assert time.now >= 0.75


def test_429_pauses_for_retry_after_and_counts() -> None:
    gate, time = pacer()
    assert gate.observe(429, {"Retry-After": "3"}) == 3
    gate.acquire()
    assert time.now >= 3
    assert gate.throttled == 1


def test_a_huge_retry_after_never_freezes_the_pacer_forever() -> None:
    gate, time = pacer()
    gate.observe(429, {"Retry-After": "86400"})
    gate.acquire()
    assert time.now <= MAX_PAUSE + 0.01


def test_garbage_headers_are_ignored() -> None:
    gate, time = pacer()
    gate.observe(200, {"X-RateLimit-Limit": "lots", "X-RateLimit-Remaining": "-3"})
    gate.acquire()
    assert time.now == 0


def test_a_reset_of_zero_teaches_no_window_of_no_length() -> None:
    gate, time = pacer()
    gate.observe(200, {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4",
                       "X-RateLimit-Reset": "0"})  # fmt: skip
    assert gate.window == 1.0
    for _ in range(6):
        gate.acquire()
    assert 0.5 < time.now < 2


def test_a_reset_given_as_a_unix_time_is_read_as_one() -> None:
    gate, time = pacer()
    gate.observe(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": f"{EPOCH + 2:.0f}"})
    gate.acquire()
    assert time.now == 2


def exchange(gate: Pacer, time: FakeTime, server: RateLimiter, latency: float = 0.05) -> Verdict:
    """One request through the pacer to ``server``, ``latency`` seconds there and back."""
    gate.acquire()
    time.advance(latency / 2)
    verdict = server.hit("demo", time.now, time.wall())
    time.advance(latency / 2)
    gate.observe(200 if verdict.allowed else 429, verdict.headers)
    return verdict


def test_nothing_is_known_of_the_window_before_a_limit_is_announced() -> None:
    gate, _ = pacer()
    gate.observe(200, {})
    assert gate.window is None and gate.rate is None


def test_a_laravel_window_is_learned_from_how_remaining_recovers() -> None:
    gate, time = pacer()
    server = RateLimiter(RateLimit(10, 2.0, headers="laravel", kind="fixed"))
    passed = [exchange(gate, time, server).allowed for _ in range(40)]
    # One refusal taught that the window is longer than the second first assumed.
    assert passed.count(False) == 1
    assert gate.window == 2.0
    assert gate.rate is not None and 4.5 <= gate.rate < 5


def test_a_whole_second_retry_after_is_not_waited_out_once_the_window_is_known() -> None:
    gate, time = pacer()
    server = RateLimiter(RateLimit(10, 1.0, headers="laravel-bare", kind="fixed"))
    assert all(exchange(gate, time, server).allowed for _ in range(40))
    assert gate.window == 1.0
    while exchange(gate, time, server).headers["X-RateLimit-Remaining"] != "9":
        pass  # to the start of a window
    # While a request is on its way, another program spends the rest of the window:
    # the request is refused with "Retry-After: 1", though the window turns sooner.
    gate.acquire()
    while server.hit("demo", time.now, time.wall()).allowed:
        pass
    refusal = server.hit("demo", time.now, time.wall())
    assert refusal.headers["Retry-After"] == "1"
    gate.observe(429, refusal.headers)
    refused_at = time.now
    assert exchange(gate, time, server).allowed
    assert time.now - refused_at < 1.0  # the refused one waited less than its Retry-After


def test_a_retry_after_is_obeyed_when_the_window_was_not_the_one_the_pacer_knew() -> None:
    gate, time = pacer()
    server = RateLimiter(RateLimit(10, 1.0, headers="laravel-bare", kind="fixed"))
    assert all(exchange(gate, time, server).allowed for _ in range(40))
    time.advance(1.5)
    # Another program opens the next window and spends it before this request arrives.
    gate.acquire()
    while server.hit("demo", time.now, time.wall()).allowed:
        pass
    gate.observe(429, server.hit("demo", time.now, time.wall()).headers)
    refused_at = time.now
    assert exchange(gate, time, server).allowed
    assert time.now - refused_at >= 1.0
    assert gate.throttled == 1


WALL = 1_445_412_475.0  # Wed, 21 Oct 2015 07:27:55 GMT


@pytest.mark.parametrize(
    ("header", "delay"),
    [
        ("7", 7.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 5.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past: go now
        (f"{WALL + 30:.0f}", 30.0),  # a Unix time
        (f"{WALL - 30:.0f}", 0.0),
        ("99999999999", 99999999999 - WALL),  # far ahead: a long wait the client refuses
        ("-3", None),
        ("inf", None),
        ("nan", None),
        ("1e400", None),
        ("soon", None),
        ("Wed, 32 Oct 2015 07:28:00 GMT", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_unix_time_or_http_date(header, delay) -> None:
    assert parse_delay(header, WALL) == delay
