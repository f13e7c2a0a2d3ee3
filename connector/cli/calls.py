"""``sipalto-sync calls``: call history named from the phonebook, recordings, transcripts."""

from __future__ import annotations

from datetime import datetime

import click

from connector.calls.history import list_calls
from connector.calls.ranges import parse_range, parse_when
from connector.calls.recordings import call_file_stem, default_recording_name, fetch_recording
from connector.calls.transcripts import fetch_transcript, parse_speaker_names
from connector.cli.app import AppContext, cli, pass_app
from connector.cli.options import (
    OutputOption,
    file_name,
    format_option,
    open_output,
    output_option,
    output_options,
    write_output,
)
from connector.errors import ConfigError
from connector.ui.calls_view import CALL_FORMATS, write_calls
from connector.ui.transcript_view import TRANSCRIPT_FORMATS, write_transcript
from connector.ui.words import count


@cli.group(
    epilog="""\b
Examples:
  sipalto-sync calls list -n 1009 --since 7d
  sipalto-sync calls transcript SIPALTO-THE-ANL-ND2-1759926851.58197 -n 1009
"""
)
def calls() -> None:
    """Call history: answered calls named from the phonebook, recordings, transcripts."""


@calls.command(
    "list",
    epilog="""\b
Examples:
  sipalto-sync calls list --number 1009 --start "2025-10-08 00:00" --end "2025-10-08 23:59"
  sipalto-sync calls list -n 1009 -n 1007 --since 7d
  sipalto-sync calls list -n 1009 --start 2025-01-01 --end 2025-06-30 --format csv -o h1.csv

\b
WHEN is YYYY-MM-DD, "YYYY-MM-DD HH:MM", now, today, yesterday, or an age
such as 30m, 12h, 7d, 2w, on the PBX's clock (UK time unless --timezone
says otherwise), from 1970 to 2099. A bare date ends at 23:59 when used as
--end. A number matches in any spelling (+44 7086 202666 = 07086202666).
A range the server refuses as too long is fetched in several requests.
""",
)
@click.option(
    "-n",
    "--number",
    "numbers",
    multiple=True,
    required=True,
    metavar="NUMBER",
    help="Phone number or extension whose calls to list (repeatable).",
)
@click.option("--start", metavar="WHEN", help="Range start [default: today 00:00].")
@click.option("--since", metavar="WHEN", help="Another name for --start: --since 7d.")
@click.option("--end", metavar="WHEN", help="Range end [default: now].")
@format_option(CALL_FORMATS, help="Output format.")
@output_option
@click.option("--no-names", is_flag=True, help="Do not read the phonebook to name the parties.")
@pass_app
def calls_list(
    app: AppContext,
    numbers: tuple[str, ...],
    start: str | None,
    since: str | None,
    end: str | None,
    fmt: str,
    output: OutputOption,
    no_names: bool,
) -> None:
    """List answered calls in a date range, callers and callees named from the phonebook."""
    target = output.resolve(file_name("calls", fmt))
    zone = app.settings.zone
    first, last = parse_range(start, end, since, now=datetime.now(zone), zone=zone)
    with app.settings.client() as api:
        phonebook = None if no_names else api.list_contacts()
        report = list_calls(api, numbers, first, last, phonebook=phonebook, zone=zone)
    with open_output(target) as out:
        write_calls(report, fmt, out, color=app.color(out), terminal=out.isatty())
    if not report.rows and fmt != "table":
        app.say(f"No answered calls for {report.describe()}.")
    if target.path is not None:
        app.say(f"Wrote {count(len(report.rows), 'call')} to {target.path}")


@calls.command(
    "recording",
    epilog="""\b
Examples:
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197 -o recordings/
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197 -o call.wav --force
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197 -o - | aplay
""",
)
@click.argument("call_id")
@output_options(
    help="File to save to; a path ending in '/' is a folder (made if missing) holding "
    "CALL_ID.wav; '-' is standard output [default: CALL_ID.wav in the current folder]."
)
@pass_app
def calls_recording(app: AppContext, call_id: str, output: OutputOption) -> None:
    """Save a call's recording as a WAV file (checked to really be audio)."""
    target = output.resolve(default_recording_name(call_id), to_file=True)
    with app.settings.client() as api:
        audio = fetch_recording(api, call_id)
    write_output(target, audio)
    where = target.path or "standard output"
    app.say(f"Saved the recording of {call_id} to {where} ({len(audio):,} bytes)")


@calls.command(
    "transcript",
    epilog="""\b
Examples:
  sipalto-sync calls transcript SIPALTO-THE-ANL-ND2-1759926851.58197
  sipalto-sync calls transcript SIPALTO-THE-ANL-ND2-1759926851.58197 --summary
  sipalto-sync calls transcript SIPALTO-THE-ANL-ND2-1759926851.58197 -n 1009 \\
    --speaker-names "0=caller,1=callee"
  sipalto-sync calls transcript SIPALTO-THE-ANL-ND2-1759926851.58197 --format srt -o call.srt

\b
Speakers are numbered by voice diarization, which does not say who is the
caller: name them with --speaker-names. With --number (a party of the call)
the call is looked up and shown with names from the phonebook; CALLER and
CALLEE then work as speaker names.
""",
)
@click.argument("call_id")
@format_option(TRANSCRIPT_FORMATS, help="Output format.")
@click.option("--summary", is_flag=True, help="Also print the API's one-segment summary (text).")
@click.option(
    "--speaker-names",
    multiple=True,
    metavar="N=NAME,...",
    help="Name the speakers, e.g. '0=Alice,1=Bob' or '0=caller,1=callee'.",
)
@click.option(
    "-n",
    "--number",
    "numbers",
    multiple=True,
    metavar="NUMBER",
    help="A party of the call (e.g. its extension), to look the call up (repeatable).",
)
@click.option(
    "--date",
    metavar="WHEN",
    help="When the call was, for --number [default: read from the call id].",
)
@click.option("--no-names", is_flag=True, help="Do not read the phonebook to name the parties.")
@output_option
@pass_app
def calls_transcript(
    app: AppContext,
    call_id: str,
    fmt: str,
    summary: bool,
    speaker_names: tuple[str, ...],
    numbers: tuple[str, ...],
    date: str | None,
    no_names: bool,
    output: OutputOption,
) -> None:
    """Print a call's transcript as a conversation in time order (or JSON, or subtitles)."""
    if date is not None and not numbers:
        raise ConfigError("--date only helps to find the call with --number: give both")
    target = output.resolve(file_name(call_file_stem(call_id), fmt))
    names = parse_speaker_names(speaker_names)
    zone = app.settings.zone
    around = None
    if date is not None:
        around = parse_when(date, now=datetime.now(zone), zone=zone, option="--date")
    with app.settings.client() as api:
        phonebook = api.list_contacts() if numbers and not no_names else None
        transcript = fetch_transcript(
            api,
            call_id,
            numbers=numbers,
            around=around,
            phonebook=phonebook,
            speaker_names=names,
            zone=zone,
        )
    if numbers and transcript.call is None:
        app.say(f"Call {call_id} is not among the calls of {', '.join(numbers)} near its date.")
    if not transcript.lines:
        app.say(f"The transcript of {call_id} has no lines.")
    with open_output(target) as out:
        write_transcript(transcript, fmt, out, summary=summary)
