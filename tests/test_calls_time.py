"""Call history on the PBX's clock: the API writes UK wall time whatever the host's zone.

The docs' call ``...-1759926851`` is 13:34:11 on 2025-10-08, British Summer Time: its id
holds the Unix time, its ``date`` the UK wall time. Hosts in other zones must read, ask
for and show the same times; the autumn hour that happens twice and the spring hour that
does not exist must neither lose nor mix up calls.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner

from connector.api.client import SipaltoClient
from connector.api.times import (
    call_id_time,
    call_time,
    exists,
    in_zone,
    range_text,
    repeated,
    wall_time,
)
from connector.calls.history import call_time_hint, format_call_time, list_calls
from connector.calls.ranges import parse_range, parse_when
from connector.cli.app import cli
from connector.config import ConnectionSettings
from connector.errors import BadResponse, ConfigError
from connector.sandbox import DOC_CONTACTS, Sandbox, SandboxServer, SandboxState
from connector.ui.calls_view import write_calls

UK = ZoneInfo("Europe/London")
INCOMING = "SIPALTO-THE-ANL-ND2-1759926851.58197"
REPO = Path(__file__).resolve().parent.parent

# 2025-10-26: at 02:00 BST the clocks go back to 01:00 GMT, so 01:00-01:59 happens twice.
AUTUMN = datetime(2025, 10, 26, 1, 30)
# 2026-03-29: at 01:00 GMT the clocks go forward to 02:00 BST; 01:00-01:59 never happens.
SPRING = datetime(2026, 3, 29, 1, 30)


def _stamp(utc: datetime) -> int:
    return int(utc.replace(tzinfo=timezone.utc).timestamp())


# -- the API's clock ------------------------------------------------------------------------


def test_the_docs_call_id_is_its_uk_summer_wall_time() -> None:
    moment = call_id_time(INCOMING)
    assert moment == datetime(2025, 10, 8, 12, 34, 11, tzinfo=timezone.utc)
    assert call_time_hint(INCOMING) == call_time("2025-10-08 13:34:11", UK)
    assert str(call_time_hint(INCOMING)) == "2025-10-08 13:34:11+01:00"


def test_a_call_in_the_repeated_autumn_hour_is_told_apart_by_its_id() -> None:
    first = call_time(
        "2025-10-26 01:30:00", UK, call_id=f"X-{_stamp(datetime(2025, 10, 26, 0, 30))}.1"
    )
    second = call_time(
        "2025-10-26 01:30:00", UK, call_id=f"X-{_stamp(datetime(2025, 10, 26, 1, 30))}.1"
    )
    unknown = call_time("2025-10-26 01:30:00", UK, call_id="no-time-in-it")
    assert (first.tzname(), second.tzname(), unknown.tzname()) == ("BST", "GMT", "BST")
    assert second - first == timedelta(0)  # same wall time on one clock ...
    assert second.astimezone(timezone.utc) - first.astimezone(timezone.utc) == timedelta(hours=1)
    assert repeated(first) and not repeated(call_time("2025-10-26 02:30:00", UK))


def test_a_typed_time_in_the_repeated_hour_widens_the_range_it_bounds() -> None:
    start, end = wall_time(AUTUMN, UK), wall_time(AUTUMN, UK, end=True)
    assert (start.tzname(), end.tzname()) == ("BST", "GMT")
    assert range_text(start, UK) == range_text(end, UK) == "2025-10-26 01:30"


def test_a_typed_time_in_the_skipped_spring_hour_moves_to_the_edge_of_the_gap() -> None:
    assert not exists(SPRING.replace(tzinfo=UK))
    start, end = wall_time(SPRING, UK), wall_time(SPRING, UK, end=True)
    assert str(start) == "2026-03-29 02:00:00+01:00"  # the first minute the clock shows
    assert str(end) == "2026-03-29 00:59:00+00:00"  # the last minute before the gap
    now = datetime(2026, 4, 1)
    after = parse_range("2026-03-29 01:15", "2026-03-29 03:00", now=now)
    before = parse_range("2026-03-29 00:30", "2026-03-29 01:15", now=now)
    assert [range_text(moment, UK) for moment in (*after, *before)] == [
        "2026-03-29 02:00", "2026-03-29 03:00", "2026-03-29 00:30", "2026-03-29 00:59",
    ]  # fmt: skip


def test_times_on_another_clock_are_converted_and_years_have_four_digits() -> None:
    noon_utc = datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert range_text(noon_utc, UK) == "2025-07-01 13:00"
    assert range_text(noon_utc, ZoneInfo("Asia/Tokyo")) == "2025-07-01 21:00"
    assert range_text(datetime(1970, 1, 1, tzinfo=UK), UK) == "1970-01-01 00:00"
    assert range_text(datetime(5, 1, 2, 3, 4), UK) == "0005-01-02 03:04"
    assert in_zone(datetime(2025, 7, 1, 12, 0), UK) == datetime(2025, 7, 1, 12, 0, tzinfo=UK)


def test_ages_count_back_in_real_time_across_the_clock_change() -> None:
    # 09:00 BST on the day the clocks went forward: 12 hours earlier is 20:00 GMT the day
    # before, not 21:00 as wall-clock arithmetic would say.
    now = datetime(2026, 3, 29, 9, 0, tzinfo=UK)
    assert str(parse_when("12h", now=now)) == "2026-03-28 20:00:00+00:00"


# -- the client at the API boundary ---------------------------------------------------------


class AutumnServer:
    """Answers every call-history request with three calls around the repeated hour."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login":
            return httpx.Response(200, json={"access_token": "t"})
        self.forms.append(dict(httpx.QueryParams(request.content.decode())))
        calls = [
            # 01:30 GMT (the second 01:30), 01:45 BST and 01:30 BST (the first), by id.
            (f"N-{_stamp(datetime(2025, 10, 26, 1, 30))}.3", "2025-10-26 01:30:00"),
            (f"N-{_stamp(datetime(2025, 10, 26, 0, 45))}.2", "2025-10-26 01:45:00"),
            (f"N-{_stamp(datetime(2025, 10, 26, 0, 30))}.1", "2025-10-26 01:30:00"),
        ]
        body = {
            call_id: {"call_id": call_id, "caller": "07086202666", "callee": "1009",
                      "direction": "IN", "disposition": "ANSWERED", "date": date,
                      "duration": "30"}
            for call_id, date in calls
        }  # fmt: skip
        return httpx.Response(200, json={"success": True, "response": body})


