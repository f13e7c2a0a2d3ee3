"""Call history as a library: dates and ranges, names, recordings and transcripts.

Pure helpers are tested directly (with Hypothesis for the invariants); everything that
talks to the API runs against the real sandbox over loopback.
"""

from __future__ import annotations

import io
import json
import re
import struct
import wave
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.api.client import RetryPolicy, SipaltoClient
from connector.api.times import exists, instant
from connector.calls.history import CallReport, NameDirectory, call_time_hint, find_call, list_calls
from connector.calls.ranges import parse_range, parse_when
from connector.calls.recordings import check_wav, default_recording_name, save_recording
from connector.calls.transcripts import fetch_transcript, parse_speaker_names, transcript_lines
from connector.errors import BadResponse, ConfigError, NotFound, Rejected
from connector.model import Call, Contact, TranscriptSegment
from connector.sandbox import DOC_CONTACTS, Sandbox, SandboxServer, SandboxState, make_wav
from connector.ui.calls_view import format_duration, write_calls
from connector.ui.transcript_view import (
    format_offset,
    transcript_srt,
    transcript_text,
    write_transcript,
)

UK = ZoneInfo("Europe/London")
NOW = datetime(2025, 10, 20, 15, 42, 37, tzinfo=UK)


def uk(*fields: int) -> datetime:
    """A wall time on the PBX's clock (UK time), as the library returns them."""
    return datetime(*fields, tzinfo=UK)  # type: ignore[misc]


# The docs' example calls of extension 1009 on 2025-10-08, and who they are with.
INCOMING = "SIPALTO-THE-ANL-ND2-1759926851.58197"  # 07086202666 -> 1009, 41 s
OUTGOING = "SIPALTO-THE-ANL-ND2-1759927614.60572"  # 1009 -> 07086202666, 10 s
LOCAL = "SIPALTO-THE-ANL-ND2-1759927635.60659"  # 1009 -> 1007, 14 s

ANSWERED = "/call-history/get-answered-calls"

BOOK = [
    *DOC_CONTACTS,
    {"id": "30001", "name": "Bob Smith", "phone1": "+44 7086 202666", "phone2": "", "phone3": ""},
    {"id": "30002", "name": "Reception", "phone1": "1007", "phone2": "", "phone3": ""},
]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """One sandbox for the module, its phonebook naming the parties of the docs' calls.

    Call history is read-only, so the tests cannot disturb each other; those that look at
    the request log look only at what came after their own start.
    """
    state = SandboxState.from_contacts([dict(c) for c in BOOK])
    with SandboxServer(Sandbox(state)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: SandboxServer) -> Iterator[SipaltoClient]:
    with SipaltoClient(
        server.url, "demo", "demo", timeout=10, retry=RetryPolicy(backoff=0.01, max_backoff=0.05)
    ) as api:
        yield api


def _contacts(*rows: tuple[str, str, str]) -> list[Contact]:
    return [Contact(id=str(i), name=name, phone1=p1, phone2=p2) for i, (name, p1, p2) in
            enumerate(rows, start=1)]  # fmt: skip


def _requests(server: SandboxServer, path: str, since: int) -> list[tuple[str, str, int]]:
    """The requests to ``path`` in the sandbox's log from position ``since`` on."""
    return [r for r in server.state.requests[since:] if r[1] == path]


# -- parse_when -----------------------------------------------------------------------------


def test_a_bare_date_is_the_start_of_the_day_or_its_last_minute_for_an_end() -> None:
    assert parse_when("2025-10-08", now=NOW) == uk(2025, 10, 8, 0, 0)
    assert parse_when("2025-10-08", now=NOW, end=True) == uk(2025, 10, 8, 23, 59)


@pytest.mark.parametrize("text", ["2025-10-08 13:47", "2025-10-08T13:47", "  2025-10-08 13:47 "])
def test_a_date_and_time_is_that_minute(text: str) -> None:
    assert parse_when(text, now=NOW) == uk(2025, 10, 8, 13, 47)
    assert parse_when(text, now=NOW, end=True) == uk(2025, 10, 8, 13, 47)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", uk(2025, 10, 20, 15, 12)),
        ("12h", uk(2025, 10, 20, 3, 42)),
        ("7d", uk(2025, 10, 13, 15, 42)),
        ("7 D", uk(2025, 10, 13, 15, 42)),
        ("2w", uk(2025, 10, 6, 15, 42)),
        ("0d", uk(2025, 10, 20, 15, 42)),
        ("now", uk(2025, 10, 20, 15, 42)),
        ("today", uk(2025, 10, 20, 0, 0)),
        ("Yesterday", uk(2025, 10, 19, 0, 0)),
    ],
)
def test_ages_and_words_count_back_from_now(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW) == expected


