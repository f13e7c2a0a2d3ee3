"""vCard files (2.1, 3.0 and 4.0), read with a tolerant parser of our own.

Real exports break strict parsers (vobject among them) in ways this reader expects:

- Android's 2.1 export: ``ENCODING=QUOTED-PRINTABLE`` values continued with ``=``
  soft line breaks (the continuation may start with anything, even ``#``), UTF-8 or
  Shift_JIS ``CHARSET`` parameters, long base64 ``PHOTO`` lines;
- iOS: lines ending CR CR LF; Apple's ``itemN.TEL`` with ``itemN.X-ABLabel``;
- Outlook: bare 2.1 parameters (``TEL;WORK;VOICE``), ``X-MS-*`` lines, placeholder values;
- comment lines (``#``), mixed-case ``BEGIN:vCard``, no final newline, blank lines,
  folded parameter lists, text in Windows-1252 with no ``CHARSET`` at all.

Only what a phonebook needs is interpreted: ``FN``, ``N``, ``ORG``, ``TEL`` (with its
``TYPE`` and ``PREF`` parameters and Apple labels), ``UID`` (or sipalto-sync's own
``X-SIPALTO-ID``) and ``VERSION``; every other
property is skipped without being decoded. The file is streamed card by card.

A card that is structurally broken (no ``END:VCARD``, no ``BEGIN:VCARD``) still becomes
a record, marked with a problem that names the line, so it is reported as rejected
while the cards around it import.
"""

from __future__ import annotations

import binascii
import codecs
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar

from adapters.base import build_record, clean_name
from adapters.mapping import Mapping
from adapters.textfile import bom_encoding, looks_binary, read_prefix, utf16_without_bom
from connector.errors import ConfigError, SourceError, UnsupportedFormat
from connector.model import KEY_POSITION, KEY_SOURCE_ID, RawPhone, SourceRecord

_CHUNK = 64 * 1024
# CR CR LF (iOS), CR LF, LF, and a lone CR (classic Mac) each end one line.
_EOL = re.compile(rb"\r*\n|\r")
_BEGIN = re.compile(rb"^BEGIN\s*:\s*VCARD\s*$", re.IGNORECASE)
_END = re.compile(rb"^END\s*:\s*VCARD\s*$", re.IGNORECASE)
_BEGIN_ANYWHERE = re.compile(rb"^\s*BEGIN\s*:\s*VCARD", re.IGNORECASE | re.MULTILINE)
_NAME = re.compile(r"^(?:([A-Za-z0-9-]+)\.)?([A-Za-z0-9-]+)$")
_BASE64_LINE = re.compile(rb"^[A-Za-z0-9+/=\s]*$")
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")
_ESCAPE = re.compile(r"\\([\\,;:nN])")
# Samsung's custom phone label: TEL;X-CUSTOM(CHARSET=UTF-8,ENCODING=QUOTED-PRINTABLE,=4C=61=62):
_CUSTOM_LABEL = re.compile(rb"X-CUSTOM\(([^)]*)\)", re.IGNORECASE)
_ENCODINGS = frozenset({"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"})

# TYPE values that make a label, in the order they are written into it.
_TYPE_LABELS = (
    ("home", "home"),
    ("work", "work"),
    ("cell", "mobile"),
    ("mobile", "mobile"),
    ("iphone", "iPhone"),
    ("main", "main"),
    ("car", "car"),
    ("other", "other"),
    ("video", "video"),
    ("textphone", "textphone"),
    ("isdn", "ISDN"),
    ("modem", "modem"),
    ("fax", "fax"),
    ("pager", "pager"),
)
_NON_VOICE_TYPES = frozenset({"fax", "pager"})
# The rank of a number with no preference mark: after every PREF=1..100.
_NOT_PREFERRED = 1_000


@dataclass(slots=True)
class _Property:
    line: int
    group: str
    name: str
    params: dict[str, list[str]]
    types: set[str]
    value: bytes


@dataclass(slots=True)
class _Card:
    number: int
    line: int
    properties: list[_Property] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)


