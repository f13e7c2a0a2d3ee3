"""The sandbox's rehearsals of a real server: slow writes and dropped connections.

And the options that set them (and the apply options with a time in them) refuse what
makes no sense, in one line naming the option and the range.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from connector.api.client import RetryPolicy, SipaltoClient
from connector.errors import NetworkError, OutcomeUnknown, RequestNotSent
from connector.sandbox import Faults

QUICK = RetryPolicy(attempts=10, backoff=0.01, max_backoff=0.02)


def test_a_slow_write_is_carried_out_after_the_client_gave_up(sandbox_factory) -> None:
    server = sandbox_factory([], faults=Faults(slow_write_rate=1.0, slow_write_delay=0.6))
    with SipaltoClient(server.url, "demo", "demo", timeout=0.2) as client:
        with pytest.raises(OutcomeUnknown, match="ReadTimeout"):
            client.add_contact("Late Larry", "07700900123")
        assert server.state.snapshot() == []  # not yet...
        time.sleep(0.8)
        assert [c["name"] for c in server.state.snapshot()] == ["Late Larry"]  # ...but done
    assert server.sandbox.slow_writes == 1


def test_a_dropped_connection_answers_nothing_and_a_write_may_be_done(sandbox_factory):
    server = sandbox_factory([], seed=3)
    with SipaltoClient(server.url, "demo", "demo", retry=QUICK) as client:
        client.login()
        server.sandbox.faults.drop_rate = 1.0
        for n in range(20):
            with pytest.raises(OutcomeUnknown) as info:
                client.add_contact(f"Person {n}", f"0770090{n:04d}")
            # "Server disconnected without sending a response", or a reset when the
            # request's body was still unread: no answer either way.
            assert isinstance(info.value.cause, NetworkError)
            assert not isinstance(info.value.cause, RequestNotSent)
    landed = len(server.state.snapshot())
    assert 0 < landed < 20  # some were dropped after the write, some before
    assert [status for *_, status in server.state.requests[1:]] == [0] * 20


def test_a_dropped_read_is_read_again(sandbox_factory) -> None:
    server = sandbox_factory(faults=Faults(drop_rate=0.5), seed=4)
    with SipaltoClient(server.url, "demo", "demo", retry=QUICK) as client:
        for _ in range(5):
            assert len(client.list_contacts()) == 2
    assert 0 in {status for *_, status in server.state.requests}


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--drop-rate", "1.5", "1.5 is not in the range 0<=x<=1."),
        ("--slow-write-rate", "-0.1", "-0.1 is not in the range 0<=x<=1."),
        ("--slow-write-rate", "nan", "'nan' is not a number in the range 0<=x<=1."),
        ("--slow-write-delay", "inf", "inf is not in the range 0<=x<=3600."),
        ("--slow-write-delay", "soon", "'soon' is not a valid float range."),
    ],
)
def test_sandbox_fault_options_refuse_nonsense(run_cli, option, value, message) -> None:
    result = run_cli("sandbox", "--port", "0", option, value)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"Error: Invalid value for '{option}': {message}"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--settle-delay", "-1", "-1.0 is not in the range 0<=x<=3600."),
        ("--settle-delay", "nan", "'nan' is not a number in the range 0<=x<=3600."),
        ("--max-time", "0", "0.0 is not in the range 1<=x<=604800."),
        ("--max-time", "1e400", "inf is not in the range 1<=x<=604800."),
    ],
)
def test_apply_time_options_refuse_nonsense(run_cli, tmp_path, option, value, message) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text("{}", encoding="utf-8")
    result = run_cli("apply", str(plan), "--yes", option, value)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"Error: Invalid value for '{option}': {message}"


def test_the_sandbox_command_drops_connections_when_asked(tmp_path) -> None:
    command = [sys.executable, "-m", "connector", "sandbox", "--port", "0", "--drop-rate", "1"]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"}
    )
    try:
        assert process.stderr is not None
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", process.stderr.readline())
        assert url, "the sandbox did not say where it listens"
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            httpx.post(f"{url[1]}/auth/login", data={"username": "demo", "password": "demo"})
    finally:
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=10)
    assert "Traceback" not in rest and "Exception in ASGI" not in rest, rest
    assert process.returncode == 0
