"""``sipalto-sync calls ...`` end to end against the sandbox: exit codes and what users see."""

from __future__ import annotations

import csv
import io
import json
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from connector.cli.app import cli
from connector.sandbox import DOC_CONTACTS, Sandbox, SandboxServer, SandboxState

INCOMING = "SIPALTO-THE-ANL-ND2-1759926851.58197"
OUTGOING = "SIPALTO-THE-ANL-ND2-1759927614.60572"
LOCAL = "SIPALTO-THE-ANL-ND2-1759927635.60659"

BOOK = [
    *DOC_CONTACTS,
    {"id": "30001", "name": "Bob Smith", "phone1": "+44 7086 202666", "phone2": "", "phone3": ""},
    {"id": "30002", "name": "Reception", "phone1": "1007", "phone2": "", "phone3": ""},
]

# Around the docs' three example calls of extension 1009 only.
DOC_WINDOW = ("--start", "2025-10-08 13:30", "--end", "2025-10-08 13:50")

TRANSCRIPT = [
    "[00:00] Speaker 1: Hello, how can I help you?",
    "[00:04] Speaker 0: Hi, I'm calling about my order from last week.",
    "[00:10] Speaker 1: Of course, can I take the order number?",
    "[00:15] Speaker 0: It's four five two one.",
    "[00:20] Speaker 1: Thanks, I can see it has been dispatched today.",
    "[00:26] Speaker 0: Brilliant, thank you.",
    "[00:29] Speaker 1: Thanks. Bye.",
    "[00:31] Speaker 0: Bye.",
]


@pytest.fixture(scope="module")
def book_server() -> Iterator[SandboxServer]:
    """One sandbox for the module (call history is read-only), naming the docs' parties."""
    with SandboxServer(Sandbox(SandboxState.from_contacts([dict(c) for c in BOOK]))) as server:
        yield server


@pytest.fixture
def calls_cli(book_server: SandboxServer) -> Callable[..., Result]:
    """The real ``sipalto-sync`` command line against ``book_server`` (as ``run_cli`` does)."""

    def run(*args: str) -> Result:
        env = {
            "SIPALTO_BASE_URL": book_server.url,
            "SIPALTO_USERNAME": "demo",
            "SIPALTO_PASSWORD": "demo",
            "NO_COLOR": "1",
        }
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


# -- calls list -----------------------------------------------------------------------------


def test_list_shows_calls_by_time_with_names_and_totals(calls_cli) -> None:
    result = calls_cli("calls", "list", "--number", "1009", *DOC_WINDOW)
    assert result.exit_code == 0, result.output
    assert _lines(result.stdout) == [
        " time                | direction | caller                  | callee                  |"
        " duration | call id",
        "---------------------+-----------+-------------------------+-------------------------+"
        "----------+--------------------------------------",
        f" 2025-10-08 13:34:11 | IN        | Bob Smith (07086202666) | 1009                    |"
        f"     0:41 | {INCOMING}",
        f" 2025-10-08 13:46:54 | OUT       | 1009                    | Bob Smith (07086202666) |"
        f"     0:10 | {OUTGOING}",
        f" 2025-10-08 13:47:15 | LOCAL     | 1009                    | Reception (1007)        |"
        f"     0:14 | {LOCAL}",
        "3 calls, total 1:05",
    ]
    assert result.stderr == ""


def test_list_csv_has_raw_and_resolved_fields(calls_cli) -> None:
    result = calls_cli("calls", "list", "-n", "1009", *DOC_WINDOW, "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0] == {
        "call_id": INCOMING,
        "date": "2025-10-08 13:34:11",
        "timestamp": "2025-10-08T13:34:11+01:00",
        "direction": "IN",
        "disposition": "ANSWERED",
        "caller": "07086202666",
        "caller_name": "Bob Smith",
        "callee": "1009",
        "callee_name": "",
        "duration": "41",
        "duration_text": "0:41",
    }
    assert [row["callee_name"] for row in rows] == ["", "Bob Smith", "Reception"]