def test_today_and_yesterday_as_an_end_are_their_last_minute() -> None:
    assert parse_when("yesterday", now=NOW, end=True) == uk(2025, 10, 19, 23, 59)
    assert parse_when("today", now=NOW, end=True) == uk(2025, 10, 20, 23, 59)


@pytest.mark.parametrize(
    "text", ["next tuesday", "2025-02-30", "2025/10/08", "08-10-2025", "", "7y", "-7d", "25:00"]
)
def test_an_unreadable_date_names_itself_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_when(text, now=NOW)
    message = str(caught.value)
    assert repr(text) in message
    assert "YYYY-MM-DD" in message and "7d" in message


def test_an_age_too_large_for_the_calendar_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'999999w' is out of range: give a date from 1970"):
        parse_when("999999w", now=NOW)


minutes = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31))


@given(moment=minutes)
def test_a_written_minute_reads_back_as_itself(moment: datetime) -> None:
    floored = moment.replace(second=0, microsecond=0)
    text = moment.strftime("%Y-%m-%d %H:%M")
    read = parse_when(text, now=NOW)
    if exists(floored.replace(tzinfo=UK)):
        assert read.replace(tzinfo=None) == floored
    else:  # the spring hour the clock skips: the first minute after it
        assert read > floored.replace(tzinfo=UK) and read.minute == 0


@given(moment=minutes)
def test_a_bare_date_spans_the_whole_day(moment: datetime) -> None:
    text = moment.strftime("%Y-%m-%d")
    start, end = parse_when(text, now=NOW), parse_when(text, now=NOW, end=True)
    assert start.date() == end.date() == moment.date()
    assert (start.hour, start.minute, end.hour, end.minute) == (0, 0, 23, 59)


@given(
    now=minutes.filter(lambda d: d.year > 2070),
    amount=st.integers(0, 5000),
    unit=st.sampled_from(["m", "h", "d", "w"]),
)
def test_an_age_is_that_long_before_now_to_the_minute(
    now: datetime, amount: int, unit: str
) -> None:
    size = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
            "w": timedelta(weeks=1)}[unit]  # fmt: skip
    result = parse_when(f"{amount}{unit}", now=now)
    # Counted back in real time, not on the clock: 12h before 09:00 on the day the clocks
    # go forward is 20:00 the evening before, not 21:00.
    expected = (instant(now.replace(tzinfo=UK)) - amount * size).replace(second=0, microsecond=0)
    assert instant(result) == expected
    assert result.tzinfo is UK and result.second == result.microsecond == 0


# -- parse_range ----------------------------------------------------------------------------


def test_a_range_defaults_to_today_until_now() -> None:
    assert parse_range(now=NOW) == (uk(2025, 10, 20), uk(2025, 10, 20, 15, 42))


def test_since_is_another_name_for_start() -> None:
    assert parse_range(since="7d", now=NOW) == parse_range(start="7d", now=NOW)


def test_start_and_since_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="not both"):
        parse_range(start="2025-10-01", since="7d", now=NOW)


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"ends \(2025-10-01 23:59\) before it starts"):
        parse_range(start="2025-10-08", end="2025-10-01", now=NOW)


# -- names ----------------------------------------------------------------------------------


def test_every_spelling_of_a_number_finds_its_contact() -> None:
    directory = NameDirectory(_contacts(("Bob Smith", "+44 7086 202666", "")))
    for spelling in ("07086202666", "+447086202666", "0044 7086 202666", "07086 202666"):
        assert directory.label_for(spelling) == "Bob Smith", spelling


def test_extensions_compare_verbatim() -> None:
    directory = NameDirectory(_contacts(("Reception", "1007", "")))
    assert directory.label_for("1007") == "Reception"
    assert directory.label_for("1009") == ""
    assert directory.label_for("01007") == ""


def test_a_shared_number_shows_two_names_then_a_count() -> None:
    directory = NameDirectory(
        _contacts(
            ("Reception", "01491833000", ""),
            ("Front desk", "01491 833000", ""),
            ("Night desk", "+441491833000", ""),
            ("Porter", "", "01491833000"),
        )
    )
    assert directory.names_for("01491833000") == ("Reception", "Front desk", "Night desk", "Porter")
    assert directory.label_for("01491833000") == "Reception / Front desk +2"
    two = NameDirectory(_contacts(("Reception", "1007", ""), ("Front desk", "1007", "")))
    assert two.label_for("1007") == "Reception / Front desk"


