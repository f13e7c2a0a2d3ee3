"""Every spelling of a number finds its calls: ``-n`` is normalised as the reconciler does
and sent in the form the API writes (``07086202666``); extensions stay as typed.

End to end: the real command line against the sandbox, whose call history writes numbers
as the documentation does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from click.testing import CliRunner, Result

from connector.api.client import SipaltoClient
from connector.calls.history import find_call, list_calls
from connector.cli.app import cli
from connector.sandbox import DOC_CONTACTS, Sandbox, SandboxServer, SandboxState

INCOMING = "SIPALTO-THE-ANL-ND2-1759926851.58197"  # 07086202666 -> 1009
OUTGOING = "SIPALTO-THE-ANL-ND2-1759927614.60572"  # 1009 -> 07086202666
DAY = ("--start", "2025-10-08", "--end", "2025-10-08")
MONTH = ("--start", "2025-10-01", "--end", "2025-10-31")

SPELLINGS = ["+44 7086 202666", "0044 7086 202666", "+447086202666", "07086 202 666",
             "(07086) 202-666", "07086202666"]  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(Sandbox(SandboxState.from_contacts(list(DOC_CONTACTS)))) as running:
        yield running


@pytest.fixture
def run(server: SandboxServer) -> Callable[..., Result]:
    env = {"SIPALTO_BASE_URL": server.url, "SIPALTO_USERNAME": "demo", "SIPALTO_PASSWORD": "demo"}

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def _ids(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [row["call_id"] for row in json.loads(result.stdout)]


def test_the_number_as_the_api_writes_it_finds_the_docs_calls(run) -> None:
    assert _ids(run("calls", "list", "-n", "07086202666", *DAY, "--format", "json")) == [
        INCOMING,
        OUTGOING,
    ]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_a_number_finds_the_same_calls(run, spelling: str) -> None:
    assert _ids(run("calls", "list", "-n", spelling, *DAY, "--format", "json")) == [
        INCOMING,
        OUTGOING,
    ]


def test_the_number_is_named_as_sent_in_messages(run) -> None:
    result = run("calls", "list", "-n", "+44 7086 202666", "--start", "2025-10-09",
                 "--end", "2025-10-09", "--format", "json")  # fmt: skip
    assert result.stderr == (
        "No answered calls for 07086202666 between 2025-10-09 00:00 and 2025-10-09 23:59.\n"
    )


def test_two_spellings_of_one_number_are_asked_for_once(server) -> None:
    with SipaltoClient(server.url, "demo", "demo") as api:
        report = list_calls(
            api, ["+44 7086 202666", "07086 202666"], datetime(2025, 10, 8), datetime(2025, 10, 9)
        )
    assert report.numbers == ("07086202666",)
    assert report.requests == 1


def test_a_number_abroad_is_sent_in_international_form(run) -> None:
    typed = _ids(run("calls", "list", "-n", "00353 21 234 5678", *MONTH, "--format", "json"))
    stored = _ids(run("calls", "list", "-n", "+353212345678", *MONTH, "--format", "json"))
    assert typed == stored and typed


@pytest.mark.parametrize("extension", ["1009", " 1009 "])
def test_an_extension_stays_as_typed(run, extension: str) -> None:
    ids = _ids(run("calls", "list", "-n", extension, *DAY, "--format", "json"))
    assert INCOMING in ids and len(ids) > 3
    # A leading zero makes another number, not the extension.
    assert _ids(run("calls", "list", "-n", "01009", *DAY, "--format", "json")) == []


def test_transcript_finds_its_call_by_any_spelling_of_a_party(run) -> None:
    result = run("calls", "transcript", INCOMING, "-n", "+44 7086 202666")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"Call {INCOMING} on 2025-10-08 13:34:11 (IN, 0:41)",
        "From 07086202666 to 1009",
    ]
    assert result.stderr == ""


def test_find_call_normalises_the_number_too(server) -> None:
    with SipaltoClient(server.url, "demo", "demo") as api:
        call = find_call(api, INCOMING, "0044 (0)7086 202666")
    assert call is not None and call.caller == "07086202666"