def test_list_json_to_a_file(calls_cli, tmp_path: Path) -> None:
    out = tmp_path / "calls.json"
    result = calls_cli(
        "calls", "list", "-n", "1009", *DOC_WINDOW, "--format", "json", "-o", str(out)
    )
    assert result.exit_code == 0
    assert result.stderr == f"Wrote 3 calls to {out}\n"
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data[2] == {
        "call_id": LOCAL,
        "date": "2025-10-08 13:47:15",
        "timestamp": "2025-10-08T13:47:15+01:00",
        "direction": "LOCAL",
        "disposition": "ANSWERED",
        "caller": "1009",
        "caller_name": "",
        "caller_names": [],
        "callee": "1007",
        "callee_name": "Reception",
        "callee_names": ["Reception"],
        "duration": 14,
    }


def test_no_names_skips_the_phonebook(calls_cli) -> None:
    result = calls_cli("calls", "list", "-n", "1009", *DOC_WINDOW, "--no-names", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["caller_name"] for row in rows} | {row["callee_name"] for row in rows} == {""}


def test_several_numbers_are_merged_and_a_shared_call_shown_once(calls_cli) -> None:
    result = calls_cli(
        "calls", "list", "-n", "1009", "-n", "1007", "--start", "2025-10-08", "--end",
        "2025-10-08", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0
    ids = [row["call_id"] for row in json.loads(result.stdout)]
    assert ids.count(LOCAL) == 1
    assert len(ids) == len(set(ids))


def test_a_range_of_three_months_is_fetched_in_pieces(calls_cli) -> None:
    result = calls_cli(
        "calls", "list", "-n", "1009", "--start", "2025-08-01", "--end", "2025-10-31"
    )
    assert result.exit_code == 0, result.output
    count, _, total = _lines(result.stdout)[-1].partition(" calls, total ")
    assert int(count) > 60 and total
    assert INCOMING in result.stdout


def test_a_relative_start_works(calls_cli) -> None:
    result = calls_cli("calls", "list", "-n", "1009", "--since", "2w", "--format", "json")
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)


def test_no_calls_says_so(calls_cli) -> None:
    result = calls_cli(
        "calls", "list", "-n", "2000", "--start", "2025-10-08", "--end", "2025-10-08"
    )
    assert result.exit_code == 0
    assert (
        result.stdout
        == "No answered calls for 2000 between 2025-10-08 00:00 and 2025-10-08 23:59.\n"
    )


def test_no_calls_as_json_is_an_empty_list_with_a_note(calls_cli) -> None:
    result = calls_cli(
        "calls", "list", "-n", "2000", "--start", "2025-10-08", "--end", "2025-10-08",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert result.stderr == (
        "No answered calls for 2000 between 2025-10-08 00:00 and 2025-10-08 23:59.\n"
    )


def test_a_bad_date_is_one_line_naming_it_and_exit_1(calls_cli) -> None:
    result = calls_cli("calls", "list", "-n", "1009", "--start", "8/10/2025")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --start '8/10/2025' is not a date: use YYYY-MM-DD, 'YYYY-MM-DD HH:MM', now, "
        "today, yesterday, or an age such as 30m, 12h, 7d, 2w (minutes, hours, days, weeks ago)\n"
    )


def test_start_and_since_together_are_a_usage_error(calls_cli) -> None:
    result = calls_cli("calls", "list", "-n", "1009", "--start", "2025-10-08", "--since", "7d")
    assert result.exit_code == 1
    assert result.stderr == "Error: give --start or --since, not both\n"


