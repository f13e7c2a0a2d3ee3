"""Matching: which phonebook contact, if any, is the same as each source record.

The evidence for one pair is :mod:`connector.reconcile.evidence`'s; the candidates worth
comparing come from :mod:`connector.reconcile.blocking`. This module decides for a whole
source.

Assignment is one-to-one and greedy, strongest evidence first, so a phonebook contact is
updated by at most one record. A contact another record takes is nobody's rival
(:func:`~connector.reconcile.evidence.without_rivals`): the records it held back are judged
again without it. A record whose match another record took is judged against that contact
as it will be once written: review while they still share a number, else a new contact.
Records repeating an earlier record are found the same way (:func:`find_duplicates`) and
merged into it before matching; records with an earlier record's name and none of its
numbers are found by :func:`find_namesakes`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from itertools import chain
from typing import NamedTuple

from connector.reconcile.blocking import RemoteIndex
from connector.reconcile.evidence import (
    DIFFERENT,
    MATCH,
    REVIEW,
    Evidence,
    MatchSettings,
    Party,
    compare,
    make_party,
    without_rivals,
)

__all__ = ["ADD", "Outcome", "find_duplicates", "find_namesakes", "match_all"]

#: The verdict of an :class:`Outcome` that makes a new contact (besides ``MATCH`` and
#: ``REVIEW``).
ADD = "add"


class Outcome(NamedTuple):
    """What matching decided for one source record (indices into the inputs).

    ``verdict`` is ``"match"`` (``remote`` and ``evidence`` set), ``"review"``
    (``candidates`` best first) or ``"add"`` (``evidence``/``remote`` name the closest
    contact considered and dismissed, if any). ``duplicates`` are other phonebook contacts
    that match the record just as well and that nobody else matched: phonebook duplicates.
    ``taken`` lists candidates dismissed because another record matched them, as
    ``(remote, other source)`` pairs. A named tuple: one per record of a plan.
    """

    verdict: str
    remote: int | None = None
    evidence: Evidence | None = None
    candidates: tuple[tuple[int, Evidence], ...] = ()
    duplicates: tuple[tuple[int, Evidence], ...] = ()
    taken: tuple[tuple[int, int], ...] = ()


# -- duplicates within the source --------------------------------------------------------------


def find_duplicates(
    parties: Sequence[Party | None], settings: MatchSettings, firsts: Container[int] = ()
) -> dict[int, tuple[int, Evidence]]:
    """Source records that repeat an earlier one: ``{index: (first index, evidence)}``.

    A repeat is what would be an automatic match against the phonebook (a shared number
    and agreeing names). It is compared with the first record as merged so far, so a third
    record sharing a number only with the second is found too. ``None`` entries (rejected
    or decided records) take no part; ``firsts`` (records a sync binds to their contacts)
    are never repeats, only first records.
    """
    roots_by_number: dict[str, list[int]] = {}
    roots_by_name: dict[tuple[str, str], int] = {}
    merged: dict[int, Party] = {}  # a first record with its repeats' numbers
    repeats: dict[int, tuple[int, Evidence]] = {}

    def index_numbers(root: int, numbers: Iterable[str], sorted_key: str) -> None:
        for number in numbers:
            roots_by_number.setdefault(number, []).append(root)
            roots_by_name.setdefault((number, sorted_key), root)

    # A record none of whose numbers another record has is neither a repeat nor anybody's
    # first record (a first record takes in only its repeats' numbers, and they share one
    # with it): most records of a file. Only the others are gone through, in order.
    counts = Counter(chain.from_iterable(party.numbers for party in parties if party is not None))
    shared = {number for number, count in counts.items() if count > 1}
    for index, party in enumerate(parties):
        if party is None or shared.isdisjoint(party.numbers):
            continue
        best: tuple[int, Evidence] | None = None
        earlier = (
            ()
            if index in firsts
            else _earlier_roots(party, roots_by_number, roots_by_name, settings)
        )
        if not earlier:  # most records: nothing before them shares a number
            merged[index] = party
            index_numbers(index, party.numbers, party.sorted_key)
            continue
        pairs = [(root, compare(party, merged[root], settings)) for root in earlier]
        for root, evidence in without_rivals(pairs, merged.__getitem__):
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
        roots = roots_by_number.get(number)
        if roots is None:  # most records: no earlier one has the number (nor, so, its name)
            continue
        found.update(roots[: settings.max_postings])
        same_name = roots_by_name.get((number, party.sorted_key))
        if same_name is not None:
            found.add(same_name)
    return sorted(found) if found else []


def find_namesakes(parties: Sequence[Party | None], keyed: Sequence[bool]) -> dict[int, int]:
    """Records with an earlier record's name and no number in common with it:
    ``{index: first index}``.

    Run on what :func:`find_duplicates` leaves (repeats gone, first records holding their
    repeats' numbers). "The same name" is the same name words in any order, as
    :func:`~connector.reconcile.evidence.compare` sees a perfect name score. Two records
    whose keys are both ids (``keyed``: the source's own or the phonebook's, not a row
    number) are different records by the source's word and are not reported. Linear: one
    dict by name, no pairwise comparison. ``None`` entries take no part.
    """
    first_by_name: dict[str, int] = {}
    found: dict[int, int] = {}
    for index, party in enumerate(parties):
        if party is None or not party.sorted_key:
            continue
        first = first_by_name.setdefault(party.sorted_key, index)
        earlier = parties[first]
        if first == index or earlier is None or (keyed[index] and keyed[first]):
            continue
        if any(number in earlier.numbers for number in party.numbers):
            continue  # a shared line too: matching judges it like any other pair
        found[index] = first
    return found


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
    matched first and whatever else points at those contacts must do without them. A pin
    whose source is ``None`` only claims its contact (a record already decided, such as one
    keyed by the contact's id): it gets no outcome.

    A record whose match another record took is judged against that contact as it will
    be once the other record is written to it: ``settled(source, remote)`` gives that
    party (by default the contact as it is). So planning again after applying the plan
    reaches the same verdicts. For the same reason a contact another record takes (pinned,
    or won in the assignment) is no rival to the rest: the next run, with that record bound
    to it, will not see it. Deterministic: ties are broken by source order, then by remote
    order.
    """
    pinned = dict(pinned or {})
    index = RemoteIndex(remotes, settings)
    claimed: dict[int, int] = {}  # remote -> source
    for source, remote in sorted(pinned.items()):
        claimed.setdefault(remote, source)
    found: dict[int, list[tuple[int, Evidence]]] = {}
    # Records a rival held back, with their evidence before the rival rule (kept so they
    # can be judged again without comparing again).
    rivalled: dict[int, tuple[Party, list[tuple[int, Evidence]]]] = {}
    waiting: dict[int, list[int]] = {}  # remote -> rivalled records comparing it
    strong: list[_Strength] = []
    for i, party in enumerate(sources):
        if party is None or i in pinned:
            continue
        raw = [(r, compare(party, remotes[r], settings)) for r in index.by_number(party)]
        if len(raw) < 2:  # most records: one contact on their numbers, or none; no rival
            found[i] = raw
            if raw:
                strong.extend(_strengths(i, party, raw, remotes))
            continue
        found[i] = pairs = _judged(raw, claimed, remotes)
        strong.extend(_strengths(i, party, pairs, remotes))
        if any(ev.rival for _, ev in pairs):
            rivalled[i] = (party, raw)
            for r, _ in raw:
                waiting.setdefault(r, []).append(i)
    assigned: dict[int, int] = {}
    newly = _assign(strong, assigned, claimed)
    # A contact another record takes is no rival: the next run, with that record bound to
    # it, will not see it at all, and a plan must agree with the plan after applying it.
    # So the records it stood in the way of are judged again without it, and their
    # matches assigned, until no contact is newly taken (each round takes at least one).
    while newly:
        touched = sorted({i for r in newly for i in waiting.pop(r, ()) if i not in assigned})
        strong = []
        for i in touched:
            party, raw = rivalled[i]
            found[i] = pairs = _judged(raw, claimed, remotes)
            strong.extend(_strengths(i, party, pairs, remotes))
        newly = _assign(strong, assigned, claimed)
    outcomes: list[Outcome | None] = [None] * len(sources)
    unmatched: dict[int, tuple[Party, list[tuple[int, Evidence]]]] = {}
    for i, party in enumerate(sources):
        if party is None:
            continue
        if i in pinned:
            r = pinned[i]
            outcomes[i] = Outcome(MATCH, r, compare(party, remotes[r], settings))
        elif i in assigned:
            outcomes[i] = _matched(assigned[i], found[i], claimed)
        else:
            unmatched[i] = (
                party,
                [
                    (r, compare(party, settled(claimed[r], r), settings))
                    if settled is not None and r in claimed
                    else (r, ev)
                    for r, ev in found[i]
                ],
            )
    # Looked for by name only now, with the matches known: a contact another record
    # matched shares no number with these records, so it cannot be one's match even once
    # written; it is noted, not scored.
    wanted = [
        i for i, (_, pairs) in unmatched.items() if all(ev.verdict != MATCH for _, ev in pairs)
    ]
    named = index.by_names([unmatched[i][0] for i in wanted], claimed)
    for i, candidates in zip(wanted, named, strict=True):
        party, pairs = unmatched[i]
        known = {r for r, _ in pairs}
        taken_by_name: tuple[tuple[int, int], ...] = ()
        for r in candidates:
            if r in claimed:
                if len(taken_by_name) < settings.max_candidates:  # only for messages
                    taken_by_name += ((r, claimed[r]),)
            elif r not in known:
                evidence = compare(party, remotes[r], settings)
                if evidence.verdict == REVIEW:
                    pairs.append((r, evidence))
        outcomes[i] = _unmatched(pairs, claimed, settings, taken_by_name)
    for i, (_, pairs) in unmatched.items():
        if outcomes[i] is None:  # a record sharing a number with a contact that matches
            outcomes[i] = _unmatched(pairs, claimed, settings, ())
    return outcomes


# Sort key of a record's match, strongest first: (-score, -shared, numbers apart, names
# differ, source, remote).
_Strength = tuple[float, int, int, bool, int, int]


def _judged(
    raw: Sequence[tuple[int, Evidence]], claimed: Container[int], remotes: Sequence[Party]
) -> list[tuple[int, Evidence]]:
    """One record's evidence with the rival rule applied among the contacts nobody has
    claimed; a claimed contact keeps its own evidence and is nobody's rival."""
    if not any(r in claimed for r, _ in raw):
        return without_rivals(raw, remotes.__getitem__)
    judged = dict(without_rivals([p for p in raw if p[0] not in claimed], remotes.__getitem__))
    return [(r, judged.get(r, ev)) for r, ev in raw]


def _strengths(
    i: int, party: Party, pairs: Iterable[tuple[int, Evidence]], remotes: Sequence[Party]
) -> list[_Strength]:
    """The sort keys of record ``i``'s matches. Strongest first; between equals, the
    contact whose numbers and name are already the record's (so a contact a plan added
    goes back to its own record)."""
    return [
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
    ]


def _assign(
    strong: list[_Strength], assigned: dict[int, int], claimed: dict[int, int]
) -> list[int]:
    """Give each record its strongest match whose contact is still free (greedy, in
    ``strong``'s order); returns the contacts newly claimed."""
    newly: list[int] = []
    for *_, i, r in sorted(strong):
        if i not in assigned and r not in claimed:
            assigned[i] = r
            claimed[r] = i
            newly.append(r)
    return newly


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
    ``pairs`` are sorted here, best first.
    """
    pairs.sort(key=lambda pair: (-pair[1].score, pair[0]))
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
