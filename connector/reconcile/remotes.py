"""The phonebook as matching sees it: each contact's party and the numbers its slots hold.

The planner asks for a contact's party (display name, name words, numbers in Sipalto
form) and its slot numbers; :class:`Remotes` makes each on first use, so a nightly sync
whose records are all bound reads few of them. For a whole file against a large
phonebook, all of it is needed: :func:`prepare_phonebook` works the lot out at once, a
pure function of the contacts and the region, which :mod:`connector.reconcile.ahead` runs
in a second process while the planner reads the source's side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, Protocol

from connector.model import Contact, phonebook_fingerprint
from connector.reconcile.evidence import Party, make_party
from connector.reconcile.names import display_name
from connector.reconcile.phones import NormalisedPhones, PhoneNormaliser

__all__ = [
    "Ahead",
    "PreparedPhonebook",
    "Remotes",
    "id_order",
    "prepare_phonebook",
    "slot_numbers",
]


class PreparedPhonebook(NamedTuple):
    """Everything :class:`Remotes` would work out for a whole phonebook, in the order of
    :func:`id_order`: each contact's id (to check it is the same phonebook), party and
    slot numbers, and the phonebook's fingerprint."""

    ids: list[str]
    parties: list[Party]
    stored: list[tuple[str, ...]]
    fingerprint: str


class Ahead(Protocol):
    """Parts of a plan worked out elsewhere while the planner does the rest
    (:mod:`connector.reconcile.ahead`): the numbers of the records from ``records_from``
    on, and the phonebook's side. Each is asked for once, when the planner needs it, and
    may give None (then the planner works it out itself)."""

    @property
    def records_from(self) -> int:
        """The first record whose numbers :meth:`record_phones` gives."""
        ...

    def record_phones(self) -> list[NormalisedPhones] | None:
        """``normalise_record_phones`` of each record from ``records_from`` on."""
        ...

    def phonebook(self) -> PreparedPhonebook | None:
        """:func:`prepare_phonebook` of the contacts."""
        ...


def id_order(contact_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order ("9" before "10"), then any others as text."""
    if contact_id.isdigit():
        return (0, int(contact_id), contact_id)
    return (1, 0, contact_id)


def slot_numbers(phones: PhoneNormaliser, values: Sequence[str]) -> tuple[str, ...]:
    """Phone slots' numbers in Sipalto form, slot order, each once; a slot holding no number
    (``ask reception``) counts as its text, so it is kept by merge and seen by replace."""
    stored: dict[str, None] = {}
    for value in values:
        numbers = phones.numbers_in(value)
        if len(values) == 1 and numbers:
            return numbers  # most contacts: one slot holding one number
        for number in numbers or ((value.strip(),) if value.strip() else ()):
            stored[number] = None
    return tuple(stored)


def prepare_phonebook(contacts: Sequence[Contact], region: str) -> PreparedPhonebook:
    """Every contact's party and slot numbers, and the fingerprint, for ``contacts`` in
    :func:`id_order` (as the planner orders them)."""
    ordered = sorted(contacts, key=lambda contact: id_order(contact.id))
    remotes = Remotes(ordered, PhoneNormaliser(region))
    parties = list(remotes)
    stored = [remotes.stored(index) for index in range(len(ordered))]
    ids = [contact.id for contact in ordered]
    return PreparedPhonebook(ids, parties, stored, phonebook_fingerprint(ordered))


class Remotes:
    """The phonebook's contacts (in the planner's order) as matching sees them, each
    worked out on first use, or all at once from a :class:`PreparedPhonebook`.

    ``ahead`` gives the phonebook prepared elsewhere, or None when it could not be: it is
    asked once, on first use, and what it gives is used only if it is the same phonebook.
    """

    def __init__(
        self,
        contacts: Sequence[Contact],
        phones: PhoneNormaliser,
        ahead: Callable[[], PreparedPhonebook | None] | None = None,
    ) -> None:
        self._contacts = contacts
        self._phones = phones
        self._made: list[Party | None] = [None] * len(contacts)
        self._stored: list[tuple[str, ...] | None] = [None] * len(contacts)
        self._ahead = ahead
        self.fingerprint: str | None = None  # the prepared phonebook's, once taken

    def __len__(self) -> int:
        return len(self._contacts)

    def __getitem__(self, index: int) -> Party:
        if self._ahead is not None:
            self._take_ahead()
        party = self._made[index]
        if party is None:
            contact = self._contacts[index]
            party = make_party(display_name(contact.name), self._phones.numbers_of(contact.phones))
            self._made[index] = party
        return party

    def __iter__(self) -> Iterator[Party]:
        # The whole phonebook, for matching a file: one loop, no call per contact.
        if self._ahead is not None:
            self._take_ahead()
        made, numbers_of = self._made, self._phones.numbers_of
        for index, contact in enumerate(self._contacts):
            party = made[index]
            if party is None:
                name = display_name(contact.name)
                party = made[index] = make_party(name, numbers_of(contact.phones))
            yield party

    def stored(self, index: int) -> tuple[str, ...]:
        """The contact's slot numbers (:func:`slot_numbers`)."""
        if self._ahead is not None:
            self._take_ahead()
        stored = self._stored[index]
        if stored is None:
            stored = self._stored[index] = slot_numbers(self._phones, self._contacts[index].phones)
        return stored

    def _take_ahead(self) -> None:
        ahead, self._ahead = self._ahead, None
        prepared = ahead() if ahead is not None else None
        if prepared is None or len(prepared.ids) != len(self._contacts):
            return
        if any(a != b.id for a, b in zip(prepared.ids, self._contacts, strict=True)):
            return  # not this phonebook: everything is worked out here instead
        self._made = list(prepared.parties)
        self._stored = list(prepared.stored)
        self.fingerprint = prepared.fingerprint
