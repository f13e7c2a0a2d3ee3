"""Matching: which phonebook contact, if any, is the same as a source record.

A wrong merge overwrites someone else's contact; a missed match creates a duplicate. Both
are defects, the first much worse, so an automatic match needs two kinds of evidence:

* a **shared number** (after normalising both sides), and
* **names that agree**: overall similarity at least ``match_name_score`` (a lower
  ``match_name_score_multi`` with two numbers in common) *and* no word pair less alike
  than ``word_floor``. "Jon Smith"/"John Smith" agree; "Jane Smith"/"John Smith" on a
  family landline do not, nor do two companies behind one switchboard.

One kind of evidence alone is never enough: a shared number with a different name, or a
close name with no shared number, goes to ``review`` when close and is otherwise a new
contact.

Candidates come from blocking, never from comparing everything with everything: contacts
sharing a normalised number, and, for records left without a match, contacts whose name
agrees on every word but one ("2|smith|j" is the key of "Jon Smith", "John Smith" and
"J Smith"), the odd words compared with rapidfuzz's ``ratio`` in one C call per block.
``WRatio`` is never used: it is far too slow for bulk work.

Assignment is one-to-one and greedy, strongest evidence first, so a phonebook contact is
updated by at most one record. A record whose match another record took is judged against
that contact as it will be once written: review while they still share a number, else a
new contact. Records repeating an earlier record are found the same way
(:func:`find_duplicates`) and merged into it before matching.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache

from rapidfuzz import fuzz, process

from connector.reconcile.names import name_tokens

__all__ = [
    "ADD",
    "DIFFERENT",
    "MATCH",
    "REVIEW",
    "Evidence",
    "MatchSettings",
    "Outcome",
    "Party",
    "compare",
    "find_duplicates",
    "make_party",
    "match_all",
    "name_similarity",
]

#: Verdicts of :func:`compare`; an :class:`Outcome` is ``MATCH``, ``REVIEW`` or ``ADD``.
MATCH = "match"
REVIEW = "review"
DIFFERENT = "different"
ADD = "add"

# An initial agrees with a word it begins ("J" and "John") almost as well as a typo does.
_INITIAL_SCORE = 90.0
# A word one name has and the other lacks ("John Smith" / "John Michael Smith") counts as a
# weak pair: enough to review, not enough to merge on its own.
_EXTRA_WORD_SCORE = 60.0
# Words that tell a parent from a child of the same name: never a match across them.
_GENERATIONS = frozenset({"jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv"})


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
            raise ValueError(f"unknown match settings: {', '.join(sorted(unknown))}")
        values: dict[str, float | int] = {}
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"match setting {key} must be a number")
            values[key] = int(value) if known[key] == "int" else float(value)
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Party:
    """What matching knows of one contact: its name words and its numbers.

    ``numbers`` is in priority order, a short tuple (membership tests on three items are
    as quick as a set's, and a set per contact costs memory at 100k contacts);
    ``sorted_key`` is the name words sorted, so "Smith John" equals "John Smith";
    ``name`` is the display name, which breaks ties between equally good candidates.
    """

    name: str
    tokens: tuple[str, ...]
    numbers: tuple[str, ...]
    sorted_key: str


def make_party(name: str, numbers: Iterable[str]) -> Party:
    """A :class:`Party` from a display name and normalised numbers."""
    tokens, sorted_key = _name_parts(name)
    ordered = tuple(dict.fromkeys(numbers))
    return Party(name, tokens, ordered, sorted_key)


@lru_cache(maxsize=1 << 18)
def _name_parts(name: str) -> tuple[tuple[str, ...], str]:
    tokens = name_tokens(name)
    return tokens, " ".join(sorted(tokens))


@dataclass(frozen=True, slots=True)
class Evidence:
    """How alike two parties are, what that means, and why, in a few words.

    ``score`` is the headline 0-100 figure shown to users: the name score when a number is
    shared, half of it when none is ("same name, no number in common" scores 50).
    """

    verdict: str
    score: float
    name_score: float
    weakest: float
    shared: tuple[str, ...]

    @property
    def reason(self) -> str:
        """A few words a person can check ("name alike (93), same number 07852902011")."""
        name = self.name_score
        if self.shared:
            number = _numbers_text(self.shared)
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


@dataclass(frozen=True, slots=True)
class Outcome:
    """What matching decided for one source record (indices into the inputs).

    ``verdict`` is ``"match"`` (``remote`` and ``evidence`` set), ``"review"``
    (``candidates`` best first) or ``"add"`` (``evidence``/``remote`` name the closest
    contact considered and dismissed, if any). ``duplicates`` are other phonebook contacts
    that match the record just as well and that nobody else matched: phonebook duplicates.
    ``taken`` lists candidates dismissed because another record matched them, as
    ``(remote, other source)`` pairs.
    """

    verdict: str
    remote: int | None = None
    evidence: Evidence | None = None
    candidates: tuple[tuple[int, Evidence], ...] = ()
    duplicates: tuple[tuple[int, Evidence], ...] = ()
    taken: tuple[tuple[int, int], ...] = ()


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
    if _GENERATIONS.intersection(a) != _GENERATIONS.intersection(b):
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
    shared = tuple(n for n in a.numbers if n in b.numbers)
    if a.sorted_key == b.sorted_key and a.tokens:
        name, weakest = 100.0, 100.0
    else:
        name, weakest = name_similarity(a.tokens, b.tokens)
    if shared:
        bar = settings.match_name_score if len(shared) == 1 else settings.match_name_score_multi
        if name >= bar and weakest >= settings.word_floor:
            return Evidence(MATCH, name, name, weakest, shared)
        if name >= settings.review_shared_score:
            return Evidence(REVIEW, name, name, weakest, shared)
        return Evidence(DIFFERENT, name, name, weakest, shared)
    verdict = REVIEW if name >= settings.review_name_score else DIFFERENT
    return Evidence(verdict, round(name * 0.5, 1), name, weakest, ())


def _numbers_text(numbers: Sequence[str]) -> str:
    if len(numbers) == 1:
        return f"number {numbers[0]}"
    return f"numbers {', '.join(numbers)}"


# -- blocking --------------------------------------------------------------------------------


class _RemoteIndex:
    """Blocking indexes over the phonebook: by number, and (built on first need) by name."""

    def __init__(self, parties: Sequence[Party], settings: MatchSettings) -> None:
        self._parties = parties
        self._cap = settings.max_postings
        self._by_number: dict[str, list[int]] = {}
        for index, party in enumerate(parties):
            for number in party.numbers:
                self._by_number.setdefault(number, []).append(index)
        self._review_score = settings.review_name_score
        self._by_name: dict[str, list[int]] | None = None
        self._blocks: dict[str, _Block] = {}
        self._crowded: dict[str, dict[str, list[int]]] = {}

    def by_number(self, party: Party) -> list[int]:
        """Contacts sharing a number; on a crowded number only those of the same name."""
        found: set[int] = set()
        for number in party.numbers:
            posting = self._by_number.get(number)
            if posting is None:
                continue
            if len(posting) > self._cap:
                posting = self._same_name_on(number).get(party.sorted_key, [])
            found.update(posting)
        return sorted(found)

    def by_name(self, party: Party, taken: Container[int]) -> list[int]:
        """Contacts whose name could reach ``review_name_score``: the same name, or one
        agreeing on every word but one, that one close enough (an initial, a typo).

        With words scored as in :func:`name_similarity`, a name of ``n`` words reaches
        the review score ``R`` with all but one word equal only if the odd pair scores at
        least ``n * R - (n - 1) * 100`` (80 for two words at the default 90), and names of
        different lengths or with two differing words fall short of the default.

        Contacts ``taken`` (matched by other records; fixed by the first call) are no
        candidates, so they are left out of the word blocks, which keeps them small; of
        them only namesakes are returned, for messages.
        """
        if self._by_name is None:
            self._build_name_index(taken)
        assert self._by_name is not None
        same_name = self._by_name.get(party.sorted_key, ())
        found = set(same_name if len(same_name) <= self._cap else same_name[: self._cap])
        count = len(party.tokens)
        floor = max(0.0, count * self._review_score - (count - 1) * 100.0)
        for key, word in _leave_one_out(party.tokens):
            block = self._blocks.get(key)
            if block is None or len(block.ids) > self._cap:
                continue
            if len(word) == 1:  # an initial agrees with every word it begins
                found.update(block.ids)
                continue
            found.update(block.initials)
            close = process.extract(
                word, block.words, scorer=fuzz.ratio, score_cutoff=floor, limit=None
            )
            found.update(block.ids[position] for _, _, position in close)
        return sorted(found)

    def _build_name_index(self, taken: Container[int]) -> None:
        self._by_name = {}
        for index, party in enumerate(self._parties):
            self._by_name.setdefault(party.sorted_key, []).append(index)
            if index in taken:
                continue
            for key, word in _leave_one_out(party.tokens):
                block = self._blocks.get(key)
                if block is None:
                    block = self._blocks[key] = _Block([], [], [])
                block.ids.append(index)
                block.words.append(word)
                if len(word) == 1:
                    block.initials.append(index)

    def _same_name_on(self, number: str) -> dict[str, list[int]]:
        crowd = self._crowded.get(number)
        if crowd is None:
            crowd = self._crowded[number] = {}
            for index in self._by_number[number]:
                crowd.setdefault(self._parties[index].sorted_key, []).append(index)
        return crowd


@dataclass(slots=True)
class _Block:
    """Phonebook names agreeing on all words but one: who they are, and that one word."""

    ids: list[int]
    words: list[str]
    initials: list[int]  # those whose odd word is a single letter


def _leave_one_out(tokens: Sequence[str]) -> list[tuple[str, str]]:
    """``{blocking key: left-out word}``: the word count, the other words sorted, and the
    left-out word's first letter ("2|smith|j" for "Jon Smith", "John Smith", "J Smith")."""
    ordered = sorted(tokens)
    if len(ordered) == 2:  # the common case, without the general loop
        first, second = ordered
        if first == second:
            return [(f"2|{first}|{first[0]}", first)]
        return [(f"2|{second}|{first[0]}", first), (f"2|{first}|{second[0]}", second)]
    keys: dict[str, str] = {}
    for i, word in enumerate(ordered):
        rest = " ".join(ordered[:i] + ordered[i + 1 :])
        keys.setdefault(f"{len(ordered)}|{rest}|{word[0]}", word)
    return list(keys.items())


# -- duplicates within the source --------------------------------------------------------------


def find_duplicates(
    parties: Sequence[Party | None], settings: MatchSettings
) -> dict[int, tuple[int, Evidence]]:
    """Source records that repeat an earlier one: ``{index: (first index, evidence)}``.

    A repeat is what would be an automatic match against the phonebook (a shared number
    and agreeing names). It is compared with the first record as merged so far, so a third
    record sharing a number only with the second is found too. ``None`` entries (rejected
    or decided records) take no part.
    """
    roots_by_number: dict[str, list[int]] = {}
    roots_by_name: dict[tuple[str, str], int] = {}
    merged: dict[int, Party] = {}  # a first record with its repeats' numbers
    repeats: dict[int, tuple[int, Evidence]] = {}

    def index_numbers(root: int, numbers: Iterable[str], sorted_key: str) -> None:
        for number in numbers:
            roots_by_number.setdefault(number, []).append(root)
            roots_by_name.setdefault((number, sorted_key), root)

    for index, party in enumerate(parties):
        if party is None:
            continue
        best: tuple[int, Evidence] | None = None
        for root in _earlier_roots(party, roots_by_number, roots_by_name, settings):
            evidence = compare(party, merged[root], settings)
            if evidence.verdict == MATCH and (best is None or evidence.score > best[1].score):
                best = (root, evidence)
        if best is None:
            merged[index] = party
            index_numbers(index, party.numbers, party.sorted_key)
            continue
        root = best[0]
        repeats[index] = best
        root_party = merged[root]
        new = [number for number in party.numbers if number not in root_party.numbers]
        if new:
            merged[root] = make_party(root_party.name, (*root_party.numbers, *new))
            index_numbers(root, new, root_party.sorted_key)
    return repeats


def _earlier_roots(
    party: Party,
    roots_by_number: Mapping[str, list[int]],
    roots_by_name: Mapping[tuple[str, str], int],
    settings: MatchSettings,
) -> list[int]:
    found: set[int] = set()
    for number in party.numbers:
        found.update(roots_by_number.get(number, ())[: settings.max_postings])
        same_name = roots_by_name.get((number, party.sorted_key))
        if same_name is not None:
            found.add(same_name)
    return sorted(found)


# -- matching records against the phonebook -----------------------------------------------------


def match_all(
    sources: Sequence[Party | None],
    remotes: Sequence[Party],
    settings: MatchSettings,
    pinned: Mapping[int, int] | None = None,
    settled: Callable[[int, int], Party] | None = None,
) -> list[Outcome | None]:
    """Match every source party against the phonebook, one-to-one.

    ``sources`` entries that are ``None`` are skipped (their outcome is ``None``).
    ``pinned`` maps a source index to the remote index a reviewer chose; pinned pairs are
    matched first and whatever else points at those contacts must do without them.

    A record whose match another record took is judged against that contact as it will
    be once the other record is written to it: ``settled(source, remote)`` gives that
    party (by default the contact as it is). So planning again after applying the plan
    reaches the same verdicts. Deterministic: ties are broken by source order, then by
    remote order.
    """
    pinned = dict(pinned or {})
    index = _RemoteIndex(remotes, settings)
    claimed: dict[int, int] = {}  # remote -> source
    for source, remote in sorted(pinned.items()):
        claimed.setdefault(remote, source)
    found: dict[int, list[tuple[int, Evidence]]] = {}
    strong: list[tuple[float, int, int, bool, int, int]] = []
    for i, party in enumerate(sources):
        if party is None or i in pinned:
            continue
        pairs = [(r, compare(party, remotes[r], settings)) for r in index.by_number(party)]
        found[i] = pairs
        # Strongest first; between equals, the contact whose numbers and name are already
        # the record's (so a contact a plan added goes back to its own record).
        strong.extend(
            (
                -ev.score,
                -len(ev.shared),
                len(party.numbers) + len(remotes[r].numbers) - 2 * len(ev.shared),
                remotes[r].name != party.name,
                i,
                r,
            )
            for r, ev in pairs
            if ev.verdict == MATCH
        )
    assigned: dict[int, int] = {}
    for *_, i, r in sorted(strong):
        if i not in assigned and r not in claimed:
            assigned[i] = r
            claimed[r] = i
    outcomes: list[Outcome | None] = [None] * len(sources)
    for i, party in enumerate(sources):
        if party is None:
            continue
        if i in pinned:
            r = pinned[i]
            outcomes[i] = Outcome(MATCH, r, compare(party, remotes[r], settings))
        elif i in assigned:
            outcomes[i] = _matched(assigned[i], found[i], claimed)
        else:
            pairs = [
                (r, compare(party, settled(claimed[r], r), settings))
                if settled is not None and r in claimed
                else (r, ev)
                for r, ev in found[i]
            ]
            taken_by_name: tuple[tuple[int, int], ...] = ()
            if not any(ev.verdict == MATCH for _, ev in pairs):
                # Looked for only now, with the matches known: a contact another record
                # matched shares no number with this one, so it cannot be this record's
                # match even once written; it is noted, not scored.
                known = {r for r, _ in pairs}
                for r in index.by_name(party, claimed):
                    if r in claimed:
                        if len(taken_by_name) < settings.max_candidates:  # only for messages
                            taken_by_name += ((r, claimed[r]),)
                    elif r not in known:
                        evidence = compare(party, remotes[r], settings)
                        if evidence.verdict == REVIEW:
                            pairs.append((r, evidence))
            pairs.sort(key=lambda pair: (-pair[1].score, pair[0]))
            outcomes[i] = _unmatched(pairs, claimed, settings, taken_by_name)
    return outcomes


def _matched(r: int, pairs: Sequence[tuple[int, Evidence]], claimed: Mapping[int, int]) -> Outcome:
    """The outcome of a record matched to ``r``; other contacts it matches as well and
    that nobody else took are phonebook duplicates of ``r``."""
    duplicates = tuple(
        (other, ev)
        for other, ev in sorted(pairs, key=lambda pair: (-pair[1].score, pair[0]))
        if ev.verdict == MATCH and other != r and other not in claimed
    )
    return Outcome(MATCH, r, dict(pairs)[r], duplicates=duplicates)


def _unmatched(
    pairs: list[tuple[int, Evidence]],
    claimed: Mapping[int, int],
    settings: MatchSettings,
    taken_by_name: tuple[tuple[int, int], ...],
) -> Outcome:
    """Review when a contact is close to this record, else a new contact.

    A contact another record took stays a candidate only while it shares a number with
    this record (judged as it will be once written): two records sharing a line and a
    close name may be one person. A namesake the other record accounts for is not.
    ``pairs`` are best first.
    """
    taken = tuple((r, claimed[r]) for r, _ in pairs if r in claimed) + taken_by_name
    candidates = tuple(
        (r, ev) for r, ev in pairs if ev.verdict != DIFFERENT and (r not in claimed or ev.shared)
    )
    if candidates:
        return Outcome(REVIEW, candidates=candidates[: settings.max_candidates], taken=taken)
    if pairs:
        r, closest = pairs[0]
        return Outcome(ADD, r, closest, taken=taken)
    return Outcome(ADD, taken=taken)