def test_the_same_name_twice_on_a_number_is_shown_once() -> None:
    directory = NameDirectory(_contacts(("Bob", "07086202666", ""), ("Bob", "07086 202666", "")))
    assert directory.label_for("07086202666") == "Bob"


def test_unknown_empty_and_withheld_numbers_have_no_name() -> None:
    directory = NameDirectory(_contacts(("Bob", "07086202666", ""), ("", "07700900461", "")))
    assert directory.label_for("07700900461") == ""
    assert directory.label_for("") == ""
    assert directory.label_for("anonymous") == ""


# -- listing calls against the sandbox --------------------------------------------------------


def test_the_docs_calls_are_listed_with_names_from_the_phonebook(client) -> None:
    report = list_calls(
        client,
        ["1009"],
        datetime(2025, 10, 8, 13, 30),
        datetime(2025, 10, 8, 13, 50),
        phonebook=client.list_contacts(),
    )
    assert [
        (r.call.call_id, r.caller_display, r.callee_display, r.call.duration) for r in report.rows
    ] == [
        (INCOMING, "Bob Smith (07086202666)", "1009", 41),
        (OUTGOING, "1009", "Bob Smith (07086202666)", 10),
        (LOCAL, "1009", "Reception (1007)", 14),
    ]
    assert report.total_seconds == 65
    assert report.requests == 1


def test_without_a_phonebook_there_are_no_names(client) -> None:
    report = list_calls(
        client, "1009", datetime(2025, 10, 8, 13, 30), datetime(2025, 10, 8, 13, 50)
    )
    assert [(r.caller_name, r.callee_name) for r in report.rows] == [("", "")] * 3


def test_a_call_between_two_listed_numbers_is_shown_once(client) -> None:
    start, end = datetime(2025, 10, 8), datetime(2025, 10, 8, 23, 59)
    report = list_calls(client, ["1009", "1007", "1009"], start, end)
    ids = [r.call.call_id for r in report.rows]
    assert report.numbers == ("1009", "1007")
    assert ids.count(LOCAL) == 1
    assert len(ids) == len(set(ids))
    assert {r.call.call_id for r in report.rows} == {
        c.call_id for n in ("1009", "1007") for c in client.answered_calls(n, start, end)
    }


def test_no_calls_is_an_empty_report_not_an_error(client) -> None:
    report = list_calls(client, ["2000"], datetime(2025, 10, 1), datetime(2025, 10, 31, 23, 59))
    assert report.rows == ()
    assert report.total_seconds == 0
    assert report.describe() == "2000 between 2025-10-01 00:00 and 2025-10-31 23:59"


def test_no_number_at_all_is_a_config_error(client) -> None:
    with pytest.raises(ConfigError, match="at least one"):
        list_calls(client, [" ", ""], datetime(2025, 10, 1), datetime(2025, 10, 2))


def test_a_call_is_found_near_the_time_in_its_id(client) -> None:
    call = find_call(client, INCOMING, ["1009"])
    assert call is not None and call.caller == "07086202666"
    assert find_call(client, INCOMING, ["1005"]) is None


def test_a_call_without_a_time_in_its_id_needs_a_date(client) -> None:
    with pytest.raises(ConfigError, match="give its date"):
        find_call(client, "no-time-here", ["1009"])
    assert find_call(client, "no-time-here", ["1009"], around=datetime(2025, 10, 8)) is None


def test_the_time_in_a_call_id_is_read_as_a_hint_on_the_pbx_clock() -> None:
    assert call_time_hint(INCOMING) == datetime.fromtimestamp(1759926851, timezone.utc)
    assert str(call_time_hint(INCOMING)) == "2025-10-08 13:34:11+01:00"
    assert call_time_hint("SIPALTO-X-12.5") is None
    assert call_time_hint("garbage") is None


# -- recordings -----------------------------------------------------------------------------


def test_a_recording_is_saved_as_valid_wav(client, tmp_path: Path) -> None:
    saved = save_recording(client, INCOMING, tmp_path / f"{INCOMING}.wav")
    assert saved == tmp_path / f"{INCOMING}.wav"
    with wave.open(str(saved), "rb") as audio:
        assert audio.getnframes() > 0
        assert audio.getframerate() == 8000
    assert list(tmp_path.iterdir()) == [saved]  # no temporary file left behind


