"""A labelled set of matching cases: a source record, the phonebook it meets, and the truth.

Each :class:`Case` is one source record and the phonebook contact it is labelled against
(``same``: an automatic match with that contact is right; otherwise no automatic match
is), with other contacts around it: people on the same switchboard, like-named businesses
on other numbers, unrelated contacts. The set covers issue 14's examples
(``Harbour Dental`` / ``Harbour Dental (Leeds)``, ``Old Bakery, The`` / ``The Old Bakery``,
``Kestrel`` / ``Kestrel Joinery Ltd``, ``The Crown`` / ``The Crown at Wells``, ``Mill Race
Deli`` / ``Mill Race Delicatessen``), many generated variants of each shape, and the hard
negatives: a family landline, a switchboard shared by two companies, parent and child,
like names with no number in common, only a generic word in common, and a name contained
in two contacts on one number.

Deterministic: :func:`cases` gives the same list every time. Numbers are from Ofcom's
ranges for drama (0113 496 0xxx and the like), written differently on the two sides.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Case", "cases", "numbers"]

# Word lists read better as one string each than as a column of quoted words.
STEMS = (  # noqa: SIM905
    "Harbour|Kestrel|Mill Race|Old Bakery|Crown|Bluebell|Penrose|Ashdown|Greenway|Foxglove|"
    "Riverside|Hawthorn|Larkspur|Castlegate|Brambles|Oakwood|Willow Tree|Saltmarsh|Heron|"
    "Copper Kettle|Blackthorn|Marigold|Westbrook|Falcon|Lantern|Cobblestone|Thistle|Juniper|"
    "Highfield|Moorland|Kingfisher|Swan|Red Lion|Rose and Crown|Anchor|Nightingale|Elmtree|"
    "Stonebridge|Quayside|Orchard|Beacon|Ivy House|Meadowsweet|Tollgate|Wheatsheaf|Brackenridge|"
    "Northgate|Sandpiper|Wrenfield|Chestnut|Bramley|Holly Bush|Ravenscroft|Lighthouse|Cedar"
).split("|")
TRADES = (  # noqa: SIM905
    "Dental|Joinery|Plumbing|Electrical|Motors|Florist|Vets|Physiotherapy|Opticians|Roofing|"
    "Builders|Pharmacy|Print|Accountants|Solicitors|Kitchens|Glazing|Landscaping|Removals|"
    "Tiling|Decorators|Upholstery|Bookshop|Surveyors|Lettings|Chiropody|Catering|Cleaning"
).split("|")
TOWNS = (  # noqa: SIM905
    "Leeds York Wells Bath Harrogate Truro Ripon Whitby Kendal Ludlow Hexham Totnes Malton "
    "Frome Settle Skipton Thirsk Buxton Keswick Ilkley Otley Selby Penrith Louth"
).split()
FIRST = "John Jane Peter Sarah David Helen Priya Tom Aisha Gareth Niamh Ravi Emma".split()  # noqa: SIM905
LAST = "Smith Jones Patel Hale Wright Shah Evans Brown Clarke Hughes Ahmed Walsh".split()  # noqa: SIM905
# A longer word and the shorter forms people write for it (either side may use either).
ABBREVIATIONS = (
    ("Delicatessen", "Deli"),
    ("Brothers", "Bros"),
    ("Saint", "St"),
    ("Company", "Co"),
    ("and", "&"),
    ("Street", "St"),
    ("Centre", "Ctr"),
    ("Associates", "Assoc"),
    ("International", "Intl"),
)
# Ofcom's drama ranges: area code and the fixed part of the local number.
AREAS = (
    ("0113", "496 0"),
    ("0114", "496 0"),
    ("0115", "496 0"),
    ("0116", "496 0"),
    ("0117", "496 0"),
    ("0118", "496 0"),
    ("0121", "496 0"),
    ("0131", "496 0"),
    ("0141", "496 0"),
    ("0151", "496 0"),
    ("0161", "496 0"),
)


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled source record against a phonebook.

    ``record``/``contact`` are the two names; ``shared`` says whether they have a number in
    common; ``same`` whether an automatic match of the record with ``contact`` is right
    (``False``: no automatic match is right, with any contact). ``neighbours`` are other
    contacts on the same number (a switchboard, a family landline); ``others`` contacts on
    numbers of their own. ``kind`` names the shape, for the report.
    """

    kind: str
    record: str
    contact: str
    same: bool
    shared: bool = True
    neighbours: tuple[str, ...] = ()
    others: tuple[str, ...] = ()


ISSUE_EXAMPLES = (
    Case("qualifier", "Harbour Dental", "Harbour Dental (Leeds)", True),
    Case("article", "Old Bakery, The", "The Old Bakery", True),
    Case("trade added", "Kestrel", "Kestrel Joinery Ltd", True),
    Case("place added", "The Crown", "The Crown at Wells", True),
    Case("abbreviation", "Mill Race Deli", "Mill Race Delicatessen", True),
)

