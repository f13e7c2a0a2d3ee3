"""Evidence: how alike a source record and a phonebook contact are, and what that means.

A wrong merge overwrites someone else's contact; a missed match creates a duplicate. Both
are defects, the first much worse, so an automatic match needs two kinds of evidence:

* a **shared number** (after normalising both sides), and
* **names that agree**: overall similarity at least ``match_name_score`` (a lower
  ``match_name_score_multi`` with two numbers in common) *and* no word pair less alike
  than ``word_floor``. "Jon Smith"/"John Smith" agree; "Jane Smith"/"John Smith" on a
  family landline do not, nor do two companies behind one switchboard.

A shared number with one name inside the other is the same contact too, though the
names score lower ("Kestrel" / "Kestrel Joinery Ltd", "Harbour Dental" / "Harbour Dental
(Leeds)", "Mill Race Deli" / "Mill Race Delicatessen": see
:func:`~connector.reconcile.names.containment`), provided the shorter name has a
distinctive word and no other contact on that number is as close (:func:`without_rivals`).

One kind of evidence alone is never enough: a shared number with a different name, or a
close name with no shared number, goes to ``review`` when close and is otherwise a new
contact. :func:`compare` gives that verdict for one pair; :mod:`connector.reconcile.matching`
decides for a whole source.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz

from connector.reconcile.names import (
    GENERATIONS,
    Containment,
    carries,
    containment,
    core_words,
    name_tokens,
)

__all__ = [
    "DIFFERENT",
    "MATCH",
    "REVIEW",
    "Evidence",
    "MatchSettings",
    "Party",
    "compare",
    "make_party",
    "name_similarity",
    "without_rivals",
]

#: Verdicts of :func:`compare`.
MATCH = "match"
REVIEW = "review"
DIFFERENT = "different"

# An initial agrees with a word it begins ("J" and "John") almost as well as a typo does.
_INITIAL_SCORE = 90.0
# A word one name has and the other lacks ("John Smith" / "John Michael Smith") counts as a
# weak pair: enough to review, not enough to merge on its own.
_EXTRA_WORD_SCORE = 60.0
# How the reason tells one name sitting in another (names.Containment.how).
_CONTAINED = {"contained": "is contained in", "abbreviated": "is short for", "article": "is"}


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Thresholds of the matcher, all on a 0-100 scale.

    ``match_name_score`` (88): with at least one shared number, names this similar or more
    are the same contact, provided every word pair is at least ``word_floor`` (80) alike.
    "Jon Smith"/"John Smith" scores 93 (weakest pair 86) and matches; "Jane Smith"/"John
    Smith" scores 75 (weakest 50) and does not.

    ``match_name_score_multi`` (80): with two or more numbers in common, this lower bar
    suffices (the word floor still applies): "Rajesh Kumar Patel" and "Rajesh Patel" sharing
    mobile and landline score 86.7 and are one person; "Bob Jones"/"Robert Jones" are not.

    ``review_shared_score`` (50): with a shared number, names below the match rule but at
    least this similar go to review; below it the number is taken as a shared line
    (switchboard, family landline) and the record is added as a new contact.

    ``review_name_score`` (90): with no shared number, names this similar go to review
    ("same name, different number"); otherwise the record is new.

    ``max_postings`` (200): a blocking key (a number, a name word) shared by more contacts
    than this is too common to pick candidates by; only exact name equality is used there.

    ``max_candidates`` (5): at most this many candidates are listed on a review item.
    """

    match_name_score: float = 88.0
    match_name_score_multi: float = 80.0
    word_floor: float = 80.0
    review_shared_score: float = 50.0
    review_name_score: float = 90.0
    max_postings: int = 200
    max_candidates: int = 5

    def __post_init__(self) -> None:
        scores = ("match_name_score", "match_name_score_multi", "word_floor")
        for name in (*scores, "review_shared_score", "review_name_score"):
            if not 0 <= getattr(self, name) <= 100:
                raise ValueError(f"{name} must be between 0 and 100")
        if self.review_shared_score > min(self.match_name_score, self.match_name_score_multi):
            raise ValueError("review_shared_score must not exceed the match scores")
        if self.max_postings < 1 or self.max_candidates < 1:
            raise ValueError("max_postings and max_candidates must be at least 1")

    def to_json(self) -> dict[str, float | int]:
        """The thresholds as a JSON object (kept in the plan's settings)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> MatchSettings:
        """Thresholds from a JSON object; unknown keys are an error, missing ones default."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(f"unknown match settings: {', '.join(map(repr, sorted(unknown)))}")
        values: dict[str, float | int] = {}
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"match setting {key} must be a number")
            try:
                finite = math.isfinite(value)
            except OverflowError:  # an integer of hundreds of digits
                finite = False
            if not finite:
                raise ValueError(f"match setting {key} must be a finite number")
            values[key] = int(value) if known[key] == "int" else float(value)
        return cls(**values)  # type: ignore[arg-type]