class VCardSource:
    """A file of vCards; each card becomes one record."""

    format_name: ClassVar[str] = "vcard"

    def __init__(
        self,
        path: str | Path,
        *,
        mapping: str | Path | Mapping | None = None,
        encoding: str | None = None,
        sheet: str | int | None = None,
        header_row: int | None = None,
    ):
        for option, value in (("--mapping", mapping), ("--sheet", sheet)):
            if value is not None:
                raise ConfigError(f"{option} applies to tables (CSV, Excel), not to vCard files")
        if header_row is not None:
            raise ConfigError("--header-row applies to tables (CSV, Excel), not to vCard files")
        self.path = Path(path)
        self.charset = _checked_charset(encoding)
        prefix = read_prefix(self.path)
        self._text_encoding = bom_encoding(prefix) or utf16_without_bom(prefix)
        if self._text_encoding is not None:
            prefix = prefix.decode(self._text_encoding.codec, "replace").encode("utf-8")
        if not prefix.strip():
            raise SourceError("the file is empty", path=self.path)
        if looks_binary(prefix):
            raise UnsupportedFormat("binary data, not a vCard file", path=self.path)
        if not _BEGIN_ANYWHERE.search(prefix):
            raise UnsupportedFormat(
                f"not a vCard file: no BEGIN:VCARD in the first {len(prefix)} bytes", path=self.path
            )
        self.messages: list[str] = []
        self.cut_short: str | None = None

    def records(self) -> Iterator[SourceRecord]:
        """Stream one record per card, in file order."""
        seen_uids: set[str] = set()
        for card in self._cards():
            yield self._record(card, seen_uids)

    def _record(self, card: _Card, seen_uids: set[str]) -> SourceRecord:
        properties = card.properties
        notes: list[str] = []
        if card.unreadable:
            notes.append(
                f"ignored {len(card.unreadable)} unreadable line(s), first at line "
                f"{card.unreadable[0]}"
            )
        key, key_kind = f"card:{card.number}", KEY_POSITION
        # sipalto-sync's own vCard export carries the contact id, so it round-trips as a key.
        uid = self._first_text(properties, "UID") or self._first_text(properties, "X-SIPALTO-ID")
        if uid and uid not in seen_uids:
            seen_uids.add(uid)
            key, key_kind = uid, KEY_SOURCE_ID
        elif uid:
            notes.append(f"UID {uid!r} already used by an earlier card; keyed by card number")
        return build_record(
            key=key,
            location=f"{self.path.name} card {card.number}",
            name=self._name(properties),
            phones=self._phones(properties),
            notes=notes,
            problems=card.problems,
            key_kind=key_kind,
        )

    def _name(self, properties: list[_Property]) -> str:
        formatted = self._first_text(properties, "FN")
        org = self._components(properties, "ORG")
        company = clean_name(next((part for part in org if part.strip()), ""))
        show_as = self._first_text(properties, "X-ABSHOWAS").upper()
        if company and show_as == "COMPANY":  # Apple marks company cards this way
            return company
        if clean_name(formatted):
            return formatted
        family, given, additional, prefix, suffix = (self._components(properties, "N") + [""] * 5)[
            :5
        ]
        person = clean_name(" ".join((prefix, given, additional, family, suffix)))
        return person or company

    def _phones(self, properties: list[_Property]) -> list[RawPhone]:
        labels = {
            prop.group: _apple_label(self._decode(prop))
            for prop in properties
            if prop.name == "X-ABLABEL" and prop.group
        }
        ranked: list[tuple[int, RawPhone]] = []
        for prop in properties:
            if prop.name != "TEL":
                continue
            value = _tel_value(self._decode(prop), prop)
            if not value:
                continue
            label = _type_label(prop.types)
            custom = labels.get(prop.group) or next(iter(prop.params.get("X-CUSTOM", [])), "")
            if custom and not prop.types & _NON_VOICE_TYPES:
                label = custom
            rank = _pref_rank(prop)
            ranked.append((rank, RawPhone(value, label, preferred=rank < _NOT_PREFERRED)))
        ranked.sort(key=lambda item: item[0])  # stable: file order within a rank
        return [phone for _, phone in ranked]

    def _first_text(self, properties: list[_Property], name: str) -> str:
        for prop in properties:
            if prop.name == name:
                text = _unescape(self._decode(prop)).strip()
                if text:
                    return text
        return ""

    def _components(self, properties: list[_Property], name: str) -> list[str]:
        for prop in properties:
            if prop.name == name:
                parts = _split_components(self._decode(prop))
                if any(part.strip() for part in parts):
                    return parts
        return []

    def _decode(self, prop: _Property) -> str:
        data = prop.value
        encoding = (prop.params.get("ENCODING") or [""])[0].upper()
        if encoding in ("QUOTED-PRINTABLE", "QP"):
            data = binascii.a2b_qp(data)
        charsets = [*prop.params.get("CHARSET", []), "utf-8", self.charset or "cp1252"]
        for charset in charsets:
            try:
                return data.decode(charset)
            except (LookupError, UnicodeDecodeError):
                continue
        return data.decode("latin-1")

    def _cards(self) -> Iterator[_Card]:
        card: _Card | None = None
        number = 0
        nested = 0
        for line_no, line in _logical_lines(self._physical_lines()):
            line = line.strip()
            if not line or line.startswith(b"#"):
                continue
            if _BEGIN.match(line):
                if card is not None and card.properties and card.properties[-1].name == "AGENT":
                    nested += 1  # a vCard 2.1 AGENT embeds a whole card: not a contact
                    continue
                if card is not None:
                    card.problems.append(
                        f"card has no END:VCARD (the next card begins on line {line_no})"
                    )
                    yield card
                number += 1
                card = _Card(number, line_no)
                continue
            if _END.match(line):
                if nested:
                    nested -= 1
                elif card is not None:
                    yield card
                    card = None
                else:
                    number += 1
                    yield _Card(
                        number,
                        line_no,
                        problems=[f"END:VCARD on line {line_no} without BEGIN:VCARD"],
                    )
                continue
            if nested:
                continue
            prop = _parse_property(line, line_no)
            if card is None:
                if prop is None:
                    continue  # text between cards
                number += 1
                card = _Card(number, line_no, problems=[f"no BEGIN:VCARD before line {line_no}"])
            if prop is None:
                if not _BASE64_LINE.match(line):
                    card.unreadable.append(line_no)
                continue
            card.properties.append(prop)
        if card is not None:
            card.problems.append(
                f"card has no END:VCARD (it begins on line {card.line} and the file ends)"
            )
            self.cut_short = (
                f"{self.path.name}:{card.line}: the last card has no END:VCARD and the file "
                "ends there: is the file cut short?"
            )
            yield card

    def _physical_lines(self) -> Iterator[tuple[int, bytes]]:
        try:
            with self.path.open("rb") as handle:
                if self._text_encoding is not None:
                    yield from _recoded_lines(handle, self._text_encoding.codec)
                else:
                    yield from _split_lines(handle)
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror or exc}", path=self.path) from exc


