"""The one interface every source adapter offers, and the record rules they share.

An adapter opens a file in its constructor (so a file that cannot be read at all
fails there, with a :class:`SourceError` naming the file and line; which adapter opens
which file is :func:`adapters.registry.open_source`'s choice) and then streams
:class:`SourceRecord` values from :meth:`Source.records`. Every record is yielded,
usable or not: one that cannot be used carries its reasons in ``problems`` so the
plan can show it as rejected.

:func:`build_record` holds the rules that are the same for every format: whitespace
in names collapsed, a cell holding several numbers split (by the tool's one rule,
:func:`connector.phonetext.split_numbers`), fax and pager numbers left out with a note,
the preferred number first, the ``no name`` / ``no phone number`` problems, and the
problem of a value no contact holds (a control character or a huge field from a damaged
file, a spreadsheet formula).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from adapters.mapping import Mapping
from connector.model import KEY_POSITION, RawPhone, SourceRecord, preferred_first
from connector.phonetext import FLOAT_NUMBER, has_separator, split_numbers

#: Problem texts shared by every adapter (the planner and tests compare them).
NO_NAME = "no name"
NO_PHONE = "no phone number"
#: The longest name, phone value or key read: anything longer is a damaged file (a quote
#: left open, a photo in the wrong column), and would be slow to match and to show.
MAX_FIELD_CHARS = 1_000
# How much of an overlong name a rejected record keeps, to be recognised in a listing.
_SHOWN_CHARS = 60

# Labels of numbers nobody can call from a desk phone.
_NON_VOICE_WORDS = frozenset({"fax", "telefax", "facsimile", "pager", "beeper"})
# What Excel writes to CSV for a long number in a General cell: 7.7009E+09. Digits are gone.
_SCIENTIFIC = re.compile(r"^\d(?:[.,]\d+)?E\+\d+$", re.IGNORECASE)
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"))
# A decimal digit of any script (what str.isdecimal says): a phone value holds one.
_DIGIT = re.compile(r"\d")
# Control characters no name, number or key holds (NUL, escape, DEL...): a damaged field.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# What a spreadsheet runs when the cell is opened: "=...", or "+", "-" or "@" then a
# function or a DDE command ("+SUM(", "@HYPERLINK(", "-cmd|"). Written into the phonebook,
# it would run in every spreadsheet an export of it is opened in.
_FORMULA = re.compile(r"^\s*(?:=|[+\-@]\s*[A-Za-z_][\w.]*\s*[(|!])")
# A phone value that is one number as written, which every rule of _expand leaves as it
# is: ASCII digits, spaces and "()+.-" only (no separator of several numbers, no letter of
# a label, an extension or 1.2E+09, no control character, no formula), starting with a
# digit, "+" or "(" and ending with no space (nothing to strip), and not 7700900123.0.
_PLAIN_PHONE = re.compile(r"(?!\+?[0-9]+\.0+\Z)[+(]?[0-9](?:[0-9 ()+.-]*[0-9()+.-])?")


@dataclass(frozen=True, slots=True)
class ReadProgress:
    """How far the read of a slow source has come (a CRM's pages), for a progress view."""

    source: str
    pages: int
    records: int
    elapsed: float

    @property
    def rate(self) -> float:
        """Records per second so far."""
        return self.records / self.elapsed if self.elapsed > 0 else 0.0


class Source(Protocol):
    """An opened contact source.

    ``path`` is the file (or, for a CRM, the URL). ``messages`` are info lines for the
    user (the encoding and delimiter found, the preset recognised, the columns chosen);
    they are complete by the time :meth:`records` yields its first record. ``cut_short``
    says, once every record was read, whether the file looks truncated: its records are
    still given (the last one rejected), but a sync must not take a missing record for a
    deleted one.
    """

    format_name: ClassVar[str]
    messages: list[str]
    #: Why the file seems cut short (an export that stopped part way: a last row or card
    #: that ends early, with the file), or None; known once :meth:`records` has ended.
    cut_short: str | None

    @property
    def path(self) -> str | Path:
        """The file read, or the URL of a web source."""
        ...

    def __init__(
        self,
        path: str | Path,
        *,
        mapping: str | Path | Mapping | None = None,
        encoding: str | None = None,
        sheet: str | int | None = None,
        header_row: int | None = None,
    ) -> None:
        """Open ``path``; raise :class:`~connector.errors.SourceError` if it cannot be read.

        An adapter refuses, with :class:`~connector.errors.ConfigError`, the options that
        do not apply to its format (``sheet`` for CSV, ``mapping`` for vCard).
        """
        ...

    def records(self) -> Iterator[SourceRecord]:
        """Stream every record in file order; rejected ones carry ``problems``."""
        ...


def clean_name(name: str) -> str:
    """``name`` with invisible and control characters removed, whitespace collapsed."""
    return " ".join(_CONTROL.sub("", name.translate(_INVISIBLE)).split())


@functools.lru_cache(maxsize=1024)  # a table's labels are its few column headers
def is_non_voice(label: str) -> bool:
    """True for a fax or pager label (``Work Fax``, ``HomeFAX``, ``pager``)."""
    # Split camel case too: Apple writes "_$!<HomeFAX>!$_".
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", label)
    return any(word.casefold() in _NON_VOICE_WORDS for word in words)


def build_record(
    *,
    key: str,
    location: str,
    name: str,
    phones: Iterable[RawPhone],
    notes: Iterable[str] = (),
    problems: Iterable[str] = (),
    formulas_are_text: bool = False,
    key_kind: str = KEY_POSITION,
) -> SourceRecord:
    """A :class:`SourceRecord` with the rules every source shares applied.

    ``phones`` are raw values in the source's priority order. Each value is split if
    it holds several numbers, values with no digit at all are dropped with a note,
    fax and pager numbers are dropped with a note, and numbers marked preferred move
    to the front (keeping their order). ``no name`` and ``no phone number`` are added
    to ``problems`` when they apply. A name, number or key no contact could hold (one
    with a control character, or longer than :data:`MAX_FIELD_CHARS`: a damaged file;
    a spreadsheet formula) is a problem naming the field; an overlong name is cut short
    for display. ``formulas_are_text`` is for sources whose formula-like cells were
    escaped as text on the way out (sipalto-sync's own export, read with the ``sipalto``
    preset): there ``=HYPERLINK(...)`` is somebody's literal name, kept as it is.
    ``key_kind`` says what ``key`` is (:data:`connector.model.KEY_POSITION` and the others).
    """
    phones = tuple(phones)
    if _is_plain(key, name, phones, formulas_are_text):
        # Most records of a large file: nothing to refuse, split, skip or clean but spaces.
        # The rules below would give this very record, at several times the cost.
        problems_out = list(problems)
        if len(phones) > 1:
            phones = preferred_first(phones)
        name = " ".join(name.split())
        if not name:
            problems_out.append(NO_NAME)
        if not phones:
            problems_out.append(NO_PHONE)
        # Positional: a hundred thousand records are made twice as fast as with keywords.
        return SourceRecord(
            key, location, name, phones, tuple(problems_out), tuple(notes), key_kind
        )
    return _checked_record(
        key=key,
        location=location,
        name=name,
        phones=phones,
        notes=notes,
        problems=problems,
        formulas_are_text=formulas_are_text,
        key_kind=key_kind,
    )


def _is_plain(key: str, name: str, phones: tuple[RawPhone, ...], formulas_are_text: bool) -> bool:
    """Whether every rule of :func:`_checked_record` leaves the fields as they are: a
    printable key and name (no control or invisible character, no whitespace but spaces)
    of a sensible length that are no formula, and phone values each one plain number
    (:data:`_PLAIN_PHONE`) under a label that is not a fax's or a pager's."""
    if len(key) > MAX_FIELD_CHARS or len(name) > MAX_FIELD_CHARS:
        return False
    if not (key + name).isprintable():
        return False
    if not formulas_are_text and (is_formula(key) or is_formula(name)):
        return False
    return all(is_plain_phone(p.value) and not is_non_voice(p.label) for p in phones)


def is_plain_phone(value: str) -> bool:
    """Whether every rule of :func:`build_record` leaves the phone value ``value`` as it
    is: one number as written, of a sensible length, perhaps with words beside it that
    stay with it (``ext 204``, ``(mobile)``, ``tel:``)."""
    if len(value) > MAX_FIELD_CHARS:
        return False
    if _PLAIN_PHONE.fullmatch(value):  # most values: one expression says it
        return True
    return (
        value.isprintable()
        and value == value.strip()
        and not is_formula(value)
        and not has_separator(value)
        and _DIGIT.search(value) is not None
        and not _SCIENTIFIC.match(value)
        and not FLOAT_NUMBER.match(value)
    )


def is_formula(value: str) -> bool:
    """Whether a spreadsheet would run ``value`` as a formula (a problem of the record)."""
    return _FORMULA.match(value) is not None


def _checked_record(
    *,
    key: str,
    location: str,
    name: str,
    phones: Iterable[RawPhone],
    notes: Iterable[str],
    problems: Iterable[str],
    formulas_are_text: bool,
    key_kind: str,
) -> SourceRecord:
    """:func:`build_record` with every rule applied, one field at a time."""
    notes_out = list(notes)
    problems_out = list(problems)
    problems_out.extend(_damage("key", key, formulas_are_text))
    problems_out.extend(_damage("name", name, formulas_are_text))
    kept: list[RawPhone] = []
    refused = False
    for phone in phones:
        damage = _damage("phone value", phone.value, formulas_are_text)
        problems_out.extend(damage)
        refused = refused or bool(damage)
        if not damage:
            kept.extend(_expand(phone, notes_out))
    if len(name) > MAX_FIELD_CHARS:
        name = name[:_SHOWN_CHARS] + "…"
    name = clean_name(name)
    if not name:
        problems_out.append(NO_NAME)
    if not kept and not refused:
        problems_out.append(NO_PHONE)
    return SourceRecord(
        key=key,
        location=location,
        name=name,
        phones=preferred_first(kept),
        problems=tuple(problems_out),
        notes=tuple(notes_out),
        key_kind=key_kind,
    )


def _damage(what: str, value: str, formulas_are_text: bool = False) -> list[str]:
    """Why ``value`` cannot be a contact's name, number or key, if it cannot."""
    if len(value) > MAX_FIELD_CHARS:
        return [f"{what} is {len(value):,} characters long (at most {MAX_FIELD_CHARS:,})"]
    control = _CONTROL.search(value)
    if control:
        code = f"\\x{ord(control.group()):02x}"
        return [f"{what} holds the control character {code}: is the file damaged?"]
    if not formulas_are_text and _FORMULA.match(value):
        shown = value.strip()
        shown = shown if len(shown) <= _SHOWN_CHARS else shown[:_SHOWN_CHARS] + "…"
        return [f"{what} {shown!r} is a spreadsheet formula"]
    return []


def _expand(phone: RawPhone, notes: list[str]) -> list[RawPhone]:
    value = phone.value.strip()
    if not value:
        return []
    if is_non_voice(phone.label):
        notes.append(f"skipped {phone.label.strip()} number {value}")
        return []
    parts = split_numbers(value)
    if len(parts) > 1:
        notes.append(f"split {value!r} into {len(parts)} numbers")
    kept = []
    for part in parts:
        if not _DIGIT.search(part):
            notes.append(f"ignored phone value {part!r}: it has no digits")
            continue
        if _SCIENTIFIC.match(part):
            notes.append(
                f"ignored phone value {part!r}: a spreadsheet wrote it in scientific notation "
                "and its digits are lost; format the column as text and export again"
            )
            continue
        as_float = FLOAT_NUMBER.match(part)
        if as_float:
            notes.append(f"read {part} as {as_float.group(1)} (a number stored as a decimal)")
            part = as_float.group(1)
        kept.append(RawPhone(part, phone.label, phone.preferred))
    return kept