def test_an_existing_file_is_not_overwritten_nor_downloaded_again(
    client, server, tmp_path: Path
) -> None:
    target = tmp_path / "call.wav"
    target.write_bytes(b"precious")
    mark = len(server.state.requests)
    with pytest.raises(ConfigError, match=f"{target} already exists; use --force"):
        save_recording(client, INCOMING, target)
    assert target.read_bytes() == b"precious"
    assert _requests(server, "/call-history/get-call-recording", mark) == []


def test_force_replaces_an_existing_file(client, tmp_path: Path) -> None:
    target = tmp_path / "call.wav"
    target.write_bytes(b"old")
    assert save_recording(client, INCOMING, target, force=True) == target
    assert check_wav(target.read_bytes()).seconds > 0


def test_an_unknown_call_has_no_recording_and_no_file_is_made(client, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"no call 'SIPALTO-NOPE-1\.2': check the id"):
        save_recording(client, "SIPALTO-NOPE-1.2", tmp_path / "call.wav")
    assert list(tmp_path.iterdir()) == []


def test_check_wav_reads_the_header_of_the_sandbox_audio() -> None:
    info = check_wav(make_wav(seconds=1.5))
    assert (info.format_tag, info.channels, info.sample_rate, info.bits_per_sample) == (
        1,
        1,
        8000,
        16,
    )
    assert info.seconds == pytest.approx(1.5)


def test_check_wav_accepts_mu_law_telephony_audio() -> None:
    fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 800)
    data = b"RIFF" + struct.pack("<I", len(body) + 800) + body + b"\xff" * 800
    assert check_wav(data).seconds == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"<html>Error</html>", "no RIFF/WAVE header"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no format chunk"),
        (make_wav()[:36], "no audio data chunk"),
    ],
)
def test_check_wav_refuses_what_is_not_audio(data: bytes, why: str) -> None:
    with pytest.raises(BadResponse, match=why):
        check_wav(data)


def test_a_recording_name_from_a_hostile_call_id_stays_in_its_folder() -> None:
    assert default_recording_name("../../etc/passwd") == "_.._etc_passwd.wav"
    assert default_recording_name(INCOMING) == f"{INCOMING}.wav"
    assert default_recording_name("...") == "call.wav"


# -- transcripts ----------------------------------------------------------------------------

# The API documentation's example transcription (times in milliseconds).
DOC_SEGMENTS = [
    TranscriptSegment("SIP-NODE-04-1759929221.139294", speaker, start, end, text.strip(), reid)
    for speaker, start, end, text, reid in [
        ("0", 6880.0, 105460.0,
         "Hello?. Hello, how can I help you?. Nothing. Thank you. Thanks. Bye. Bye.", "20891435"),
        ("0", 6880.0, 9280.0, "Hello?", "20891501"),
        ("1", 9680.0, 14560.0, " Hello, how can I help you?", "20891501"),
        ("0", 14720.0, 17280.0, " Nothing.", "20891501"),
        ("1", 17280.0, 21200.0, "Thank you.", "20891501"),
        ("0", 21760.0, 33420.0, "Thanks.", "20891501"),
        ("1", 49660.0, 97060.0, "Bye.", "20891501"),
        ("0", 102980.0, 105460.0, "Bye.", "20891501"),
    ]
]  # fmt: skip

DOC_LINES = [
    "[00:06] Speaker 0: Hello?",
    "[00:09] Speaker 1: Hello, how can I help you?",
    "[00:14] Speaker 0: Nothing.",
    "[00:17] Speaker 1: Thank you.",
    "[00:21] Speaker 0: Thanks.",
    "[00:49] Speaker 1: Bye.",
    "[01:42] Speaker 0: Bye.",
]


def _seg(speaker: str, start: float, end: float, text: str) -> TranscriptSegment:
    return TranscriptSegment("C1", speaker, start, end, text)


def test_the_docs_example_reads_as_a_conversation_without_its_summary() -> None:
    transcript = transcript_lines(DOC_SEGMENTS)
    assert transcript.summary == DOC_SEGMENTS[0]
    assert transcript_text(transcript).splitlines() == DOC_LINES


def test_summary_prints_the_summary_before_the_lines() -> None:
    text = transcript_text(transcript_lines(DOC_SEGMENTS), summary=True)
    assert text.splitlines()[:3] == [
        "Summary: Hello?. Hello, how can I help you?. Nothing. Thank you. Thanks. Bye. Bye.",
        "",
        DOC_LINES[0],
    ]