def _checked_charset(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError as exc:
        raise ConfigError(f"unknown text encoding {encoding!r}") from exc


def _split_lines(handle: BinaryIO, chunk_size: int = _CHUNK) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` for each physical line, read in chunks, terminators removed.

    Only new bytes are scanned and a long line is kept as a list of pieces, so a line of
    many megabytes costs its length once, not once per chunk.
    """
    number = 0
    pieces: list[bytes] = []  # the current line so far
    withheld = b""
    while chunk := handle.read(chunk_size):
        buffer = withheld + chunk
        # Trailing CRs wait for the next chunk: they may be the start of CR CR LF.
        end = len(buffer.rstrip(b"\r"))
        start = 0
        for match in _EOL.finditer(buffer, 0, end):
            number += 1
            pieces.append(buffer[start : match.start()])
            yield number, b"".join(pieces)
            pieces = []
            start = match.end()
        pieces.append(buffer[start:end])
        withheld = buffer[end:]
    buffer = b"".join(pieces) + withheld
    start = 0
    for match in _EOL.finditer(buffer):
        number += 1
        yield number, buffer[start : match.start()]
        start = match.end()
    if buffer[start:]:
        yield number + 1, buffer[start:]


def _recoded_lines(handle: BinaryIO, codec: str) -> Iterator[tuple[int, bytes]]:
    # UTF-16/32 files (some Windows tools) are re-encoded so the parser sees UTF-8 bytes.
    text = io.TextIOWrapper(handle, encoding=codec, errors="replace", newline=None)
    for number, line in enumerate(text, start=1):
        yield number, line.rstrip("\n").encode("utf-8")


def _logical_lines(physical: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
    """Join folded lines and quoted-printable soft line breaks into logical lines.

    The line being joined grows in place, and whether it is quoted-printable is decided
    once its name and parameters are complete, so a value folded over a million lines
    costs its length, not its length squared.
    """
    pending: bytearray | None = None
    pending_line = 0
    head_done = False  # the pending line's name and parameters are complete (":" seen)
    qp = False  # ... and they say QUOTED-PRINTABLE
    version = b""
    for number, line in physical:
        if pending is not None and qp and pending.endswith(b"=") and not _ends_card(line):
            del pending[-1]  # a soft line break: the value goes on in the next line
            pending += line
            continue
        if pending is not None and line[:1] in (b" ", b"\t"):
            # vCard 2.1 unfolding keeps the whitespace; 3.0 and 4.0 drop one character.
            pending += line if version == b"2.1" else line[1:]
            if not head_done and b":" in line:
                head_done, qp = True, _is_quoted_printable(pending)
            continue
        if pending is not None:
            done = bytes(pending)
            version = _track_version(done, version)
            yield pending_line, done
        pending, pending_line = bytearray(line), number
        head_done = b":" in line
        qp = head_done and _is_quoted_printable(line)
    if pending is not None:
        yield pending_line, bytes(pending)


def _ends_card(line: bytes) -> bool:
    return bool(_END.match(line) or _BEGIN.match(line))


def _track_version(line: bytes, version: bytes) -> bytes:
    upper = line.strip().upper()
    if upper.startswith(b"VERSION:"):
        return upper[len(b"VERSION:") :].strip()
    if _BEGIN.match(line.strip()):
        return b""
    return version


def _is_quoted_printable(line: bytes | bytearray) -> bool:
    # An X-CUSTOM label may be quoted-printable while the value is not.
    head = _CUSTOM_LABEL.sub(b"", line.split(b":", 1)[0]).upper()
    return b"QUOTED-PRINTABLE" in head


def _parse_property(line: bytes, number: int) -> _Property | None:
    """Split ``group.NAME;param=value;BARE:value``; ``None`` if the line is not one."""
    colon = _outside_quotes(line, ord(":"))
    if colon is None:
        return None
    params: dict[str, list[str]] = {}
    head_bytes = line[:colon]
    custom = _CUSTOM_LABEL.search(head_bytes)
    if custom is not None:
        params["X-CUSTOM"] = [_custom_label(custom.group(1))]
        head_bytes = head_bytes[: custom.start()] + head_bytes[custom.end() :]
    head = head_bytes.decode("latin-1")
    parts = _split_outside_quotes(head, ";")
    match = _NAME.match(parts[0].strip())
    if match is None:
        return None
    types: set[str] = set()
    for part in parts[1:]:
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:  # a vCard 2.1 bare parameter: TEL;WORK;VOICE or ;QUOTED-PRINTABLE
            if key.upper() in _ENCODINGS:
                params.setdefault("ENCODING", []).append(key.upper())
            else:
                types.add(key.lower())
            continue
        key = key.strip().upper()
        values = [v.strip().strip('"') for v in value.strip().strip('"').split(",")]
        params.setdefault(key, []).extend(v for v in values if v)
        if key == "TYPE":
            types.update(v.lower() for v in values if v)
    return _Property(
        line=number,
        group=(match.group(1) or "").lower(),
        name=match.group(2).upper(),
        params=params,
        types=types,
        value=line[colon + 1 :],
    )


def _custom_label(inside: bytes) -> str:
    *options, label = inside.split(b",")
    if any(option.strip().upper() == b"ENCODING=QUOTED-PRINTABLE" for option in options):
        label = binascii.a2b_qp(label)
    return label.decode("utf-8", "replace").strip()


def _outside_quotes(data: bytes, char: int) -> int | None:
    if b'"' not in data:  # the common case, and much faster
        index = data.find(bytes([char]))
        return None if index < 0 else index
    quoted = False
    for index, byte in enumerate(data):
        if byte == ord('"'):
            quoted = not quoted
        elif byte == char and not quoted:
            return index
    return None


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    if '"' not in text:
        return text.split(separator)
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _split_components(text: str) -> list[str]:
    """``N`` and ``ORG`` components: split at ``;`` but not at an escaped ``\\;``."""
    parts = re.split(r"(?<!\\);", text.replace("\\\\", "\x00"))
    return [_unescape(part.replace("\x00", "\\\\")) for part in parts]


def _apple_label(text: str) -> str:
    text = _unescape(text).strip()
    match = _APPLE_LABEL.match(text)
    return match.group(1) if match else text


def _type_label(types: set[str]) -> str:
    words = dict.fromkeys(label for kind, label in _TYPE_LABELS if kind in types)
    return " ".join(words)


def _pref_rank(prop: _Property) -> int:
    """vCard 4.0 ``PREF=1`` (1 is most preferred), 2.1/3.0 ``pref`` type; else not preferred."""
    for value in prop.params.get("PREF", []):
        if value.isdigit():
            return int(value)
    return 1 if "pref" in prop.types else _NOT_PREFERRED


def _tel_value(text: str, prop: _Property) -> str:
    text = _unescape(text).strip()
    if text.lower().startswith("tel:"):
        # vCard 4.0 tel: URI; keep the number and its extension, drop other parameters.
        number, *params = text[4:].split(";")
        extension = next((p[4:] for p in params if p.lower().startswith("ext=")), "")
        text = f"{number} ext. {extension}" if extension else number
    return text.strip()