HARD_NEGATIVES = (
    Case("family landline", "Jane Smith", "John Smith", False),
    Case("family landline", "Smith", "John Smith", False, neighbours=("Jane Smith",)),
    Case("shared switchboard", "Beta Corp", "Acme Ltd", False),
    Case("shared switchboard", "Harbour Physio", "Harbour Dental", False),
    Case("parent and child", "John Smith", "John Smith Jr", False),
    Case("parent and child", "Peter Hale Snr", "Peter Hale", False),
    Case("parent and child", "Peter Hale", "Peter Hale Jr", False),
    Case("no shared number", "Kestrel", "Kestrel Joinery Ltd", False, shared=False),
    Case("no shared number", "The Crown", "The Crown at Wells", False, shared=False),
    Case("no shared number", "Harbour Dental", "Harbour Dental (Leeds)", False, shared=False),
    Case("generic only", "The", "The Crown", False),
    Case("generic only", "Reception", "Harbour Dental Reception", False),
    Case("generic only", "Office", "Kestrel Joinery Office", False),
    Case("generic only", "Restaurant", "Restaurant Katsu", False),
    Case("generic only", "The Office", "The Office at Mill Race", False),
    Case("generic only", "Main Reception", "Penrose Print Main Reception", False),
    Case(
        "two contain it",
        "Harbour Dental",
        "Harbour Dental (Leeds)",
        False,
        neighbours=("Harbour Dental (York)",),
    ),
    Case("two contain it", "Acme Lettings", "Acme", False, neighbours=("Acme Sales",)),
)


def cases(seed: int = 14, variants: int = 6) -> list[Case]:
    """The labelled set: the issue's examples, the hard negatives, and ``variants``
    generated cases of each shape per business stem (shuffled by ``seed``)."""
    rng = random.Random(seed)
    generated = list(_generated(rng, variants))
    return [*ISSUE_EXAMPLES, *HARD_NEGATIVES, *generated]


def _generated(rng: random.Random, variants: int) -> Iterator[Case]:
    shapes = (
        _qualifier,
        _trade_added,
        _article,
        _place_added,
        _abbreviated,
        _combined,
        _department,
        _generic_first,
        _person_qualifier,
        _typo,
        _reordered,
        _typo_contained,
        _family,
        _switchboard,
        _generation,
        _apart,
        _generic_only,
        _two_contain,
    )
    for shape in shapes:
        for _ in range(variants * 4):
            case = shape(rng)
            yield _swap(rng, case) if case.kind in _SWAPPABLE else case


# Shapes where it makes no difference which side is the source.
_SWAPPABLE = frozenset(
    {"qualifier", "trade added", "article", "place added", "abbreviation", "combined", "typo"}
)


def _swap(rng: random.Random, case: Case) -> Case:
    if rng.random() < 0.5:
        return case
    return Case(case.kind, case.contact, case.record, case.same, case.shared, case.neighbours)


def _business(rng: random.Random) -> str:
    return f"{rng.choice(STEMS)} {rng.choice(TRADES)}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _like_others(rng: random.Random, stem: str) -> tuple[str, ...]:
    """Like-named businesses on their own numbers, and someone unrelated."""
    trades = rng.sample(TRADES, 2)
    return (f"{stem} {trades[0]}", f"{stem} {trades[1]} ({rng.choice(TOWNS)})", _person(rng))


def _qualifier(rng: random.Random) -> Case:
    name = _business(rng)
    town = rng.choice(TOWNS)
    longer = rng.choice((f"{name} ({town})", f"{name} ({town} branch)", f"{name} - {town}"))
    return Case("qualifier", name, longer, True, others=_like_others(rng, name.split()[0]))


def _trade_added(rng: random.Random) -> Case:
    stem = rng.choice(STEMS)
    trade = rng.choice(TRADES)
    suffix = rng.choice(("Ltd", "Limited", "", "LLP", "& Co"))
    longer = f"{stem} {trade} {suffix}".strip()
    return Case("trade added", stem, longer, True, others=_like_others(rng, stem))


def _article(rng: random.Random) -> Case:
    name = rng.choice((rng.choice(STEMS), _business(rng)))
    shorter, longer = rng.choice(
        ((f"{name}, The", f"The {name}"), (name, f"The {name}"), (f"{name} The", name))
    )
    return Case("article", shorter, longer, True, others=_like_others(rng, name.split()[0]))


def _place_added(rng: random.Random) -> Case:
    stem = rng.choice(STEMS)
    town = rng.choice(TOWNS)
    longer = rng.choice((f"The {stem} at {town}", f"{stem} at {town}", f"The {stem}, {town}"))
    return Case("place added", f"The {stem}", longer, True, others=_like_others(rng, stem))


def _abbreviated(rng: random.Random) -> Case:
    long, short = rng.choice(ABBREVIATIONS)
    stem = rng.choice(STEMS)
    if long == "Saint":
        base = f"{long} {rng.choice(FIRST)}s {rng.choice(('Surgery', 'Church', 'School'))}"
    elif long == "Street":
        base = f"{stem} {long} {rng.choice(('Dental', 'Garage', 'Bakery'))}"
    elif long in ("and", "Brothers", "Company"):
        base = f"{rng.choice(LAST)} {long} {rng.choice(TRADES)}"
    else:
        base = f"{stem} {long}"
    shortened = base.replace(long, short, 1)
    return Case("abbreviation", shortened, base, True, others=_like_others(rng, stem))


