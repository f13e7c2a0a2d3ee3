"""``sipalto-sync calls``: call history named from the phonebook, recordings, transcripts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from connector.calls.history import list_calls
from connector.calls.ranges import parse_range, parse_when
from connector.calls.recordings import save_recording
from connector.calls.transcripts import fetch_transcript, parse_speaker_names
from connector.cli.app import AppContext, cli, pass_app
from connector.cli.options import format_option, open_output, output_option, to_stdout
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
such as 30m, 12h, 7d, 2w. A bare date ends at 23:59 when used as --end.
Ranges longer than the server allows are fetched in several requests.
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
    output: Path | None,
    no_names: bool,
) -> None:
    """List answered calls in a date range, callers and callees named from the phonebook."""
    first, last = parse_range(start, end, since, now=datetime.now())
    with app.settings.client() as api:
        phonebook = None if no_names else api.list_contacts()
        report = list_calls(api, numbers, first, last, phonebook=phonebook)
    with open_output(output) as out:
        write_calls(report, fmt, out, color=app.color(out), terminal=out.isatty())
    if not report.rows and fmt != "table":
        app.say(f"No answered calls for {report.describe()}.")
    if not to_stdout(output):
        app.say(f"Wrote {count(len(report.rows), 'call')} to {output}")


@calls.command(
    "recording",
    epilog="""\b
Examples:
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197 -o recordings/
  sipalto-sync calls recording SIPALTO-THE-ANL-ND2-1759926851.58197 -o call.wav --force
""",
)
@click.argument("call_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="File or folder to save to [default: CALL_ID.wav in the current folder].",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_app
def calls_recording(app: AppContext, call_id: str, output: Path | None, force: bool) -> None:
    """Save a call's recording as a WAV file (checked to really be audio)."""
    with app.settings.client() as api:
        saved = save_recording(api, call_id, output, force=force)
    app.say(f"Saved the recording of {call_id} to {saved} ({saved.stat().st_size:,} bytes)")


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
    output: Path | None,
) -> None:
    """Print a call's transcript as a conversation in time order (or JSON, or subtitles)."""
    if date is not None and not numbers:
        raise ConfigError("--date only helps to find the call with --number: give both")
    names = parse_speaker_names(speaker_names)
    around = parse_when(date, now=datetime.now()) if date is not None else None
    with app.settings.client() as api:
        phonebook = api.list_contacts() if numbers and not no_names else None
        transcript = fetch_transcript(
            api, call_id, numbers=numbers, around=around, phonebook=phonebook, speaker_names=names
        )
    if numbers and transcript.call is None:
        app.say(f"Call {call_id} is not among the calls of {', '.join(numbers)} near its date.")
    if not transcript.lines:
        app.say(f"The transcript of {call_id} has no lines.")
    with open_output(output) as out:
        write_transcript(transcript, fmt, out, summary=summary)