class Party(NamedTuple):
    """What matching knows of one contact: its name words and its numbers.

    ``numbers`` is in priority order, a short tuple (membership tests on three items are
    as quick as a set's, and a set per contact costs memory at 100k contacts);
    ``sorted_key`` is the name words sorted, so "Smith John" equals "John Smith";
    ``name`` is the display name, which breaks ties between equally good candidates.

    A named tuple, not a frozen dataclass: a plan makes one per record and per contact,
    and a tuple is made three times as fast.
    """

    name: str
    tokens: tuple[str, ...]
    numbers: tuple[str, ...]
    sorted_key: str


def make_party(name: str, numbers: Iterable[str]) -> Party:
    """A :class:`Party` from a display name and normalised numbers."""
    tokens, sorted_key = _name_parts(name)
    if isinstance(numbers, tuple) and len(numbers) < 2:
        return Party(name, tokens, numbers, sorted_key)  # nothing to repeat
    return Party(name, tokens, tuple(dict.fromkeys(numbers)), sorted_key)


@lru_cache(maxsize=1 << 18)
def _name_parts(name: str) -> tuple[tuple[str, ...], str]:
    tokens = name_tokens(name)
    return tokens, " ".join(sorted(tokens))


class Evidence(NamedTuple):
    """How alike two parties are, what that means, and why, in a few words.

    ``score`` is the headline 0-100 figure shown to users: the name score when a number is
    shared, half of it when none is ("same name, no number in common" scores 50).
    ``contained`` is set when a shared number and one name inside the other make the
    verdict; ``rival`` when another contact on the number was as close, which turned a
    match into a review (:func:`without_rivals`).

    A named tuple: a plan weighs one or more for every record.
    """

    verdict: str
    score: float
    name_score: float
    weakest: float
    shared: tuple[str, ...]
    contained: Containment | None = None
    rival: bool = False

    @property
    def reason(self) -> str:
        """A few words a person can check ("name alike (93), same number 07852902011")."""
        name = self.name_score
        if self.shared:
            number = _numbers_text(self.shared)
            rival = ", but another contact on that number is as close" if self.rival else ""
            if self.contained is not None:
                held = self.contained
                how = _CONTAINED[held.how]
                if held.how == "article":
                    how_text = f"'{held.shorter}' {how} '{held.longer}' without the article"
                else:
                    how_text = f"'{held.shorter}' {how} '{held.longer}'"
                head = "same" if self.verdict == MATCH else "shares"
                return f"{head} {number}; {how_text}{rival}"
            if self.rival:
                return f"name alike ({name:g}), same {number}{rival}"
            if self.verdict == MATCH:
                what = "same name" if name == 100 else f"name alike ({name:g})"
                return f"{what}, same {number}"
            if self.verdict == REVIEW:
                return f"shares {number} but the name differs ({name:g})"
            return f"shares {number} but the name is different ({name:g}): a shared line"
        if self.verdict == REVIEW:
            what = "same name" if name == 100 else f"similar name ({name:g})"
            return f"{what}, no number in common"
        return "no number in common"


# -- comparing two parties --------------------------------------------------------------------


