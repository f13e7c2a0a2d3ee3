"""Reading the first bytes of a file: existence checks, binary junk, and text encodings.

Encoding detection is a plain heuristic on a prefix of the file (no extra dependency):
a byte-order mark wins; then UTF-16 without a BOM shows itself by NUL bytes in every
other position; then text that decodes as UTF-8 is UTF-8 (pure ASCII included); and
anything else is Windows-1252, the "ANSI" code page of Western European Windows and
Excel (Latin-1 where even that fails), unless it also holds UTF-8 letters. A UTF-8 file
holding stray Windows-1252 bytes (rows pasted in from another file, near the top or
further down) is read with those bytes repaired one field at a time
(:func:`repair_text`), so one bad cell does not stop or garble the whole file.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from connector.errors import ConfigError, SourceError, UnsupportedFormat

#: How much of a file is read to sniff its format, encoding and delimiter.
SNIFF_BYTES = 64 * 1024

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
# Control bytes that never appear in text; \t \n \v \f \r and DOS's end-of-file ^Z do.
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x19\x1b-\x1f]")
_ESCAPED = re.compile("[\udc80-\udcff]+")


@dataclass(frozen=True, slots=True)
class TextEncoding:
    """How to decode a text file: the Python codec, a description, the error handler."""

    codec: str
    description: str
    errors: str = "strict"

    @property
    def repairs(self) -> bool:
        """True when undecodable bytes are kept for :func:`repair_text` to fix."""
        return self.errors == "surrogateescape"


def read_prefix(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of ``path``; a clear :class:`SourceError` if unreadable."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except FileNotFoundError as exc:
        raise SourceError("file not found", path=path) from exc
    except IsADirectoryError as exc:
        raise SourceError("is a directory, not a file", path=path) from exc
    except PermissionError as exc:
        raise SourceError("permission denied", path=path) from exc
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", path=path) from exc


def bom_encoding(prefix: bytes) -> TextEncoding | None:
    """The encoding a byte-order mark at the start of ``prefix`` announces, if any."""
    for bom, codec, description in _BOMS:
        if prefix.startswith(bom):
            return TextEncoding(codec, description, "replace")
    return None


def utf16_without_bom(prefix: bytes) -> TextEncoding | None:
    """UTF-16 text without a BOM: mostly-ASCII text has NUL in every other byte."""
    sample = prefix[: 4096 - 4096 % 2]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / (len(sample) / 2)
    odd_nuls = sample[1::2].count(0) / (len(sample) / 2)
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return TextEncoding("utf-16-le", "UTF-16 (little-endian, no BOM)", "replace")
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return TextEncoding("utf-16-be", "UTF-16 (big-endian, no BOM)", "replace")
    return None


def looks_binary(prefix: bytes) -> bool:
    """True for bytes that are not text in any 8-bit encoding (NULs, control codes).

    Binary formats hold NUL and control bytes by the hundred; a text file with a stray
    one or two (a damaged cell) is still text, and the reader rejects the record that
    holds them while the others are read.
    """
    nuls = prefix.count(0)
    controls = len(_CONTROL.findall(prefix))
    return nuls > len(prefix) / 100 or (controls >= 8 and controls > len(prefix) / 100)


def detect_encoding(prefix: bytes, *, path: Path, forced: str | None = None) -> TextEncoding:
    """The encoding to read a text file with, from its first bytes or the user's choice.

    Raises :class:`ConfigError` for an unknown ``forced`` encoding and
    :class:`UnsupportedFormat` for binary content.
    """
    if forced:
        try:
            codec = codecs.lookup(forced).name
        except LookupError as exc:
            raise ConfigError(f"unknown text encoding {forced!r}") from exc
        if codec == "utf-8" and prefix.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        return TextEncoding(codec, f"{forced} (as given)", "strict")
    found = bom_encoding(prefix) or utf16_without_bom(prefix)
    if found:
        return found
    if looks_binary(prefix):
        raise UnsupportedFormat(
            "binary data, not a text file (expected CSV, Excel .xlsx or vCard)", path=path
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(prefix, final=False)
    except UnicodeDecodeError:
        pass
    else:
        # surrogateescape keeps any later non-UTF-8 byte for repair_text to fix.
        return TextEncoding("utf-8", "UTF-8", "surrogateescape")
    if _has_utf8_lines(prefix):
        # UTF-8 lines and lines that are not: rows pasted in from a Windows-1252 file.
        # Reading it all as Windows-1252 would garble every UTF-8 letter; UTF-8 with the
        # stray bytes repaired field by field reads both kinds right.
        return TextEncoding("utf-8", "UTF-8 (with some Windows-1252 text)", "surrogateescape")
    try:
        prefix.decode("cp1252")
    except UnicodeDecodeError:
        return TextEncoding("latin-1", "Latin-1", "strict")
    return TextEncoding("cp1252", "Windows-1252", "replace")


def repair_text(text: str) -> str:
    """Text decoded as UTF-8 with ``surrogateescape``: a field holding stray bytes was
    written in Windows-1252, so the whole field is read again as Windows-1252."""
    if not _ESCAPED.search(text):
        return text
    # The whole field, not just the stray bytes: a Windows-1252 letter next to one of its
    # punctuation marks ("É’") can look like a UTF-8 character on its own.
    return text.encode("utf-8", "surrogateescape").decode("cp1252", "replace")


def _has_utf8_lines(prefix: bytes) -> bool:
    """True when a line beyond ASCII decodes as UTF-8 (so the file is not all Windows-1252)."""
    for line in prefix.splitlines():
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if not text.isascii():
            return True
    return False
