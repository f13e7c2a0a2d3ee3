"""Domain values shared by every part of sipalto-sync.

All of them are frozen dataclasses: they are passed between the pure planner and
the I/O edges and must not change under anyone's feet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from connector.frozen import quick_init

#: Sipalto stores at most three numbers per contact.
MAX_PHONES = 3

#: What a :class:`SourceRecord`'s key is (``SourceRecord.key_kind``). A ``position`` key
#: (``row:17``, ``card:3``) says only where the record sits, and moves when rows are added or
#: removed; a ``source_id`` is the source's own id for the record (a mapping's key column, a
#: vCard UID), so two records with different ones are different records; a ``phonebook_id``
#: is the Sipalto contact id itself (sipalto-sync's own export, read with the ``sipalto``
#: preset), so the record *is* that contact.
KEY_POSITION = "position"
KEY_SOURCE_ID = "source_id"
KEY_PHONEBOOK_ID = "phonebook_id"


@quick_init
@dataclass(frozen=True, slots=True)
class ContactFields:
    """The writable part of a phonebook contact: its name and three phone slots.

    What a plan says a contact holds and should hold (``before``, ``after``), and what an
    add or update sends. A :class:`Contact` is these fields plus the id Sipalto gave
    them (:attr:`Contact.fields`). An empty slot is ``""``.
    """

    name: str
    phone1: str = ""
    phone2: str = ""
    phone3: str = ""

    @classmethod
    def make(cls, name: str, phones: Sequence[str]) -> ContactFields:
        """Fields from a name and up to three numbers (empty slots are ``""``)."""
        slots = [*phones[:MAX_PHONES], "", "", ""][:MAX_PHONES]
        return cls(name, *slots)

    @property
    def phones(self) -> tuple[str, ...]:
        """The non-empty phone slots, in slot order."""
        return tuple(filter(None, (self.phone1, self.phone2, self.phone3)))

    def to_json(self) -> dict[str, str]:
        """``{name, phone1, phone2, phone3}``, as the plan file and the API write them."""
        return {
            "name": self.name,
            "phone1": self.phone1,
            "phone2": self.phone2,
            "phone3": self.phone3,
        }


@quick_init
@dataclass(frozen=True, slots=True)
class Contact:
    """A global phonebook contact exactly as the Sipalto API holds it: an id and its
    :class:`ContactFields`, flat, as the API sends them.

    Ids are strings (the API sends them quoted); an empty phone slot is ``""``.
    """

    id: str
    name: str
    phone1: str = ""
    phone2: str = ""
    phone3: str = ""

    @property
    def fields(self) -> ContactFields:
        """The writable part, exactly as stored."""
        return ContactFields(self.name, self.phone1, self.phone2, self.phone3)

    @property
    def phones(self) -> tuple[str, ...]:
        """The non-empty phone slots, in slot order."""
        # Read for every contact of a plan: straight from the slots, no ContactFields.
        return tuple(filter(None, (self.phone1, self.phone2, self.phone3)))

    def to_dict(self) -> dict[str, str]:
        """The API's own JSON shape, ``{id, name, phone1, phone2, phone3}``."""
        return {"id": self.id, **self.fields.to_json()}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Contact:
        """Build from the API's JSON; numbers and ``None`` are tolerated and made strings."""

        def text(key: str) -> str:
            value = data.get(key)
            return "" if value is None else str(value)

        return cls(
            id=text("id"),
            name=text("name"),
            phone1=text("phone1"),
            phone2=text("phone2"),
            phone3=text("phone3"),
        )


@dataclass(frozen=True, slots=True)
class Call:
    """One answered call from the call history."""

    call_id: str
    caller: str
    callee: str
    direction: str  # "IN", "OUT" or "LOCAL"
    disposition: str
    date: datetime
    duration: int  # seconds


@dataclass(frozen=True, slots=True)
class TranscriptSegment:
    """One segment of a call transcription. ``start``/``end`` are in milliseconds."""

    call_id: str
    speaker: str
    start_ms: float
    end_ms: float
    text: str
    reid: str = ""


@quick_init
@dataclass(frozen=True, slots=True)
class RawPhone:
    """A phone value as the source wrote it, not normalised, with its label if any."""

    value: str
    label: str = ""
    preferred: bool = False


def preferred_first(phones: Iterable[RawPhone]) -> tuple[RawPhone, ...]:
    """``phones`` with those flagged ``preferred`` (vCard ``TYPE=pref``) first, each group
    in source order: the one order every reader and the normaliser give a record's numbers."""
    return tuple(sorted(phones, key=_not_preferred))


def _not_preferred(phone: RawPhone) -> bool:
    return not phone.preferred


@quick_init
@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One contact read from a source (a CSV row, a spreadsheet row, a vCard, a CRM record).

    ``key`` identifies the record across runs (the mapping's key field, else a
    deterministic one such as ``row:17``); ``location`` is for messages
    (``contacts.csv:17``, ``book.xlsx Sheet1!row 17``, ``phones.vcf card 3``). ``phones`` keeps
    the source's priority order. ``problems`` lists why the record cannot be used
    as it stands (no name, no number); a record with problems is still yielded so
    the plan can report it as rejected, never dropped silently. ``notes`` are
    harmless remarks worth showing (a split cell, a skipped fax number). ``key_kind`` says
    what the key is (:data:`KEY_POSITION`, :data:`KEY_SOURCE_ID`, :data:`KEY_PHONEBOOK_ID`).
    """

    key: str
    location: str
    name: str
    phones: tuple[RawPhone, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    key_kind: str = KEY_POSITION

    @property
    def ok(self) -> bool:
        """True when nothing stops the record from being planned."""
        return not self.problems


def phonebook_fingerprint(contacts: Iterable[Contact]) -> str:
    """A digest of a whole phonebook, to tell whether it changed between two reads.

    Order-independent (sorted by id) and over the exact stored values.
    """
    ordered = sorted(contacts, key=lambda c: (c.id, c.name))
    # The bytes of json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",",
    # ":")) of each contact's to_dict(), which plans saved earlier carry, ten times as
    # fast and with no dict per contact: msgspec writes a dataclass as an object of its
    # fields in order, which is sorted order, and strings as json does (the tests pin it).
    raw = msgspec.json.encode(ordered)
    return "sha256:" + hashlib.sha256(raw).hexdigest()
