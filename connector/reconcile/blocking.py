"""Blocking: which phonebook contacts are worth comparing with a record at all.

Candidates come from blocking, never from comparing everything with everything: contacts
sharing a normalised number, and, for records left without a match, contacts whose name
agrees on every word but one ("2|smith|j" is the key of "Jon Smith", "John Smith" and
"J Smith"), the odd words compared with rapidfuzz's ``ratio`` in one C call per block.
``WRatio`` is never used: it is far too slow for bulk work.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from connector.reconcile.evidence import MatchSettings, Party

__all__ = ["RemoteIndex"]


class RemoteIndex:
    """Blocking indexes over the phonebook: by number, and (built on first need) by name."""

    def __init__(self, parties: Sequence[Party], settings: MatchSettings) -> None:
        self._parties = parties
        self._cap = settings.max_postings
        self._by_number: dict[str, list[int]] = {}
        for index, party in enumerate(parties):
            for number in party.numbers:
                self._by_number.setdefault(number, []).append(index)
        self._review_score = settings.review_name_score
        # The whole phonebook's name index, for by_name: built on its first call.
        self._names: tuple[dict[str, list[int]], dict[str, _Block]] | None = None
        self._crowded: dict[str, dict[str, list[int]]] = {}

    def by_number(self, party: Party) -> list[int]:
        """Contacts sharing a number; on a crowded number only those of the same name."""
        if len(party.numbers) == 1:  # most parties: one posting, in index order already
            posting = self._by_number.get(party.numbers[0])
            if posting is None:
                return []
            if len(posting) <= self._cap:
                return list(posting)
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

        With words scored as in :func:`~connector.reconcile.evidence.name_similarity`, a
        name of ``n`` words reaches the review score ``R`` with all but one word equal only
        if the odd pair scores at least ``n * R - (n - 1) * 100`` (80 for two words at the
        default 90), and names of different lengths or with two differing words fall short
        of the default.

        Contacts ``taken`` (matched by other records; fixed by the first call) are no
        candidates, so they are left out of the word blocks, which keeps them small; of
        them only namesakes are returned, for messages. The name index of the whole
        phonebook is built on the first call.
        """
        if self._names is None:
            self._names = self._name_index(taken)
        keys = _leave_one_out(party.tokens)
        return self._named(party, *self._names, keys)

    def by_names(self, parties: Sequence[Party], taken: Container[int]) -> list[list[int]]:
        """:meth:`by_name` of each party, all asked at once: the name index is built for
        their names and words only (of a large phonebook's blocks, most are no record's),
        and not kept."""
        keys = [_leave_one_out(party.tokens) for party in parties]
        by_name, blocks = self._name_index(
            taken, {party.sorted_key for party in parties}, {key for ks in keys for key, _ in ks}
        )
        return [
            self._named(party, by_name, blocks, party_keys)
            for party, party_keys in zip(parties, keys, strict=True)
        ]

    def _named(
        self,
        party: Party,
        by_name: dict[str, list[int]],
        blocks: dict[str, _Block],
        keys: Sequence[tuple[str, str]],
    ) -> list[int]:
        same_name = by_name.get(party.sorted_key, ())
        found = set(same_name if len(same_name) <= self._cap else same_name[: self._cap])
        count = len(party.tokens)
        floor = max(0.0, count * self._review_score - (count - 1) * 100.0)
        for key, word in keys:
            block = blocks.get(key)
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

    def _name_index(
        self,
        taken: Container[int],
        names: Container[str] | None = None,
        keys: Container[str] | None = None,
    ) -> tuple[dict[str, list[int]], dict[str, _Block]]:
        """The contacts of each name (sorted name words), and the block of each word key,
        ``taken`` contacts left out of the blocks; only these ``names`` and ``keys``, if
        given."""
        by_name: dict[str, list[int]] = {}
        blocks: dict[str, _Block] = {}
        for index, party in enumerate(self._parties):
            if names is None or party.sorted_key in names:
                by_name.setdefault(party.sorted_key, []).append(index)
            if index in taken:
                continue
            for key, word in _leave_one_out(party.tokens):
                if keys is not None and key not in keys:
                    continue
                block = blocks.get(key)
                if block is None:
                    block = blocks[key] = _Block([], [], [])
                block.ids.append(index)
                block.words.append(word)
                if len(word) == 1:
                    block.initials.append(index)
        return by_name, blocks

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