@pytest.fixture
def autumn() -> Iterator[tuple[SipaltoClient, AutumnServer]]:
    server = AutumnServer()
    with SipaltoClient("http://mock", "demo", "demo", transport=httpx.MockTransport(server)) as api:
        yield api, server


def test_the_client_sends_the_range_on_the_pbx_clock(autumn) -> None:
    api, server = autumn
    start = datetime(2025, 10, 25, 23, 0, tzinfo=timezone.utc)  # 00:00 BST on the 26th
    end = datetime(2025, 10, 26, 1, 59, tzinfo=timezone.utc)  # 01:59 GMT
    api.answered_calls("1009", start, end)
    assert (server.forms[0]["start"], server.forms[0]["end"]) == (
        "2025-10-26 00:00",
        "2025-10-26 01:59",
    )


def test_calls_in_the_repeated_hour_are_in_real_order_and_shown_apart(autumn) -> None:
    api, _ = autumn
    report = list_calls(api, "1009", datetime(2025, 10, 26), datetime(2025, 10, 26, 3, 0))
    assert [format_call_time(row.call.date) for row in report.rows] == [
        "2025-10-26 01:30:00 BST",
        "2025-10-26 01:45:00 BST",
        "2025-10-26 01:30:00 GMT",
    ]
    out = io.StringIO()
    write_calls(report, "json", out)
    assert [(row["date"], row["timestamp"]) for row in json.loads(out.getvalue())] == [
        ("2025-10-26 01:30:00", "2025-10-26T01:30:00+01:00"),
        ("2025-10-26 01:45:00", "2025-10-26T01:45:00+01:00"),
        ("2025-10-26 01:30:00", "2025-10-26T01:30:00+00:00"),
    ]
    table = io.StringIO()
    write_calls(report, "table", table)
    assert "2025-10-26 01:30:00 GMT" in table.getvalue()


def test_a_call_time_outside_the_calendar_in_utc_is_a_bad_response() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/login":
            return httpx.Response(200, json={"access_token": "t"})
        call = {"call_id": "X-1.1", "date": "0001-01-01 00:00:00", "duration": "1"}
        return httpx.Response(200, json={"success": True, "response": [call]})

    transport = httpx.MockTransport(answer)
    with SipaltoClient("http://mock", "demo", "demo", transport=transport) as api:
        with pytest.raises(BadResponse, match="unreadable call entry"):
            api.answered_calls("1009", "2025-01-01 00:00", "2025-01-02 00:00",
                               zone=ZoneInfo("Asia/Tokyo"))  # fmt: skip


# -- the sandbox keeps the same clock -------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    book = [*DOC_CONTACTS, {"id": "30001", "name": "Bob Smith", "phone1": "+44 7086 202666",
                            "phone2": "", "phone3": ""}]  # fmt: skip
    with SandboxServer(Sandbox(SandboxState.from_contacts(book))) as running:
        yield running


