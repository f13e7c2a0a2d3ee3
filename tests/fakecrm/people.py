"""A deterministic book of UK contacts, written the way people type them into a CRM.

Every number is in an Ofcom drama range (020 7946 0xxx, 07700 900xxx), never a real one.
The first records are fixed edge cases whatever the seed (when the book is big enough):
accented names (Zoë, Siobhán), a company with no person, a person with no phone, a
person with several numbers, and the four ways of writing a number the issue names.
The rest are drawn from a seeded :class:`random.Random`, so a seed always gives the
same book.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

#: The phone kinds a vendor may hold: each vendor maps them to its own fields or labels.
KINDS = ("work", "mobile", "home", "other")


@dataclass(frozen=True)
class Phone:
    """One number as the person typed it, and what kind of number it is."""

    kind: str
    value: str


@dataclass(frozen=True)
class Person:
    """A contact before any vendor shapes it."""

    index: int
    first: str | None
    last: str | None
    company: str | None
    phones: tuple[Phone, ...]
    email: str | None

    @property
    def full_name(self) -> str | None:
        """First and last name joined, or ``None`` for a company-only record."""
        return " ".join(part for part in (self.first, self.last) if part) or None


FIRST_NAMES = (
    "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Mia", "Jack", "Grace",
    "Aoife", "Seán", "Chloé", "Dáithí", "Renée", "José", "Małgorzata", "Björn", "Zoë",
    "Siobhán", "Priya", "Mohammed", "Fatima", "Callum", "Eilidh", "Rhys", "Catrin",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts",
    "Khan", "Patel", "Singh", "Ó Briain", "MacLeod", "Nowak", "Davies", "O'Neill", "Ahmed",
    "Clarke", "Wright", "Llewellyn", "Ní Dhomhnaill", "Øvergaard", "Fitzgerald-Hughes",
)  # fmt: skip
COMPANIES = (
    "Harbour & Finch LLP", "Northgate Dental", "Brightwater Plumbing Ltd", "Kestrel Logistics",
    "Café Olé", "Marlow Estates", "St Anne's Surgery", "Greenfield Joinery", "Ashby & Co",
    "The Old Forge B&B", "Penrose Accountants", "Tŷ Coffi Cyf", "Riverside Vets",
)  # fmt: skip


def _landline(nnn: int, style: int) -> str:
    digits = f"{nnn:03d}"
    return (
        f"+44 20 7946 0{digits}",
        f"020 7946 0{digits}",
        f"(020) 7946-0{digits}",
        f"+442079460{digits}",
        f"02079460{digits}",
    )[style % 5]


def _mobile(nnn: int, style: int) -> str:
    digits = f"{nnn:03d}"
    return (
        f"07700 900{digits}",
        f"+447700900{digits}",
        f"+44 7700 900{digits}",
        f"07700900{digits}",
    )[style % 4]


def _fixed(kinds: Sequence[str]) -> list[tuple[str | None, str | None, str | None, list[Phone]]]:
    """The edge cases every book starts with; phones of kinds the vendor lacks are moved
    to a kind it has (a CRM with one phone field still gets a number)."""

    def fit(phones: list[Phone]) -> list[Phone]:
        fitted: list[Phone] = []
        for phone in phones:
            kind = phone.kind if phone.kind in kinds else None
            if kind is None or any(p.kind == kind for p in fitted):
                kind = next((k for k in kinds if all(p.kind != k for p in fitted)), None)
            if kind is not None:
                fitted.append(Phone(kind, phone.value))
        return fitted

    return [
        ("Zoë", "Whitfield", "Harbour & Finch LLP",
         fit([Phone("work", "+44 20 7946 0123"), Phone("mobile", "07700 900456")])),
        ("Siobhán", "O'Connor", None, fit([Phone("work", "(020) 7946-0999")])),
        (None, None, "Brightwater Plumbing Ltd", fit([Phone("mobile", "+447700900789")])),
        ("Ravi", "Patel", "Northgate Dental", []),
        ("Ffion", "Hughes", "Penrose Accountants",
         fit([Phone("work", "020 7946 0457"), Phone("mobile", "+44 7700 900321"),
              Phone("home", "02079460458"), Phone("other", "07700900654")])),
    ]  # fmt: skip


_FIXED_LANDLINES = {123, 999, 457, 458}
_FIXED_MOBILES = {456, 789, 321, 654}


def make_people(count: int, seed: int, kinds: Sequence[str] = KINDS) -> list[Person]:
    """``count`` contacts for a vendor that can hold phones of ``kinds``.

    Numbers are unique across the book until a pool of 1,000 runs out.
    """
    rng = random.Random(seed)
    landlines = [n for n in range(1000) if n not in _FIXED_LANDLINES]
    mobiles = [n for n in range(1000) if n not in _FIXED_MOBILES]
    rng.shuffle(landlines)
    rng.shuffle(mobiles)
    people: list[Person] = []
    for index, (first, last, company, phones) in enumerate(_fixed(kinds)[:count]):
        people.append(Person(index, first, last, company, tuple(phones), _email(first, last)))
    for index in range(len(people), count):
        people.append(_random_person(index, rng, kinds, landlines, mobiles))
    return people


def _email(first: str | None, last: str | None) -> str | None:
    if not first or not last:
        return None
    local = unicodedata.normalize("NFKD", f"{first}.{last}".lower())
    plain = local.encode("ascii", "ignore").decode().replace(" ", "").replace("'", "")
    return f"{plain}@example.co.uk"


def _random_person(
    index: int, rng: random.Random, kinds: Sequence[str], landlines: list[int], mobiles: list[int]
) -> Person:
    roll = rng.random()
    company = rng.choice(COMPANIES) if rng.random() < 0.6 else None
    if roll < 0.06:
        first, last, company = None, None, company or rng.choice(COMPANIES)
    elif roll < 0.10:
        first, last = None, rng.choice(LAST_NAMES)
    else:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    how_many = rng.choices((0, 1, 2, 3), weights=(10, 50, 30, 10))[0]
    chosen = rng.sample(list(kinds), min(how_many, len(kinds)))
    phones = []
    for kind in chosen:
        mobile = kind == "mobile" or (kind == "other" and rng.random() < 0.5)
        pool = mobiles if mobile else landlines
        nnn = pool.pop() if pool else rng.randrange(1000)
        style = rng.randrange(5)
        phones.append(Phone(kind, _mobile(nnn, style) if mobile else _landline(nnn, style)))
    return Person(index, first, last, company, tuple(phones), _email(first, last))
