"""Call recordings: download, check that the answer really is WAV audio, save safely."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from connector.api.client import CALL_RECORDING, SipaltoClient
from connector.calls.history import about_call
from connector.errors import BadResponse, ConfigError
from connector.files import atomic_write


@dataclass(frozen=True, slots=True)
class WavInfo:
    """What a WAV header says: ``format_tag`` 1 is PCM, 6/7 A-law/mu-law (telephony)."""

    format_tag: int
    channels: int
    sample_rate: int
    bits_per_sample: int
    data_bytes: int
    byte_rate: int

    @property
    def seconds(self) -> float:
        """The audio's length."""
        return self.data_bytes / self.byte_rate


def check_wav(data: bytes) -> WavInfo:
    """Check that ``data`` is a WAV file with audio, and read its header.

    Walks the RIFF chunks rather than using :mod:`wave`, which refuses the A-law/mu-law
    encodings phone systems record in. Raises :class:`BadResponse` when it is not audio.
    """

    def bad(why: str) -> BadResponse:
        return BadResponse(f"the recording is not valid WAV audio: {why}", endpoint=CALL_RECORDING)

    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise bad("no RIFF/WAVE header")
    fmt: tuple[int, ...] | None = None
    position = 12
    while position + 8 <= len(data):
        chunk, size = data[position : position + 4], struct.unpack_from("<I", data, position + 4)[0]
        body = position + 8
        if chunk == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise bad("short format chunk")
            fmt = struct.unpack_from("<HHIIHH", data, body)
        elif chunk == b"data":
            if fmt is None:
                raise bad("audio data before the format chunk")
            tag, channels, rate, byte_rate, _, bits = fmt
            if channels < 1 or rate < 1 or byte_rate < 1:
                raise bad("impossible format (no channels or no sample rate)")
            # Streamed recordings may leave the size at 0 or 0xFFFFFFFF: count what is there.
            available = len(data) - body
            length = available if size in (0, 0xFFFFFFFF) else min(size, available)
            return WavInfo(tag, channels, rate, bits, length, byte_rate)
        position = body + size + (size & 1)  # chunks are padded to an even length
    raise bad("no audio data chunk" if fmt else "no format chunk")


def call_file_stem(call_id: str) -> str:
    """A safe file name stem for what belongs to a call: the call id, made harmless."""
    # Whoever typed or sent the id, it must never name a path outside the folder.
    return re.sub(r"[^A-Za-z0-9._-]", "_", call_id.strip()).lstrip(".") or "call"


def default_recording_name(call_id: str) -> str:
    """A safe file name for a call's recording: the call id with ``.wav``."""
    return f"{call_file_stem(call_id)}.wav"


def fetch_recording(client: SipaltoClient, call_id: str) -> bytes:
    """A call's recording as WAV bytes, checked to be audio (:func:`check_wav`)."""
    call_id = call_id.strip()
    if not call_id:
        raise ConfigError("give a call id")
    with about_call(call_id, "recording"):
        audio = client.call_recording(call_id)
    check_wav(audio)
    return audio


def save_recording(
    client: SipaltoClient,
    call_id: str,
    path: str | Path | None = None,
    *,
    force: bool = False,
) -> Path:
    """Download a call's recording, check it is WAV audio, and save it; return the path.

    ``path`` is the file to write, by default :func:`default_recording_name` in the
    current folder. An existing file is replaced only with ``force``, else
    :class:`ConfigError` naming it (checked before downloading).
    """
    target = Path(path) if path is not None else Path(default_recording_name(call_id))
    if target.is_dir():
        raise ConfigError(f"{target} is a folder: give the file to write")
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; use --force to overwrite it")
    _write_bytes(target, fetch_recording(client, call_id), replace=force)
    return target


def _write_bytes(target: Path, data: bytes, *, replace: bool) -> None:
    """Write all of ``data`` or nothing, so a failure never leaves half a WAV behind."""
    try:
        atomic_write(target, data, mode=None, overwrite=replace)
    except FileExistsError:
        # Taken since the check above: never clobber a file without --force.
        raise ConfigError(f"{target} already exists; use --force to overwrite it") from None
