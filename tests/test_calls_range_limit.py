"""The call-history range limit: the documentation names none, so the client asks for the
whole range and cuts it only when the server says it is too long.

Against the real sandbox over loopback, with no limit (as documented) and with one
(``--max-range-days``); against ``httpx.MockTransport`` servers for refusals the sandbox
does not give (no stated limit, a limit that is wrong, a server that refuses everything).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.api.client import RetryPolicy, SipaltoClient
from connector.calls.history import MAX_REFUSALS, list_calls
from connector.calls.ranges import covered, piece_end, refused_as_too_long, stated_limit
from connector.cli.app import cli
from connector.errors import ApiError, BadRequest
from connector.sandbox import Sandbox, SandboxServer

UK = ZoneInfo("Europe/London")
ANSWERED = "/call-history/get-answered-calls"
MINUTE = timedelta(minutes=1)
# August to October 2025: 92 days, across no clock change.
QUARTER = (datetime(2025, 8, 1, tzinfo=UK), datetime(2025, 10, 31, 23, 59, tzinfo=UK))
INCOMING = "SIPALTO-THE-ANL-ND2-1759926851.58197"


def _client(url: str, transport: httpx.BaseTransport | None = None) -> SipaltoClient:
    return SipaltoClient(
        url,
        "demo",
        "demo",
        timeout=10,
        transport=transport,
        retry=RetryPolicy(backoff=0.01, max_backoff=0.05),
    )


@pytest.fixture(scope="module")
def open_server() -> Iterator[SandboxServer]:
    """The sandbox as documented: no limit on a call-history range."""
    with SandboxServer(Sandbox()) as server:
        yield server


@pytest.fixture(scope="module")
def limited_server() -> Iterator[SandboxServer]:
    """A sandbox rehearsing a server that refuses ranges over 31 days."""
    with SandboxServer(Sandbox(max_range_days=31)) as server:
        yield server


def _statuses(server: SandboxServer, since: int) -> list[int]:
    return [status for _, path, status in server.state.requests[since:] if path == ANSWERED]


# -- the sandbox ----------------------------------------------------------------------------


def test_the_sandbox_follows_the_docs_and_answers_a_year_in_one_request(open_server) -> None:
    with _client(open_server.url) as api:
        calls = api.answered_calls("1009", "2025-01-01 00:00", "2025-12-31 23:59")
    assert len(calls) > 300
    assert INCOMING in {call.call_id for call in calls}


def test_a_sandbox_with_a_limit_refuses_one_minute_more_with_a_400_saying_so(
    limited_server,
) -> None:
    with _client(limited_server.url) as api:
        assert api.answered_calls("1009", "2025-09-01 00:00", "2025-10-02 00:00")
        with pytest.raises(BadRequest, match="Date range too long: at most 31 days") as refused:
            api.answered_calls("1009", "2025-09-01 00:00", "2025-10-02 00:01")
    assert refused.value.status == 400
    assert refused_as_too_long(refused.value)
    assert stated_limit(refused.value) == timedelta(days=31)


def test_the_sandbox_command_takes_a_range_limit_and_refuses_an_absurd_one() -> None:
    result = CliRunner().invoke(cli, ["sandbox", "--max-range-days", "0"])
    assert result.exit_code == 1
    assert "Invalid value for '--max-range-days': 0 is not in the range 1<=x<=36500" in (
        result.output
    )
    assert "--max-range-days N" in CliRunner().invoke(cli, ["sandbox", "--help"]).output


# -- list_calls against the sandbox ---------------------------------------------------------


def test_without_a_limit_a_long_range_is_one_request_per_number(open_server) -> None:
    mark = len(open_server.state.requests)
    with _client(open_server.url) as api:
        report = list_calls(api, ["1009", "1007"], *QUARTER)
    assert report.requests == 2
    assert _statuses(open_server, mark) == [200, 200]
    assert len(report.rows) > 100


def test_with_a_limit_the_range_is_cut_by_the_limit_the_server_states(
    open_server, limited_server
) -> None:
    with _client(open_server.url) as api:
        whole = list_calls(api, ["1009"], *QUARTER)
    mark = len(limited_server.state.requests)
    with _client(limited_server.url) as api:
        pieces = list_calls(api, ["1009"], *QUARTER)
    # One refusal, then 92 days in pieces of 31: three requests, none refused.
    assert _statuses(limited_server, mark) == [400, 200, 200, 200]
    assert pieces.requests == 4
    assert [row.call for row in pieces.rows] == [row.call for row in whole.rows]


def test_what_is_learnt_about_the_limit_holds_for_the_next_numbers(limited_server) -> None:
    mark = len(limited_server.state.requests)
    with _client(limited_server.url) as api:
        report = list_calls(api, ["1009", "1007", "1003"], *QUARTER)
    assert _statuses(limited_server, mark) == [400] + [200] * 9
    ids = [row.call.call_id for row in report.rows]
    assert len(ids) == len(set(ids))  # calls between two of them are shown once


def test_a_range_within_the_limit_is_never_cut(limited_server) -> None:
    mark = len(limited_server.state.requests)
    with _client(limited_server.url) as api:
        list_calls(api, "1009", datetime(2025, 10, 1), datetime(2025, 10, 31, 23, 59))
    assert _statuses(limited_server, mark) == [200]


def test_the_command_line_lists_a_long_range_from_a_limited_server(limited_server) -> None:
    env = {
        "SIPALTO_BASE_URL": limited_server.url,
        "SIPALTO_USERNAME": "demo",
        "SIPALTO_PASSWORD": "demo",
    }
    args = ["calls", "list", "-n", "1009", "--start", "2025-08-01", "--end", "2025-10-31"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert INCOMING in result.stdout


# -- servers the sandbox does not imitate ---------------------------------------------------

Rule = Callable[[datetime, datetime], str | None]


class RangeServer:
    """A call-history server over ``httpx.MockTransport`` refusing ranges by ``rule``.

    ``rule(start, end)`` gives the refusal message or None to answer; every asked range
    is kept, and an answer holds one made-up call per asked minute-range start.
    """

    def __init__(self, rule: Rule, *, status: int = 400) -> None:
        self.rule = rule
        self.status = status
        self.asked: list[tuple[datetime, datetime, bool]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login":
            return httpx.Response(200, json={"access_token": "t"})
        form = dict(httpx.QueryParams(request.content.decode()))
        start, end = (datetime.strptime(form[k], "%Y-%m-%d %H:%M") for k in ("start", "end"))
        refusal = self.rule(start, end)
        self.asked.append((start, end, refusal is None))
        if refusal is not None:
            return httpx.Response(self.status, json={"success": False, "message": refusal})
        call_id = f"X-{int(start.replace(tzinfo=UK).timestamp())}.1"
        call = {
            "call_id": call_id,
            "caller": "1009",
            "callee": "1007",
            "direction": "LOCAL",
            "disposition": "ANSWERED",
            "date": start.strftime("%Y-%m-%d %H:%M:%S"),
            "duration": "10",
        }
        return httpx.Response(200, json={"success": True, "response": {call_id: call}})


def _list(server: RangeServer, start: datetime, end: datetime) -> int:
    with _client("http://mock", httpx.MockTransport(server)) as api:
        return list_calls(api, "1009", start, end).requests


def _check_cover(server: RangeServer, start: datetime, end: datetime) -> None:
    """The answered pieces cover the range exactly, in order, no minute twice."""
    answered = [(first, last) for first, last, ok in server.asked if ok]
    assert answered[0][0] == start.replace(tzinfo=None)
    assert answered[-1][1] == end.replace(tzinfo=None)
    for (_, previous), (following, _) in itertools.pairwise(answered):
        assert following == previous + MINUTE


def test_a_refusal_that_states_no_limit_halves_the_range_until_it_fits() -> None:
    server = RangeServer(
        lambda s, e: "The date range is too long." if e - s > timedelta(days=10) else None
    )
    start, end = datetime(2025, 1, 1, tzinfo=UK), datetime(2025, 2, 28, 23, 59, tzinfo=UK)
    requests = _list(server, start, end)
    # 59 days: refused, then 29.5 days refused, then 14.75 refused, then pieces of ~7.4.
    assert [ok for _, _, ok in server.asked][:4] == [False, False, False, True]
    assert requests == len(server.asked) == 3 + 8
    _check_cover(server, start, end)


def test_a_stated_limit_the_server_does_not_keep_falls_back_to_halving() -> None:
    # It says 31 days but counts calendar days, refusing 31 days that start at noon.
    def rule(start: datetime, end: datetime) -> str | None:
        return (
            "Range may not be greater than 31 days"
            if (end.date() - start.date()).days > 30
            else None
        )

    server = RangeServer(rule, status=422)  # a framework's validation error
    start, end = datetime(2025, 3, 10, 12, 0, tzinfo=UK), datetime(2025, 6, 30, 9, 0, tzinfo=UK)
    _list(server, start, end)
    # The whole range, then a piece of the 31 days it stated; then halves of that fit.
    assert [ok for _, _, ok in server.asked][:3] == [False, False, True]
    assert [ok for _, _, ok in server.asked].count(False) == 2
    _check_cover(server, start, end)


def test_a_server_that_refuses_every_range_ends_with_its_error_not_a_loop() -> None:
    server = RangeServer(lambda s, e: "Date range too long")
    with pytest.raises(BadRequest, match="Date range too long"):
        _list(server, datetime(2025, 1, 1, tzinfo=UK), datetime(2025, 1, 1, 23, 59, tzinfo=UK))
    # A day is 1440 minutes: halved ten times to one minute (rounding down), that refused too.
    assert len(server.asked) == 11
    sizes = [covered(first, last) for first, last, _ in server.asked]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == MINUTE


def test_the_refusals_are_bounded_even_over_the_longest_range_accepted() -> None:
    server = RangeServer(lambda s, e: "Date range too long")
    with pytest.raises(BadRequest):
        _list(server, datetime(1970, 1, 1, tzinfo=UK), datetime(2099, 12, 31, tzinfo=UK))
    assert len(server.asked) <= MAX_REFUSALS + 1


@pytest.mark.parametrize(
    "message",
    ["The phone_number field is required.", "Dates must be given as YYYY-MM-DD HH:ii",
     "end is before start", "Bad request"],
)  # fmt: skip
def test_other_bad_requests_are_not_taken_for_a_range_limit(message: str) -> None:
    server = RangeServer(lambda s, e: message)
    with pytest.raises(BadRequest, match=re.escape(message)):
        _list(server, datetime(2025, 1, 1, tzinfo=UK), datetime(2025, 3, 1, tzinfo=UK))
    assert len(server.asked) == 1


@pytest.mark.parametrize(
    ("message", "limit"),
    [
        ("Date range too long: at most 31 days per request", timedelta(days=31)),
        ("The date range may not be greater than 90 days.", timedelta(days=90)),
        ("Maximum period is 2 weeks", timedelta(weeks=2)),
        ("Range exceeds the limit of 744 hours", timedelta(hours=744)),
        ("Date range too long: at most 1 month", timedelta(days=28)),
        ("Date range too long", None),
    ],
)
def test_the_limit_a_refusal_states_is_read(message: str, limit: timedelta | None) -> None:
    error = ApiError(message, status=400, detail=message)
    assert refused_as_too_long(error)
    assert stated_limit(error) == limit


def test_a_too_long_message_with_another_status_is_not_a_range_limit() -> None:
    error = ApiError("x", status=500, detail="Date range too long: at most 31 days")
    assert not refused_as_too_long(error)


# -- piece_end ------------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)),
    minutes=st.integers(1, 60 * 24 * 60),
    pieces=st.floats(0, 40),
)
def test_pieces_cover_a_range_exactly_none_too_long(
    start: datetime, minutes: int, pieces: float
) -> None:
    longest = minutes * MINUTE
    first = start.replace(second=0, microsecond=0)
    end = first + int(minutes * pieces) * MINUTE
    cut = []
    cursor = first
    while True:
        last = piece_end(cursor, end, longest)
        cut.append((cursor, last))
        if last >= end:
            break
        cursor = last + MINUTE
    assert cut[-1][1] == end
    for (_, previous), (following, _) in itertools.pairwise(cut):
        assert following == previous + MINUTE
    assert all(covered(a, b) <= longest for a, b in cut)
    assert all(covered(a, b) == longest for a, b in cut[:-1])  # no more pieces than needed


def test_a_limited_server_is_asked_for_pieces_it_accepts_across_the_clock_changes(
    limited_server,
) -> None:
    # Both 2025 changes inside the range: measured on the server's clock, every piece of
    # 31 days fits, so the only refusal is the first, whole-year request.
    mark = len(limited_server.state.requests)
    with _client(limited_server.url) as api:
        report = list_calls(api, "1009", datetime(2025, 1, 1), datetime(2025, 12, 31, 23, 59))
    assert _statuses(limited_server, mark) == [400] + [200] * 12
    assert report.requests == 13