def test_segments_sent_out_of_order_are_put_in_time_order() -> None:
    shuffled = [DOC_SEGMENTS[0], *reversed(DOC_SEGMENTS[1:])]
    assert transcript_text(transcript_lines(shuffled)).splitlines() == DOC_LINES


def test_a_summary_that_is_not_first_is_still_recognised() -> None:
    moved = [*DOC_SEGMENTS[1:4], DOC_SEGMENTS[0], *DOC_SEGMENTS[4:]]
    transcript = transcript_lines(moved)
    assert transcript.summary == DOC_SEGMENTS[0]
    assert len(transcript.lines) == 7


def test_a_first_summary_transcribed_a_little_differently_is_still_recognised() -> None:
    segments = [
        _seg("0", 1000, 9000, "Hallo there, how can I help? Just checking on an order."),
        _seg("0", 1000, 3000, "Hello there, how can I help?"),
        _seg("1", 4000, 9000, "I'm just checking on my order."),
    ]
    transcript = transcript_lines(segments)
    assert transcript.summary == segments[0]
    assert [line.text for line in transcript.lines] == [s.text for s in segments[1:]]


def test_a_transcript_without_a_summary_keeps_every_segment() -> None:
    segments = DOC_SEGMENTS[1:]
    transcript = transcript_lines(segments)
    assert transcript.summary is None
    assert len(transcript.lines) == 7


def test_a_single_segment_is_a_line_not_a_summary() -> None:
    transcript = transcript_lines([_seg("0", 500, 2500, "Hello?")])
    assert transcript.summary is None
    assert transcript_text(transcript) == "[00:00] Speaker 0: Hello?\n"


def test_a_long_monologue_with_an_interjection_is_not_a_summary() -> None:
    segments = [
        _seg("0", 0, 60_000, "So what I need is the delivery moved to Thursday next week please"),
        _seg("1", 20_000, 21_000, "Right."),
    ]
    transcript = transcript_lines(segments)
    assert transcript.summary is None
    assert [line.text for line in transcript.lines] == [segments[0].text, "Right."]


def test_a_monologue_holding_the_interjections_words_is_not_a_summary_either() -> None:
    segments = [
        _seg("0", 0, 60_000, "Right, so the delivery should move to Thursday next week then"),
        _seg("1", 20_000, 21_000, "Right."),
    ]
    assert transcript_lines(segments).summary is None


def test_an_empty_transcript_has_no_lines() -> None:
    transcript = transcript_lines([], call_id="C9")
    assert (transcript.call_id, transcript.lines, transcript.summary) == ("C9", (), None)
    assert transcript_text(transcript) == ""


def test_a_call_past_an_hour_shows_hours_on_every_line() -> None:
    segments = [_seg("0", 9_680, 12_000, "Hello."), _seg("1", 3_723_400, 3_725_000, "Still here?")]
    assert transcript_text(transcript_lines(segments)).splitlines() == [
        "[0:00:09] Speaker 0: Hello.",
        "[1:02:03] Speaker 1: Still here?",
    ]


def test_speakers_are_named_only_when_names_are_given() -> None:
    names = parse_speaker_names("0=Alice, 1 = Bob")
    assert names == {"0": "Alice", "1": "Bob"}
    lines = transcript_text(transcript_lines(DOC_SEGMENTS, speaker_names=names)).splitlines()
    assert lines[:2] == ["[00:06] Alice: Hello?", "[00:09] Bob: Hello, how can I help you?"]
    partly = transcript_lines(DOC_SEGMENTS, speaker_names={"1": "Bob"})
    assert [line.label for line in partly.lines][:2] == ["Speaker 0", "Bob"]


def test_caller_and_callee_as_speaker_names_take_the_calls_parties() -> None:
    call = Call(INCOMING, "07086202666", "1009", "IN", "ANSWERED", datetime(2025, 10, 8), 41)
    directory = NameDirectory(_contacts(("Bob Smith", "+44 7086 202666", "")))
    names = {"0": "callee", "1": "Caller"}
    known = transcript_lines(DOC_SEGMENTS, call=call, speaker_names=names, directory=directory)
    assert [line.label for line in known.lines][:2] == ["1009", "Bob Smith"]
    assert known.call is not None and known.call.caller_name == "Bob Smith"
    unknown = transcript_lines(DOC_SEGMENTS, speaker_names=names)
    assert [line.label for line in unknown.lines][:2] == ["Callee", "Caller"]