def _combined(rng: random.Random) -> Case:
    stem = rng.choice(STEMS)
    town = rng.choice(TOWNS)
    shorter, longer = rng.choice(
        (
            (f"{stem} Deli", f"The {stem} Delicatessen ({town})"),
            (f"{stem}, The", f"The {stem} {rng.choice(TRADES)} Ltd"),
            (f"{stem} Bros", f"{stem} Brothers {rng.choice(TRADES)} ({town})"),
        )
    )
    return Case("combined", shorter, longer, True, others=_like_others(rng, stem))


def _department(rng: random.Random) -> Case:
    name = _business(rng)
    desk = rng.choice(("Reception", "Accounts", "Office", "Main Office", "Switchboard"))
    return Case("department", f"{name} {desk}", name, True, neighbours=(_person(rng),))


def _generic_first(rng: random.Random) -> Case:
    stem = rng.choice(STEMS)
    kind = rng.choice(("Restaurant", "Cafe", "Hotel", "The"))
    return Case("generic first", stem, f"{kind} {stem}", True, others=_like_others(rng, stem))


def _person_qualifier(rng: random.Random) -> Case:
    person = _person(rng)
    longer = rng.choice((f"{person} (Mobile)", f"{person} (Work)", f"Dr {person} PhD"))
    return Case("person qualifier", person, longer, True, others=(_person(rng),))


def _typo(rng: random.Random) -> Case:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    at = rng.randrange(1, len(last))
    typo = last[:at] + last[at + 1 :] if len(last) > 4 else last + last[-1]
    return Case("typo", f"{first} {typo}", f"{first} {last}", True)


def _reordered(rng: random.Random) -> Case:
    stem = rng.choice(STEMS)
    kind = rng.choice(("Cafe", "Bar", "Hotel", "Kitchen"))
    town = rng.choice(TOWNS)
    return Case("reordered", f"{kind} {stem} {town}", f"{stem} {kind} ({town})", True)


def _typo_contained(rng: random.Random) -> Case:
    stem = rng.choice([stem for stem in STEMS if len(stem) > 5 and " " not in stem])
    at = rng.randrange(1, len(stem) - 1)
    typo = stem[:at] + stem[at + 1 :]
    return Case("typo and trade", typo, f"{stem} {rng.choice(TRADES)} Ltd", True)


def _family(rng: random.Random) -> Case:
    last = rng.choice(LAST)
    first, second = rng.sample(FIRST, 2)
    return Case("family landline", f"{first} {last}", f"{second} {last}", False)


def _switchboard(rng: random.Random) -> Case:
    ours, theirs = rng.sample(STEMS, 2)
    trades = rng.sample(TRADES, 2)
    record, contact = (f"{ours} {trades[0]}", f"{theirs} {trades[1]}")
    if rng.random() < 0.5:  # two firms of one building: the same stem, other trades
        record, contact = f"{ours} {trades[0]}", f"{ours} {trades[1]} Ltd"
    return Case("shared switchboard", record, contact, False, neighbours=(_person(rng),))


def _generation(rng: random.Random) -> Case:
    person = _person(rng)
    tag = rng.choice(("Jr", "Jnr", "Junior", "Sr", "Snr", "Senior", "II"))
    older, younger = rng.choice(((person, f"{person} {tag}"), (f"{person} {tag}", person)))
    return Case("parent and child", older, younger, False)


def _apart(rng: random.Random) -> Case:
    stem = rng.choice(STEMS)
    longer = rng.choice(
        (f"{stem} {rng.choice(TRADES)} Ltd", f"{stem} ({rng.choice(TOWNS)})", f"The {stem}")
    )
    return Case("no shared number", stem, longer, False, shared=False)


def _generic_only(rng: random.Random) -> Case:
    name = _business(rng)
    generic = rng.choice(("Reception", "The Office", "Office", "Restaurant", "The", "Sales"))
    return Case("generic only", generic, f"{name} {generic}", False)


def _two_contain(rng: random.Random) -> Case:
    name = _business(rng)
    first, second = rng.sample(TOWNS, 2)
    if rng.random() < 0.5:
        return Case(
            "two contain it", name, f"{name} ({first})", False, neighbours=(f"{name} ({second})",)
        )
    stem = name.split()[0]
    trades = rng.sample(TRADES, 2)
    return Case(
        "two contain it", f"{stem} {trades[0]}", stem, False, neighbours=(f"{stem} {trades[1]}",)
    )


def numbers(rng: random.Random) -> Iterator[tuple[str, str]]:
    """Distinct drama-range numbers, each as the two sides write it
    (``0113 496 0123`` on one, ``+44 113 496 0123``, ``01134960123`` or ``(0113) 496 0123``
    on the other)."""
    for local in range(1000):
        for area, fixed in AREAS:
            rest = f"{fixed}{local:03d}"
            written = f"{area} {rest}"
            other = rng.choice(
                (f"+44 {area[1:]} {rest}", written.replace(" ", ""), f"({area}) {rest}")
            )
            yield written, other
