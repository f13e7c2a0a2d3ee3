"""Call transcripts: the API's segments as an ordered conversation.

The API sends a combined "summary" segment first; :func:`transcript_lines` recognises it
and sets it apart, orders the rest by time and names the speakers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from connector.api.client import SipaltoClient
from connector.api.times import API_ZONE
from connector.calls.history import CallRow, NameDirectory, about_call, find_call
from connector.errors import ConfigError
from connector.model import Call, Contact, TranscriptSegment


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One spoken segment: times in milliseconds from the start of the recording."""

    start_ms: float
    end_ms: float
    speaker: str  # the diarization label, "0", "1", ...
    label: str  # what to show: "Speaker 0", or a name given by the user
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    """A call's conversation in time order, without the API's combined summary segment.

    ``summary`` is that segment when one was recognised; ``call`` the call with its names
    when it was looked up.
    """

    call_id: str
    lines: tuple[TranscriptLine, ...]
    summary: TranscriptSegment | None = None
    call: CallRow | None = None

    @property
    def long(self) -> bool:
        """True when the conversation reaches an hour (times then show hours)."""
        return any(line.start_ms >= 3_600_000 for line in self.lines)


def parse_speaker_names(values: Iterable[str] | str) -> dict[str, str]:
    """``"0=Alice,1=Bob"`` (or several such values) to ``{"0": "Alice", "1": "Bob"}``.

    A name may be ``caller`` or ``callee``: :func:`transcript_lines` puts in that party's
    phonebook name, or number, when the call is known.
    """
    if isinstance(values, str):
        values = [values]
    names: dict[str, str] = {}
    for value in values:
        for pair in value.split(","):
            if not pair.strip():
                continue
            speaker, sep, name = pair.partition("=")
            if not sep or not speaker.strip() or not name.strip():
                raise ConfigError(
                    f"speaker name {pair.strip()!r}: write SPEAKER=NAME, e.g. 0=Alice"
                )
            names[speaker.strip()] = name.strip()
    return names


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


# Timestamps are floats with two decimals; a summary's ends equal its segments' ends.
_EDGE_MS = 1.0
# Transcribed twice (summary and segments), the same speech may differ by a word or two.
_CONTAINED_SHARE = 0.8
_SHARED_WORDS = 0.6
_LENGTH_RATIO = (0.7, 1.5)


def _summary_index(segments: Sequence[TranscriptSegment]) -> int | None:
    """Which segment is the API's combined summary, if any.

    A summary spans from the earliest start to the latest end of the other segments, has
    about as many words as they have together, and holds (almost) all their texts; the
    first segment, where the API puts it, need only share most of their words (it may be
    transcribed a little differently). Times alone are not enough: a long monologue with
    a short "Right." inside it spans the other segment too, but is far longer than it.
    """
    if len(segments) < 2:
        return None
    words = [_words(seg.text) for seg in segments]
    # A segment spans the others exactly when it spans them all, itself included.
    first_start = min(seg.start_ms for seg in segments)
    last_end = max(seg.end_ms for seg in segments)
    for index, candidate in enumerate(segments):
        if candidate.start_ms > first_start + _EDGE_MS or candidate.end_ms < last_end - _EDGE_MS:
            continue
        texts = [text for i, text in enumerate(words) if i != index and text]
        other_words = " ".join(texts).split()
        own_words = words[index].split()
        ratio = len(own_words) / len(other_words) if other_words else 0.0
        if not _LENGTH_RATIO[0] <= ratio <= _LENGTH_RATIO[1]:
            continue
        whole = f" {words[index]} "
        contained = sum(f" {text} " in whole for text in texts)
        if contained >= _CONTAINED_SHARE * len(texts):
            return index
        vocabulary = set(own_words)
        shared = sum(word in vocabulary for word in other_words)
        if index == 0 and shared >= _SHARED_WORDS * len(other_words):
            return index
    return None


def transcript_lines(
    segments: Sequence[TranscriptSegment],
    *,
    call: Call | None = None,
    speaker_names: Mapping[str, str] | None = None,
    directory: NameDirectory | None = None,
    call_id: str | None = None,
) -> Transcript:
    """The conversation in time order, the summary segment set apart.

    Speakers are ``Speaker 0``, ``Speaker 1``... as diarization numbers them: nothing says
    which is the caller, so only ``speaker_names`` renames them. A name ``caller`` or
    ``callee`` becomes that party's phonebook name (from ``directory``) or number when
    ``call`` is known, else ``Caller``/``Callee``.
    """
    row = (directory or NameDirectory()).row(call) if call is not None else None
    summary_at = _summary_index(segments)
    names = dict(speaker_names or {})
    ordered = sorted(
        (seg for i, seg in enumerate(segments) if i != summary_at),
        key=lambda seg: (seg.start_ms, seg.end_ms),
    )
    lines = tuple(
        TranscriptLine(
            start_ms=seg.start_ms,
            end_ms=seg.end_ms,
            speaker=seg.speaker,
            label=_speaker_label(seg.speaker, names, row),
            text=seg.text.strip(),
        )
        for seg in ordered
    )
    if call_id is None:
        call_id = call.call_id if call else (segments[0].call_id if segments else "")
    return Transcript(
        call_id=call_id,
        lines=lines,
        summary=segments[summary_at] if summary_at is not None else None,
        call=row,
    )


def _speaker_label(speaker: str, names: Mapping[str, str], row: CallRow | None) -> str:
    name = names.get(speaker)
    if name is None:
        return f"Speaker {speaker}" if speaker else "Speaker ?"
    role = name.lower()
    if role not in ("caller", "callee"):
        return name
    if row is None:
        return role.capitalize()
    if role == "caller":
        return row.caller_name or row.call.caller
    return row.callee_name or row.call.callee


def fetch_transcript(
    client: SipaltoClient,
    call_id: str,
    *,
    numbers: Iterable[str] | str = (),
    around: datetime | None = None,
    phonebook: Sequence[Contact] | None = None,
    speaker_names: Mapping[str, str] | None = None,
    zone: ZoneInfo = API_ZONE,
) -> Transcript:
    """A call's transcript, ordered, with the call's details when it can be found.

    With ``numbers`` (a party of the call, e.g. its extension, in any spelling) the call
    is looked up with :func:`find_call` near ``around`` on ``zone``'s clock (the PBX's)
    and named from ``phonebook``. An unknown call id
    raises :class:`~connector.errors.NotFound`; a call with nothing transcribed (a few
    seconds long) :class:`~connector.errors.Rejected`, as the API answers.
    """
    call_id = call_id.strip()
    if not call_id:
        raise ConfigError("give a call id")
    # Transcript first: an unknown call id fails here, before any history is listed.
    with about_call(call_id, "transcript"):
        segments = client.call_transcription(call_id)
    wanted = [numbers] if isinstance(numbers, str) else list(numbers)
    call = find_call(client, call_id, wanted, around=around, zone=zone) if wanted else None
    return transcript_lines(
        segments,
        call=call,
        speaker_names=speaker_names,
        directory=NameDirectory(phonebook or ()),
        call_id=call_id,
    )