@pytest.mark.parametrize("value", ["Alice", "0=", "=Alice", "0:Alice"])
def test_a_malformed_speaker_name_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="write SPEAKER=NAME"):
        parse_speaker_names(value)


def test_srt_subtitles_have_numbered_cues_in_milliseconds() -> None:
    srt = transcript_srt(transcript_lines(DOC_SEGMENTS))
    assert srt.startswith(
        "1\n00:00:06,880 --> 00:00:09,280\nSpeaker 0: Hello?\n\n"
        "2\n00:00:09,680 --> 00:00:14,560\nSpeaker 1: Hello, how can I help you?\n\n"
    )
    assert srt.endswith("7\n00:01:42,980 --> 00:01:45,460\nSpeaker 0: Bye.\n\n")
    assert "Summary" not in srt


def test_json_carries_lines_summary_and_raw_speakers() -> None:
    out = io.StringIO()
    write_transcript(transcript_lines(DOC_SEGMENTS, call_id="C1"), "json", out)
    data = json.loads(out.getvalue())
    assert data["call_id"] == "C1"
    assert data["call"] is None
    assert data["summary"]["end_ms"] == 105460.0
    assert data["lines"][1] == {
        "start": "00:09",
        "start_ms": 9680.0,
        "end_ms": 14560.0,
        "speaker": "1",
        "label": "Speaker 1",
        "text": "Hello, how can I help you?",
    }


def test_the_sandbox_transcript_comes_ordered_with_its_summary_set_apart(client) -> None:
    segments = client.call_transcription(INCOMING)
    transcript = fetch_transcript(client, INCOMING)
    assert transcript.summary == segments[0]
    assert len(transcript.lines) == len(segments) - 1
    starts = [line.start_ms for line in transcript.lines]
    assert starts == sorted(starts)
    assert transcript.call is None


def test_a_transcript_with_a_number_shows_the_call_named(client) -> None:
    transcript = fetch_transcript(
        client, INCOMING, numbers="1009", phonebook=client.list_contacts()
    )
    assert transcript.call is not None
    assert transcript.call.caller_display == "Bob Smith (07086202666)"
    assert transcript_text(transcript).splitlines()[:2] == [
        f"Call {INCOMING} on 2025-10-08 13:34:11 (IN, 0:41)",
        "From Bob Smith (07086202666) to 1009",
    ]


def test_an_unknown_call_has_no_transcript_and_no_history_is_listed(client, server) -> None:
    mark = len(server.state.requests)
    with pytest.raises(NotFound, match=r"no call 'SIPALTO-NOPE-1\.2': check the id"):
        fetch_transcript(client, "SIPALTO-NOPE-1.2", numbers="1009")
    assert _requests(server, ANSWERED, mark) == []


def test_a_very_short_call_has_no_transcript(client) -> None:
    report = list_calls(client, "1009", datetime(2025, 10, 1), datetime(2025, 10, 31, 23, 59))
    short = next(row.call for row in report.rows if row.call.duration < 10)
    with pytest.raises(
        Rejected, match=re.escape(f"no transcript for call '{short.call_id}': the server")
    ):
        fetch_transcript(client, short.call_id)


# -- formatting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (41, "0:41"), (754, "12:34"), (5025, "1:23:45")]
)
def test_durations_read_as_minutes_and_seconds(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("ms", "hours", "text"),
    [(9680.0, False, "00:09"), (102980.0, False, "01:42"), (3723400.0, False, "1:02:03"),
     (9680.0, True, "0:00:09"), (-5.0, False, "00:00")],
)  # fmt: skip
def test_offsets_into_a_call(ms: float, hours: bool, text: str) -> None:
    assert format_offset(ms, hours=hours) == text


def test_a_report_totals_its_durations() -> None:
    calls = [Call(str(i), "1", "2", "IN", "ANSWERED", NOW, d) for i, d in enumerate([41, 10, 14])]
    directory = NameDirectory()
    report = CallReport(("1009",), NOW, NOW, tuple(directory.row(c) for c in calls))
    assert report.total_seconds == 65


def test_an_unknown_output_format_is_a_config_error() -> None:
    report = CallReport(("1009",), NOW, NOW, ())
    with pytest.raises(ConfigError, match="unknown call list format 'xml'"):
        write_calls(report, "xml", io.StringIO())
    with pytest.raises(ConfigError, match="unknown transcript format 'vtt'"):
        write_transcript(transcript_lines([]), "vtt", io.StringIO())