def name_similarity(a: Sequence[str], b: Sequence[str]) -> tuple[float, float]:
    """``(score, weakest)`` for two names' words, each 0-100.

    Words are paired best-first regardless of order; ``score`` is the mean over the longer
    name (an unpaired word counts as a weak pair) and ``weakest`` the least alike pair, so
    one wrong first name is not averaged away by a shared surname.
    """
    if a == b or sorted(a) == sorted(b) or "".join(a) == "".join(b):
        return (100.0, 100.0) if a else (0.0, 0.0)
    if not a or not b:
        return 0.0, 0.0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    pairs = sorted(
        ((_word_similarity(x, y), i, j) for i, x in enumerate(short) for j, y in enumerate(long)),
        reverse=True,
    )
    used_short: set[int] = set()
    used_long: set[int] = set()
    scores: list[float] = []
    for score, i, j in pairs:
        if i not in used_short and j not in used_long:
            used_short.add(i)
            used_long.add(j)
            scores.append(score)
    total = sum(scores) + _EXTRA_WORD_SCORE * (len(long) - len(short))
    weakest = min(scores)
    if GENERATIONS.intersection(a) != GENERATIONS.intersection(b):
        weakest = 0.0  # "John Smith" and "John Smith Jr" may share a home, not a contact
    return round(total / len(long), 1), round(weakest, 1)


def _word_similarity(x: str, y: str) -> float:
    if x == y:
        return 100.0
    if len(x) == 1 or len(y) == 1:
        return _INITIAL_SCORE if x[0] == y[0] else 0.0
    return fuzz.ratio(x, y)


def compare(a: Party, b: Party, settings: MatchSettings) -> Evidence:
    """The evidence that ``a`` and ``b`` are the same contact, with a verdict."""
    shared: tuple[str, ...]
    if len(a.numbers) == 1:  # most records
        shared = a.numbers if a.numbers[0] in b.numbers else ()
    else:
        shared = tuple(n for n in a.numbers if n in b.numbers)
    if a.sorted_key == b.sorted_key and a.tokens:
        name, weakest = 100.0, 100.0
    else:
        name, weakest = name_similarity(a.tokens, b.tokens)
    if shared:
        bar = settings.match_name_score if len(shared) == 1 else settings.match_name_score_multi
        if name >= bar and weakest >= settings.word_floor:
            return Evidence(MATCH, name, name, weakest, shared)
        held = containment(a.name, b.name)
        if held is not None:
            return Evidence(MATCH, name, name, weakest, shared, held)
        if name >= settings.review_shared_score:
            return Evidence(REVIEW, name, name, weakest, shared)
        return Evidence(DIFFERENT, name, name, weakest, shared)
    verdict = REVIEW if name >= settings.review_name_score else DIFFERENT
    return Evidence(verdict, round(name * 0.5, 1), name, weakest, ())


def without_rivals(
    pairs: Sequence[tuple[int, Evidence]], party_of: Callable[[int], Party]
) -> list[tuple[int, Evidence]]:
    """``pairs`` (one record's evidence against contacts sharing a number with it, keyed
    by ``party_of``'s index) with each match that another of those contacts is as close
    to turned into a review.

    A match by one name inside the other has a rival in any other contact that carries the
    shorter name's distinctive words ("Harbour Dental" in both "Harbour Dental (Leeds)" and
    "Harbour Dental (York)"; "Acme" of "Acme Lettings" in "Acme Sales" too). Any other match
    has one in a match as strong with another name ("Mill Race Solicitors" between two
    branches in brackets); the same name twice is a phonebook duplicate, not a rival.
    """
    if len(pairs) < 2 or all(evidence.verdict != MATCH for _, evidence in pairs):
        return list(pairs)
    settled = []
    for r, evidence in pairs:
        if evidence.verdict == MATCH and _has_rival(r, evidence, pairs, party_of):
            evidence = evidence._replace(verdict=REVIEW, rival=True)
        settled.append((r, evidence))
    return settled


def _has_rival(
    r: int,
    evidence: Evidence,
    pairs: Sequence[tuple[int, Evidence]],
    party_of: Callable[[int], Party],
) -> bool:
    if evidence.contained is not None:
        wanted = evidence.contained.distinctive
        return any(o != r and carries(core_words(party_of(o).name), wanted) for o, _ in pairs)
    key = party_of(r).sorted_key
    return any(
        o != r
        and other.verdict == MATCH
        and other.score == evidence.score
        and party_of(o).sorted_key != key
        for o, other in pairs
    )


def _numbers_text(numbers: Sequence[str]) -> str:
    if len(numbers) == 1:
        return f"number {numbers[0]}"
    return f"numbers {', '.join(numbers)}"
