"""Showing a transcript: readable text, JSON or SRT subtitles."""

from __future__ import annotations

import json
from typing import Any, TextIO

from connector.calls.history import format_call_time
from connector.calls.transcripts import Transcript
from connector.errors import ConfigError
from connector.ui.calls_view import format_duration

TRANSCRIPT_FORMATS = ("text", "json", "srt")


def format_offset(ms: float, *, hours: bool = False) -> str:
    """A time into the call: ``9680`` -> ``"00:09"``; ``"0:00:09"`` with ``hours``.

    Seconds are truncated, as a clock shows them; past an hour hours always show.
    """
    total = max(0, int(ms // 1000))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if hours or h else f"{m:02d}:{s:02d}"


def _srt_time(ms: float) -> str:
    total = max(0, round(ms))
    h, rest = divmod(total, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{milli:03d}"


def write_transcript(
    transcript: Transcript, fmt: str, out: TextIO, *, summary: bool = False
) -> None:
    """Write a transcript as ``text``, ``json`` or ``srt`` subtitles.

    ``summary`` adds the API's combined summary before the text lines; JSON always carries
    it and SRT never does (a cue spanning the whole call would hide the others).
    """
    if fmt == "text":
        out.write(transcript_text(transcript, summary=summary))
    elif fmt == "json":
        json.dump(_transcript_dict(transcript), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "srt":
        out.write(transcript_srt(transcript))
    else:
        raise ConfigError(f"unknown transcript format {fmt!r}: use {', '.join(TRANSCRIPT_FORMATS)}")


def transcript_text(transcript: Transcript, *, summary: bool = False) -> str:
    """Readable lines, ``[00:09] Speaker 1: Hello, how can I help you?``, with a header
    naming the call when it is known and the summary first when asked for."""
    parts: list[str] = []
    row = transcript.call
    if row is not None:
        call = row.call
        parts.append(
            f"Call {call.call_id} on {format_call_time(call.date)} "
            f"({call.direction}, {format_duration(call.duration)})"
        )
        parts.append(f"From {row.caller_display} to {row.callee_display}")
        parts.append("")
    if summary and transcript.summary is not None:
        parts.append(f"Summary: {transcript.summary.text.strip()}")
        parts.append("")
    long = transcript.long
    parts.extend(
        f"[{format_offset(line.start_ms, hours=long)}] {line.label}: {line.text}"
        for line in transcript.lines
    )
    return "".join(f"{part}\n" for part in parts)


def transcript_srt(transcript: Transcript) -> str:
    """SubRip subtitles: ``1\\n00:00:06,880 --> 00:00:09,280\\nSpeaker 0: Hello?\\n\\n``."""
    cues = []
    for number, line in enumerate(transcript.lines, start=1):
        end = max(line.end_ms, line.start_ms)
        cues.append(
            f"{number}\n{_srt_time(line.start_ms)} --> {_srt_time(end)}\n"
            f"{line.label}: {line.text}\n\n"
        )
    return "".join(cues)


def _transcript_dict(transcript: Transcript) -> dict[str, Any]:
    summary = transcript.summary
    long = transcript.long
    return {
        "call_id": transcript.call_id,
        "call": transcript.call.to_dict() if transcript.call else None,
        "summary": None
        if summary is None
        else {
            "speaker": summary.speaker,
            "start_ms": summary.start_ms,
            "end_ms": summary.end_ms,
            "text": summary.text,
        },
        "lines": [
            {
                "start": format_offset(line.start_ms, hours=long),
                "start_ms": line.start_ms,
                "end_ms": line.end_ms,
                "speaker": line.speaker,
                "label": line.label,
                "text": line.text,
            }
            for line in transcript.lines
        ],
    }