@pytest.mark.parametrize(
    ("first", "last"), [("2025-07-01", "2025-07-07"), ("2025-12-01", "2025-12-07")]
)
def test_every_sandbox_call_id_holds_the_time_of_its_date(server, first: str, last: str) -> None:
    with SipaltoClient(server.url, "demo", "demo") as api:
        calls = api.answered_calls("1003", f"{first} 00:00", f"{last} 23:59")
    assert calls
    assert all(call_time_hint(call.call_id) == call.date for call in calls)


# -- the same answers on every host ---------------------------------------------------------

_PROBE = textwrap.dedent(
    """
    import json, sys, time
    from datetime import datetime
    from click.testing import CliRunner
    from connector.calls.history import call_time_hint
    from connector.cli.app import cli

    def run(*args):
        result = CliRunner().invoke(cli, list(args))
        return [result.exit_code, result.stdout, result.stderr]

    window = ["--start", "2025-10-08 13:30", "--end", "2025-10-08 13:50"]
    print(json.dumps({
        "host_offset": time.strftime("%z"),
        "table": run("calls", "list", "-n", "1009", *window),
        "transcript": run("calls", "transcript", sys.argv[1], "-n", "1009"),
        "recent": run("calls", "list", "-n", "2000", "--since", "90m", "--format", "json"),
        "hint": str(call_time_hint(sys.argv[1])),
    }))
    """
)


def _probe(server: SandboxServer, tz: str) -> dict[str, Any]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIPALTO_")},
        "TZ": tz,
        "SIPALTO_BASE_URL": server.url,
        "SIPALTO_USERNAME": "demo",
        "SIPALTO_PASSWORD": "demo",
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, INCOMING],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def _uk_minutes_now() -> str:
    return datetime.now(UK).strftime("%Y-%m-%d %H:%M")


def test_hosts_in_any_time_zone_read_ask_and_show_the_same_times(server) -> None:
    before = _uk_minutes_now()
    seen = {tz: _probe(server, tz) for tz in ("UTC", "America/New_York", "Asia/Tokyo")}
    after = _uk_minutes_now()
    # The hosts really are in different zones (else this test could not fail).
    assert len({probe["host_offset"] for probe in seen.values()}) == 3
    for tz, probe in seen.items():
        assert probe["table"][0] == 0, (tz, probe["table"])
        assert " 2025-10-08 13:34:11 | IN " in probe["table"][1], tz
        assert probe["transcript"][1].startswith(f"Call {INCOMING} on 2025-10-08 13:34:11 (IN"), tz
        assert probe["hint"] == "2025-10-08 13:34:11+01:00", tz
        # The default end is now on the UK clock: a UTC host in summer used to stop an hour
        # early, a host in Tokyo nine hours late.
        note = probe["recent"][2]
        assert note.startswith("No answered calls for 2000 between "), (tz, note)
        assert note.rstrip(".\n").endswith((f"and {before}", f"and {after}")), (tz, note)
    assert len({json.dumps(probe["table"]) for probe in seen.values()}) == 1
    assert len({json.dumps(probe["transcript"]) for probe in seen.values()}) == 1


# -- the setting ----------------------------------------------------------------------------


def test_the_pbx_clock_is_a_setting(server) -> None:
    env = {"SIPALTO_BASE_URL": server.url, "SIPALTO_USERNAME": "demo", "SIPALTO_PASSWORD": "demo"}
    args = ["calls", "list", "-n", "1009", "--start", "2025-10-08 13:30", "--end",
            "2025-10-08 13:50", "--format", "json"]  # fmt: skip
    uk = CliRunner().invoke(cli, args, env=env)
    ny = CliRunner().invoke(cli, ["--timezone", "America/New_York", *args], env=env)
    by_env = CliRunner().invoke(cli, args, env={**env, "SIPALTO_TIMEZONE": "America/New_York"})
    assert json.loads(uk.stdout)[0]["timestamp"] == "2025-10-08T13:34:11+01:00"
    assert json.loads(ny.stdout)[0]["timestamp"] == "2025-10-08T13:34:11-04:00"
    assert by_env.stdout == ny.stdout


def test_settings_default_to_uk_time_and_refuse_an_unknown_zone() -> None:
    assert ConnectionSettings.from_env({}).zone == UK
    assert ConnectionSettings.from_env({"SIPALTO_TIMEZONE": "UTC"}).zone == ZoneInfo("UTC")
    with pytest.raises(ConfigError, match="SIPALTO_TIMEZONE 'Europe/Lndon' is not a time zone"):
        ConnectionSettings.from_env({"SIPALTO_TIMEZONE": "Europe/Lndon"})


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe", "../etc/passwd", "/etc/localtime"])
def test_an_unknown_time_zone_is_one_line_naming_the_option(name: str) -> None:
    result = CliRunner().invoke(cli, ["--timezone", name, "calls", "list", "-n", "1009"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: --timezone {name!r} is not a time zone: give an IANA name such as "
        "Europe/London or UTC\n"
    )
