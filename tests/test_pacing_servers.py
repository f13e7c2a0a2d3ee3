"""The pacer against simulated servers: every way of counting and announcing a limit.

Several real client threads share one pacer on virtual time (``pacing_sim``) against
the sandbox's own rate limiter, 50 ms from the server. The goals: at least 0.9 of the
limit, at most one 429 in any window's length, and never a silence longer than the
window (or than the one ``Retry-After`` that taught it).
"""

from __future__ import annotations

import pytest
from pacing_sim import simulate

from connector.sandbox.limits import HEADER_STYLES, WINDOW_KINDS, RateLimit

SERVERS = [(headers, kind) for headers in HEADER_STYLES for kind in WINDOW_KINDS]


@pytest.mark.parametrize("threads", [4, 8])
@pytest.mark.parametrize(("headers", "kind"), SERVERS)
@pytest.mark.parametrize(("requests", "window"), [(25, 1.0), (10, 2.0), (60, 60.0)])
def test_the_pace_reaches_the_limit_with_at_most_one_429_per_window(
    requests: int, window: float, headers: str, kind: str, threads: int
) -> None:
    run = simulate(RateLimit(requests, window, headers, kind), requests=15 * requests,
                   threads=threads)  # fmt: skip
    assert run.share >= 0.9
    assert run.most_refusals_in_a_window() <= 1
    assert run.longest_silence() <= window + 0.1


@pytest.mark.parametrize(("headers", "kind"), SERVERS)
def test_a_one_second_window_is_learned_without_a_single_429(headers: str, kind: str) -> None:
    run = simulate(RateLimit(25, 1.0, headers, kind), requests=300, threads=4)
    assert run.refusals == []
    assert run.share >= 0.94
    assert run.pacer.window == 1.0


@pytest.mark.parametrize("kind", WINDOW_KINDS)
def test_a_minute_window_is_learned_from_the_first_429_alone(kind: str) -> None:
    # Laravel's default: 60 a minute, announced nowhere; Retry-After is in whole seconds.
    run = simulate(RateLimit(60, 60.0, "laravel-bare", kind), requests=300, threads=4)
    assert len(run.refusals) == 1
    assert run.pacer.window == 60.0
    # The refused request waited out the rest of the first minute, no longer.
    assert run.longest_silence() <= 60.0


def test_a_window_that_is_no_round_number_is_paced_from_its_bounds() -> None:
    run = simulate(RateLimit(30, 1.5, "laravel-bare", "sliding"), requests=450, threads=4)
    assert run.share >= 0.9
    assert run.most_refusals_in_a_window() <= 1
    # 1.5 s to within the jitter of the clocks (far less than the margin the pace keeps).
    assert run.pacer.window is not None and 1.48 <= run.pacer.window <= 1.6


def test_the_first_request_goes_alone_so_an_unknown_limit_is_not_overrun() -> None:
    run = simulate(RateLimit(3, 1.0, "full", "fixed"), requests=30, threads=8)
    assert run.refusals == []


@pytest.mark.parametrize("headers", HEADER_STYLES)
def test_a_budget_spent_before_the_run_costs_at_most_one_429(headers: str) -> None:
    # An earlier run (or another program) used the whole window just before this one.
    run = simulate(RateLimit(25, 1.0, headers, "fixed"), requests=300, threads=4,
                   used_before=25)  # fmt: skip
    assert len(run.refusals) <= 1
    assert run.longest_silence() <= 1.1
    assert run.share >= 0.85


@pytest.mark.parametrize(("headers", "kind"), SERVERS)
def test_latency_spikes_do_not_set_off_a_storm_of_429s(headers: str, kind: str) -> None:
    # One request in fifty waits half a second more on its way to the server, so some
    # reach it out of order and the pacer cannot tell when they were counted.
    run = simulate(RateLimit(25, 1.0, headers, kind), requests=300, threads=4,
                   spike_rate=0.02, spike=0.5, seed=3)  # fmt: skip
    assert run.share >= 0.85
    assert run.most_refusals_in_a_window() <= 2
    assert len(run.refusals) <= 5


def test_a_rate_given_by_the_user_is_kept_whatever_the_server_says() -> None:
    run = simulate(RateLimit(25, 1.0, "laravel", "fixed"), requests=100, threads=4,
                   pacer_rate=10.0)  # fmt: skip
    assert run.refusals == []
    assert 0.38 <= run.share <= 0.41