def test_a_backwards_range_is_a_usage_error(calls_cli) -> None:
    result = calls_cli(
        "calls", "list", "-n", "1009", "--start", "2025-10-08", "--end", "2025-10-01"
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the range ends (2025-10-01 23:59) before it starts")


def test_list_needs_a_number(calls_cli) -> None:
    result = calls_cli("calls", "list", "--since", "7d")
    assert result.exit_code == 1
    assert "Missing option '-n' / '--number'" in result.stderr


# -- calls recording ------------------------------------------------------------------------


def test_recording_is_saved_under_the_call_id(calls_cli, tmp_path: Path) -> None:
    result = calls_cli("calls", "recording", INCOMING, "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    saved = tmp_path / f"{INCOMING}.wav"
    assert result.stderr == (
        f"Saved the recording of {INCOMING} to {saved} ({saved.stat().st_size:,} bytes)\n"
    )
    with wave.open(str(saved), "rb") as audio:
        assert audio.getnframes() > 0


def test_recording_refuses_to_overwrite_without_force(calls_cli, tmp_path: Path) -> None:
    target = tmp_path / "call.wav"
    target.write_bytes(b"keep me")
    result = calls_cli("calls", "recording", INCOMING, "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {target} already exists; use --force to overwrite it\n"
    assert target.read_bytes() == b"keep me"
    forced = calls_cli("calls", "recording", INCOMING, "-o", str(target), "--force")
    assert forced.exit_code == 0
    assert target.read_bytes()[:4] == b"RIFF"


def test_recording_of_an_unknown_call_is_one_clear_line(calls_cli, tmp_path: Path) -> None:
    result = calls_cli("calls", "recording", "SIPALTO-NOPE-1.2", "-o", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no call 'SIPALTO-NOPE-1.2': check the id (`sipalto-sync calls list` shows them)\n"
    )
    assert list(tmp_path.iterdir()) == []


# -- calls transcript -----------------------------------------------------------------------


def test_transcript_reads_as_a_conversation(calls_cli) -> None:
    result = calls_cli("calls", "transcript", INCOMING)
    assert result.exit_code == 0, result.output
    assert _lines(result.stdout) == TRANSCRIPT
    assert result.stderr == ""


def test_transcript_with_the_call_looked_up_names_the_speakers_asked_for(calls_cli) -> None:
    result = calls_cli(
        "calls", "transcript", INCOMING, "-n", "1009", "--speaker-names", "0=caller,1=callee",
        "--summary",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)
    assert lines[:3] == [
        f"Call {INCOMING} on 2025-10-08 13:34:11 (IN, 0:41)",
        "From Bob Smith (07086202666) to 1009",
        "",
    ]
    assert lines[3].startswith("Summary: Hello, how can I help you?. Hi, I'm calling")
    assert lines[5:7] == [
        "[00:00] 1009: Hello, how can I help you?",
        "[00:04] Bob Smith: Hi, I'm calling about my order from last week.",
    ]


def test_transcript_of_a_call_not_found_by_number_still_prints_with_a_note(calls_cli) -> None:
    result = calls_cli("calls", "transcript", INCOMING, "-n", "1005", "--date", "2025-10-08")
    assert result.exit_code == 0
    assert _lines(result.stdout) == TRANSCRIPT
    assert result.stderr == f"Call {INCOMING} is not among the calls of 1005 near its date.\n"


def test_transcript_as_srt(calls_cli, tmp_path: Path) -> None:
    out = tmp_path / "call.srt"
    result = calls_cli("calls", "transcript", INCOMING, "--format", "srt", "-o", str(out))
    assert result.exit_code == 0
    cues = out.read_text(encoding="utf-8").split("\n\n")
    assert cues[0] == "1\n00:00:00,986 --> 00:00:04,163\nSpeaker 1: Hello, how can I help you?"
    assert len([cue for cue in cues if cue]) == len(TRANSCRIPT)


def test_transcript_as_json_keeps_the_summary(calls_cli) -> None:
    result = calls_cli("calls", "transcript", INCOMING, "--format", "json")
    data = json.loads(result.stdout)
    assert data["call_id"] == INCOMING
    assert data["summary"]["text"].startswith("Hello, how can I help you?. Hi,")
    assert [f"[{line['start']}] {line['label']}: {line['text']}" for line in data["lines"]] == (
        TRANSCRIPT
    )


def test_transcript_of_an_unknown_call_is_one_clear_line(calls_cli) -> None:
    result = calls_cli("calls", "transcript", "SIPALTO-NOPE-1.2")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no call 'SIPALTO-NOPE-1.2': check the id (`sipalto-sync calls list` shows them)\n"
    )


def test_transcript_of_a_few_seconds_call_says_there_is_none(calls_cli) -> None:
    listing = calls_cli(
        "calls", "list", "-n", "1009", "--start", "2025-10-01", "--end", "2025-10-31",
        "--format", "json", "--no-names",
    )  # fmt: skip
    short = next(row["call_id"] for row in json.loads(listing.stdout) if row["duration"] < 10)
    result = calls_cli("calls", "transcript", short)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no transcript for call '{short}': the server says No transcription for this call\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "2025-10-08"), "Error: --date only helps to find the call with --number"),
        (("--speaker-names", "Alice"), "Error: speaker name 'Alice': write SPEAKER=NAME"),
        (("-n", "1009", "--date", "soon"), "Error: --date 'soon' is not a date: use YYYY-MM-DD"),
    ],
)
def test_transcript_option_mistakes_are_usage_errors(calls_cli, args, message: str) -> None:
    result = calls_cli("calls", "transcript", INCOMING, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
