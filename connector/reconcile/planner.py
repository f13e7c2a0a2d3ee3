"""The planner: decide, for every source record, what should happen to the phonebook.

:func:`make_plan` is pure: source records, the phonebook as read, and settings in; a
:class:`~connector.reconcile.plan.Plan` out. It reads no file and no network and changes
no process-wide state; the I/O sits at the edges (:mod:`connector.reconcile.workflow`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from connector.errors import ConfigError
from connector.model import (
    KEY_PHONEBOOK_ID,
    KEY_POSITION,
    MAX_PHONES,
    Contact,
    ContactFields,
    SourceRecord,
    phonebook_fingerprint,
)
from connector.reconcile.decisions import Decision, positional_keys_warning
from connector.reconcile.evidence import (
    DIFFERENT,
    MATCH,
    REVIEW,
    Evidence,
    Party,
    compare,
    make_party,
)
from connector.reconcile.fit import (
    contact_problem,
    decided_reason,
    displaced_reason,
    hand_written_problem,
    missing_contact_problem,
    record_problem,
)
from connector.reconcile.matching import (
    ADD,
    Outcome,
    find_duplicates,
    find_namesakes,
    match_all,
)
from connector.reconcile.names import display_name, name_key, name_tokens
from connector.reconcile.phones import NormalisedPhones, PhoneNormaliser
from connector.reconcile.plan import (
    Candidate,
    Plan,
    PlanItem,
    PlanSettings,
    SourceRef,
)

__all__ = ["make_plan", "slot_numbers"]


def make_plan(
    records: Iterable[SourceRecord],
    contacts: Sequence[Contact],
    settings: PlanSettings | None = None,
    *,
    owned_ids: frozenset[str] | None = None,
    decisions: Mapping[str, Decision] | None = None,
    server: str = "",
    plan_id: str | None = None,
    created_at: datetime | None = None,
) -> Plan:
    """Decide, for every source record, what should happen to the phonebook.

    Pure apart from the defaults of ``plan_id`` (a random uuid4 hex) and ``created_at``
    (now, UTC): pass both for a fully deterministic plan. ``decisions`` add to (and win
    over) ``settings.decisions``; the plan's settings keep the union. ``owned_ids`` is the
    set of contact ids this sync created, required by the ``owned`` delete policy and
    ignored otherwise. Same inputs give the same plan, whatever the order of ``contacts``.
    """
    settings = settings or PlanSettings()
    if decisions:
        settings = replace(settings, decisions={**settings.decisions, **decisions})
    if settings.delete == "owned" and owned_ids is None:
        raise ConfigError("the 'owned' delete policy needs the set of contacts this sync owns")
    ordered = sorted(contacts, key=lambda contact: _id_order(contact.id))
    items, warnings = _Planner(settings, ordered).run(list(records), owned_ids or frozenset())
    base = phonebook_fingerprint(ordered)
    return Plan(
        plan_id=plan_id or uuid.uuid4().hex,
        created_at=created_at or datetime.now(timezone.utc),
        server=server,
        base=base,
        settings=settings,
        items=items,
        warnings=warnings,
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A source record after normalising, before matching."""

    record: SourceRecord
    name: str
    phones: NormalisedPhones
    problem: str | None

    @property
    def ref(self) -> SourceRef:
        return SourceRef(self.record.key, self.record.location, self.name, self.phones.numbers)

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.record.notes + self.phones.warnings + self.phones.errors


class _Planner:
    """One planning run; holds the inputs so the steps below stay short."""

    def __init__(self, settings: PlanSettings, contacts: Sequence[Contact]) -> None:
        self.settings = settings
        self.phones = PhoneNormaliser(settings.region)
        self.contacts = contacts
        self.remote_index = {contact.id: i for i, contact in enumerate(contacts)}
        self.remotes = [
            make_party(display_name(c.name), self.phones.numbers_of(c.phones)) for c in contacts
        ]
        # Contacts that records keyed by their id will hold once written, by remote index.
        self.bound_parties: dict[int, Party] = {}

    def run(
        self, records: Sequence[SourceRecord], owned_ids: frozenset[str]
    ) -> tuple[tuple[PlanItem, ...], tuple[str, ...]]:
        prepared = self._prepare(records)
        items: list[PlanItem | None] = [self._rejected(p) if p.problem else None for p in prepared]
        pinned, warnings = self._apply_decisions(prepared, items)
        bound = self._bind_to_ids(prepared, items, pinned)
        parties: list[Party | None] = [
            self._party(p, p.phones.numbers) if items[i] is None else None
            for i, p in enumerate(prepared)
        ]
        repeats = find_duplicates(
            [None if i in pinned else party for i, party in enumerate(parties)],
            self.settings.match,
        )
        numbers, merge_warnings = self._merge_repeats(prepared, repeats)
        for i in repeats:
            parties[i] = None
        for root in merge_warnings:  # a first record that took in its repeats' numbers
            parties[root] = self._party(prepared[root], numbers[root])
        outcomes = match_all(
            parties,
            self.remotes,
            self.settings.match,
            {**pinned, **bound},
            self._settled(prepared, numbers),
        )
        held, namesake_notes = self._namesakes(prepared, parties, pinned, outcomes)
        for i, outcome in enumerate(outcomes):
            if i in held:
                first, extra = prepared[held[i]], merge_warnings.get(i, ())
                items[i] = self._namesake(prepared[i], first, numbers[i], extra)
            elif outcome is not None:
                extra = [*merge_warnings.get(i, ()), *namesake_notes.get(i, ())]
                items[i] = self._displaced(
                    prepared, i, numbers[i], parties[i], outcome, pinned, extra
                ) or self._decided(prepared, i, numbers[i], outcome, i in pinned, extra)
        for i, (root, evidence) in repeats.items():
            items[i] = self._repeat(prepared[i], prepared[root], items[root], evidence)
        source_items = [item for item in items if item is not None]
        remote_items = self._remote_duplicates(prepared, outcomes)
        if self.settings.delete == "owned":
            remote_items += self._deletions(owned_ids, source_items, remote_items, prepared)
        remote_items.sort(key=lambda item: _id_order(item.id or ""))
        return tuple(source_items + remote_items), tuple(warnings)

    # -- preparing records ---------------------------------------------------------------

    def _prepare(self, records: Sequence[SourceRecord]) -> list[_Prepared]:
        seen: dict[str, str] = {}
        prepared = []
        for record in records:
            name = display_name(record.name)
            phones = self.phones.normalise_record_phones(record.phones)
            problem = _problem(record, name, phones)
            if problem is None and record.key in seen:
                problem = f"key {record.key} repeats {seen[record.key]}"
            seen.setdefault(record.key, record.location)
            prepared.append(_Prepared(record, name, phones, problem))
        return prepared

    def _party(self, prepared: _Prepared, numbers: Sequence[str]) -> Party:
        return make_party(prepared.name, numbers)

    def _settled(
        self, prepared: Sequence[_Prepared], numbers: Sequence[tuple[str, ...]]
    ) -> Callable[[int, int], Party]:
        """What a contact becomes once a record is written to it (see ``match_all``)."""
        cache: dict[int, Party] = dict(self.bound_parties)

        def settled(source: int, remote: int) -> Party:
            party = cache.get(remote)
            if party is None:
                stored = self._stored_numbers(self.contacts[remote])
                phones, _ = self._after_phones(numbers[source], stored)
                name = self._after_name(self.remotes[remote].name, prepared[source].name)
                party = cache[remote] = make_party(name, phones)
            return party

        return settled

    def _apply_decisions(
        self, prepared: Sequence[_Prepared], items: list[PlanItem | None]
    ) -> tuple[dict[int, int], list[str]]:
        """Turn reviewers' decisions into items (add, skip) and pins (match); a decision
        that no longer fits its record or contact (:mod:`connector.reconcile.fit`) makes
        its record a review item instead."""
        decisions = self.settings.decisions
        pinned: dict[int, int] = {}
        pinned_by: dict[int, str] = {}
        used: set[str] = set()
        for i, p in enumerate(prepared):
            decision = decisions.get(p.record.key)
            if decision is None:
                continue
            used.add(p.record.key)
            if items[i] is not None:
                continue  # a rejected record stays rejected whatever was decided
            remote = self.remote_index.get(decision.remote_id or "")
            problem = record_problem(decision, p.name, p.phones.numbers, self.phones)
            if problem is None and decision.action == "match":
                problem = self._match_problem(p, decision, remote, pinned_by)
            if problem:
                items[i] = self._review(p, p.phones.numbers, problem, None, ())
            elif decision.action == "skip":
                items[i] = PlanItem("skip", source=p.ref, reason="skipped by decision")
            elif decision.action == "add":
                items[i] = self._add(p, p.phones.numbers, "added by decision")
            else:
                assert remote is not None
                pinned[i] = remote
                pinned_by[remote] = p.record.key
        unknown = sorted(set(decisions) - used)
        warnings = [f"decision for {key} ignored: no such source record" for key in unknown]
        positional = positional_keys_warning(decisions)
        if positional:
            warnings.append(positional)
        return pinned, warnings

    def _match_problem(
        self, p: _Prepared, decision: Decision, remote: int | None, pinned_by: Mapping[int, str]
    ) -> str | None:
        """Why a match decision cannot be used for ``p``, or None."""
        if remote is None:
            return missing_contact_problem(decision)
        if remote in pinned_by:
            return (
                f"decision '{decision}' cannot be used: {decision.remote_id} is already"
                f" decided for {pinned_by[remote]}"
            )
        contact = self.remotes[remote]
        changed = contact_problem(decision, contact, p.name, p.phones.numbers, self.phones)
        if changed:
            return changed
        record = self._party(p, p.phones.numbers)
        evidence = compare(record, contact, self.settings.match)
        return hand_written_problem(decision, record, contact, evidence)

    def _merge_repeats(
        self, prepared: Sequence[_Prepared], repeats: Mapping[int, tuple[int, Evidence]]
    ) -> tuple[list[tuple[str, ...]], dict[int, list[str]]]:
        """Fold the numbers of repeated records into the first one, room permitting."""
        numbers = [list(p.phones.numbers) for p in prepared]
        warnings: dict[int, list[str]] = {}
        for i, (root, _) in sorted(repeats.items()):
            notes = warnings.setdefault(root, [])
            notes.append(f"{prepared[i].record.location} repeats this record; merged")
            for number in prepared[i].phones.numbers:
                if number in numbers[root]:
                    continue
                if len(numbers[root]) < MAX_PHONES:
                    numbers[root].append(number)
                else:
                    notes.append(
                        f"number {number} of {prepared[i].record.location} did not fit "
                        f"(Sipalto holds {MAX_PHONES})"
                    )
        return [tuple(n) for n in numbers], warnings

    def _bind_to_ids(
        self, prepared: Sequence[_Prepared], items: list[PlanItem | None], pinned: Mapping[int, int]
    ) -> dict[int, int]:
        """Bind each record keyed by a phonebook id to that contact, before any matching.

        Such a record (a row of sipalto-sync's own export) *is* its contact: its item is
        made here (:meth:`_as_written`), and the contact is claimed so that no other record
        matches it. An id the phonebook no longer holds goes to review: the contact was
        deleted since the export, or the file comes from another phonebook; adding it
        again silently could undo a deletion. A record a reviewer decided stays decided.
        Returns ``{record index: contact index}`` for :func:`match_all`'s pins.
        """
        decided_for = {remote: prepared[i].record.location for i, remote in pinned.items()}
        bound: dict[int, int] = {}
        for i, p in enumerate(prepared):
            if items[i] is not None or i in pinned or p.record.key_kind != KEY_PHONEBOOK_ID:
                continue
            remote = self.remote_index.get(p.record.key)
            if remote is None:
                reason = (
                    f"contact {p.record.key} is not in the phonebook (deleted since the export?)"
                )
                items[i] = self._review(p, p.phones.numbers, reason, None, ())
            elif remote in decided_for:
                reason = f"contact {p.record.key} is already decided for {decided_for[remote]}"
                items[i] = self._review(p, p.phones.numbers, reason, None, ())
            else:
                items[i] = self._as_written(p, remote)
                bound[i] = remote
        return bound

    def _as_written(self, p: _Prepared, remote: int) -> PlanItem:
        """The item of a record bound to a contact by its id: the contact becomes exactly
        what the record says. The row is the whole contact (an export holds all three
        slots), so a number the row lacks is dropped, whatever the phones policy.

        The record's name is written whenever it differs from the contact's display form,
        whatever the names policy: the export held the name as stored, so any difference is
        the user's own edit.
        """
        contact = self.contacts[remote]
        before = contact.fields
        name = contact.name if p.name == display_name(contact.name) else p.name
        phones, warnings = self._written_phones(p, contact)
        after = ContactFields.make(name, phones)
        self.bound_parties[remote] = make_party(p.name, self.phones.numbers_of(after.phones))
        evidence = compare(
            self._party(p, p.phones.numbers), self.remotes[remote], self.settings.match
        )
        if evidence.verdict == DIFFERENT and not evidence.shared:
            warnings.append(
                f"the row shares no number and no like name with {contact.id} "
                f"({contact.name}): is the file an export of this phonebook?"
            )
        head = f"contact {contact.id} by its id"
        if after == before:
            return self._unchanged(contact, p, head, None, warnings)
        stored = self._stored_numbers(contact)
        new = slot_numbers(self.phones, after.phones)
        changes = self._changes(before.name, after.name, stored, new) or "numbers rearranged"
        return PlanItem(
            "update",
            id=contact.id,
            before=before,
            after=after,
            source=p.ref,
            reason=f"{head}; {changes}",
            warnings=tuple(warnings),
        )

    def _written_phones(self, p: _Prepared, contact: Contact) -> tuple[list[str], list[str]]:
        """The slots a record bound to ``contact`` writes, and the warnings about them.

        A row saying the contact's numbers in their order (in any form) leaves its slots
        exactly as stored: a file reads a number twice in one contact, or two in one slot,
        as the numbers they are. Otherwise a number the contact holds keeps its slot's text
        (``+44 1632 960002`` read back as ``01632960002`` is no edit). A slot holding no
        number (``ask reception``) is kept: a file cannot carry it back (a value with no
        digits is no number to import).
        """
        written: dict[str, str] = {}  # number -> the slot text that says exactly it
        words: list[str] = []
        for value in contact.phones:
            found = self.phones.numbers_of((value,))
            if not found:
                words.append(value)
            elif len(found) == 1:
                written.setdefault(found[0], value)
        if p.phones.numbers == self.phones.numbers_of(contact.phones):
            phones = [contact.phone1, contact.phone2, contact.phone3]
            kept, lost = words, []
        else:
            phones = [written.get(number, number) for number in p.phones.numbers]
            room = MAX_PHONES - len(phones)
            kept, lost = words[:room], words[room:]
            phones += kept
        warnings = list(p.warnings)
        warnings += [f"kept phonebook slot {value!r}: it is no number" for value in kept]
        warnings += [
            f"phonebook slot {value!r} no longer fits (Sipalto holds {MAX_PHONES})"
            for value in lost
        ]
        return phones, warnings

    def _namesakes(
        self,
        prepared: Sequence[_Prepared],
        parties: Sequence[Party | None],
        pinned: Mapping[int, int],
        outcomes: Sequence[Outcome | None],
    ) -> tuple[dict[int, int], dict[int, list[str]]]:
        """Records to hold for review instead of adding: ``{index: first index}``, and
        notes for those first records, which go on as usual.

        Within one source, a record with an earlier record's name and none of its numbers
        is as likely the same person split over two rows as a second person, unless the
        source's own keys tell them apart. Adding it would make a second contact of that
        name without a word, so one that matching would add is held; one that matches a
        contact of its own (both already in the phonebook) goes on.
        """
        keyed = [p.record.key_kind != KEY_POSITION for p in prepared]
        free = [None if i in pinned else party for i, party in enumerate(parties)]
        held: dict[int, int] = {}
        notes: dict[int, list[str]] = {}
        for i, first in find_namesakes(free, keyed).items():
            outcome = outcomes[i]
            if outcome is None or outcome.verdict != ADD:
                continue
            held[i] = first
            notes.setdefault(first, []).append(
                f"{prepared[i].record.location} has the same name and other numbers; sent to review"
            )
        return held, notes

    def _namesake(
        self, p: _Prepared, first: _Prepared, numbers: Sequence[str], extra: Sequence[str]
    ) -> PlanItem:
        reason = f"same name as {first.record.location}, different numbers"
        return self._review(p, numbers, reason, None, (), extra)

    # -- items -----------------------------------------------------------------------------

    def _rejected(self, p: _Prepared) -> PlanItem:
        return PlanItem("rejected", source=p.ref, reason=p.problem or "", warnings=p.warnings)

    def _displaced(
        self,
        prepared: Sequence[_Prepared],
        i: int,
        numbers: tuple[str, ...],
        party: Party | None,
        outcome: Outcome,
        pinned: Mapping[int, int],
        extra: Sequence[str],
    ) -> PlanItem | None:
        """Review, not a second copy, for a record whose own match (number and name, the
        contact as read or as the decision recorded it) a decision for another record
        took; None for any other record."""
        if outcome.verdict == MATCH or party is None:
            return None
        for remote, other in outcome.taken:
            if pinned.get(other) != remote:
                continue  # taken by a better match, not by a decision
            decision = self.settings.decisions[prepared[other].record.key]
            seen = self.remotes[remote]
            evidence = compare(party, seen, self.settings.match)
            if evidence.verdict != MATCH and decision.contact is not None:
                # The contact as the decision saw it: once applied, the decision renamed
                # it, and this record would otherwise be added as a second copy next run.
                seen = make_party(
                    display_name(decision.contact.name),
                    self.phones.numbers_of(decision.contact.phones),
                )
                evidence = compare(party, seen, self.settings.match)
            if evidence.verdict != MATCH:
                continue
            contact_id = self.contacts[remote].id
            by = prepared[other].record.location
            reason = displaced_reason(contact_id, seen, evidence, decision, by)
            others = [c for c in outcome.candidates if c[0] != remote]
            candidates = [(remote, evidence), *others]
            return self._review(prepared[i], numbers, reason, evidence.score, candidates, extra)
        return None

    def _decided(
        self,
        prepared: Sequence[_Prepared],
        i: int,
        numbers: tuple[str, ...],
        outcome: Outcome,
        pinned: bool,
        extra: Sequence[str],
    ) -> PlanItem:
        p = prepared[i]
        if outcome.verdict == MATCH:
            return self._matched(p, numbers, outcome, pinned, extra)
        taken = dict(outcome.taken)  # remote -> the record that matched it
        if outcome.verdict == REVIEW:
            top_remote, top = outcome.candidates[0]
            reason = top.reason
            if top_remote in taken:
                by = prepared[taken[top_remote]].record.location
                reason += f"; {self.contacts[top_remote].id} is matched by {by}"
            return self._review(p, numbers, reason, top.score, outcome.candidates, extra)
        if outcome.evidence is None or outcome.remote is None:
            if outcome.taken:
                remote, other = outcome.taken[0]
                contact = self.contacts[remote]
                by = prepared[other].record.location
                reason = f"new contact: {contact.id} ({contact.name}) is matched by {by}"
                return self._add(p, numbers, reason, extra=extra)
            return self._add(p, numbers, "no contact shares a number or a close name", extra=extra)
        contact = self.contacts[outcome.remote]
        if outcome.remote in taken:
            by = prepared[taken[outcome.remote]].record.location
            closest = f"{contact.id} ({contact.name}) is matched by {by}"
        else:
            closest = f"{contact.id} ({contact.name}) {outcome.evidence.reason}"
        return self._add(p, numbers, f"new contact: {closest}", outcome.evidence.score, extra)

    def _matched(
        self,
        p: _Prepared,
        numbers: tuple[str, ...],
        outcome: Outcome,
        pinned: bool,
        extra: Sequence[str],
    ) -> PlanItem:
        assert outcome.remote is not None and outcome.evidence is not None
        contact = self.contacts[outcome.remote]
        evidence = outcome.evidence
        stored = self._stored_numbers(contact)
        phones, dropped = self._after_phones(numbers, stored)
        before = contact.fields
        old_name = self.remotes[outcome.remote].name
        name = self._after_name(old_name, p.name)
        warnings = [*p.warnings, *extra, *dropped]
        for other, ev in outcome.duplicates:
            duplicate = self.contacts[other]
            warnings.append(
                f"phonebook duplicate {duplicate.id} ({duplicate.name}) {ev.reason}; left as is"
            )
        head = decided_reason(evidence) if pinned else evidence.reason
        if name != p.name:  # said even on an unchanged item: the source's form was not used
            head += f'; the phonebook\'s name form kept (the source says "{p.name}")'
        changes = self._changes(old_name, name, stored, phones)
        if not changes:
            return self._unchanged(contact, p, head, evidence.score, warnings)
        if set(phones) == set(stored):
            # Only the name changes: the numbers stay in their slots, as they are written.
            after = replace(before, name=name)
        else:
            after = ContactFields.make(before.name if name == old_name else name, phones)
        return PlanItem(
            "update",
            id=contact.id,
            before=before,
            after=after,
            source=p.ref,
            reason=f"{head}; {changes}",
            score=evidence.score,
            warnings=tuple(warnings),
        )

    @staticmethod
    def _unchanged(
        contact: Contact, p: _Prepared, reason: str, score: float | None, warnings: Sequence[str]
    ) -> PlanItem:
        """The item of a record whose contact already is what it would write."""
        fields = contact.fields
        return PlanItem(
            "unchanged",
            id=contact.id,
            before=fields,
            after=fields,
            source=p.ref,
            reason=reason,
            score=score,
            warnings=tuple(warnings),
        )

    def _after_name(self, old_name: str, new_name: str) -> str:
        """The name a matched contact ends up with (display forms in and out): the
        phonebook's when the two differ only in form, unless the names policy is ``source``."""
        if self.settings.names == "phonebook" and name_key(old_name) == name_key(new_name):
            return old_name
        return new_name

    def _stored_numbers(self, contact: Contact) -> tuple[str, ...]:
        return slot_numbers(self.phones, contact.phones)

    def _after_phones(
        self, numbers: Sequence[str], stored: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """The numbers to write: the source's, then (``merge``) the contact's others."""
        phones = list(numbers)
        dropped: list[str] = []
        if self.settings.phones != "merge":
            return phones, dropped
        for number in stored:
            if number in phones:
                continue
            if len(phones) < MAX_PHONES:
                phones.append(number)
            else:
                dropped.append(
                    f"phonebook number {number} no longer fits (Sipalto holds {MAX_PHONES})"
                )
        return phones, dropped

    @staticmethod
    def _changes(old_name: str, new_name: str, stored: Sequence[str], phones: Sequence[str]) -> str:
        """What differs, in words; ``""`` when nothing does (number order and format aside:
        ``stored`` and ``phones`` are both in Sipalto form)."""
        parts = []
        if old_name != new_name:
            if old_name.casefold() == new_name.casefold():
                parts.append("name case differs")
            elif name_key(old_name) == name_key(new_name):
                parts.append("name spelling differs")
            else:
                parts.append("name differs")
        old, new = set(stored), set(phones)
        if new - old:
            parts.append("adds " + ", ".join(n for n in phones if n not in old))
        if old - new:
            parts.append("drops " + ", ".join(n for n in stored if n not in new))
        return "; ".join(parts)

    def _add(
        self,
        p: _Prepared,
        numbers: Sequence[str],
        reason: str,
        score: float | None = None,
        extra: Sequence[str] = (),
    ) -> PlanItem:
        return PlanItem(
            "add",
            after=ContactFields.make(p.name, numbers),
            source=p.ref,
            reason=reason,
            score=score,
            warnings=(*p.warnings, *extra),
        )

    def _review(
        self,
        p: _Prepared,
        numbers: Sequence[str],
        reason: str,
        score: float | None,
        candidates: Sequence[tuple[int, Evidence]],
        extra: Sequence[str] = (),
    ) -> PlanItem:
        return PlanItem(
            "review",
            after=ContactFields.make(p.name, numbers),
            source=p.ref,
            reason=reason,
            score=score,
            warnings=(*p.warnings, *extra),
            candidates=tuple(
                Candidate(self.contacts[r].id, self.contacts[r].fields, ev.score, ev.reason)
                for r, ev in candidates
            ),
        )

    def _repeat(
        self, p: _Prepared, root: _Prepared, root_item: PlanItem | None, evidence: Evidence
    ) -> PlanItem:
        target = root_item.id if root_item is not None else None
        reason = f"repeats {root.record.location} ({root.name}): {evidence.reason}; merged there"
        return PlanItem(
            "duplicate",
            id=target,
            source=p.ref,
            reason=reason,
            score=evidence.score,
            warnings=p.warnings,
        )

    def _remote_duplicates(
        self, prepared: Sequence[_Prepared], outcomes: Sequence[Outcome | None]
    ) -> list[PlanItem]:
        """One item per phonebook duplicate noticed next to a contact a record matched."""
        found: dict[int, PlanItem] = {}
        for i, outcome in enumerate(outcomes):
            if outcome is None or outcome.remote is None or outcome.verdict != MATCH:
                continue
            kept = self.contacts[outcome.remote]
            for other, evidence in outcome.duplicates:
                if other in found:
                    continue
                duplicate = self.contacts[other]
                found[other] = PlanItem(
                    "duplicate",
                    id=duplicate.id,
                    before=duplicate.fields,
                    reason=(
                        f"phonebook duplicate of {kept.id} ({kept.name}), which "
                        f"{prepared[i].record.location} matches; left as is"
                    ),
                    score=evidence.score,
                )
        return list(found.values())

    def _deletions(
        self,
        owned_ids: frozenset[str],
        source_items: Sequence[PlanItem],
        remote_items: Sequence[PlanItem],
        prepared: Sequence[_Prepared],
    ) -> list[PlanItem]:
        """Owned contacts no record accounts for. Anything a record points at (a match,
        a review candidate, a duplicate) or a rejected record's name might be is kept."""
        involved = {item.id for item in [*source_items, *remote_items] if item.id}
        involved |= {c.id for item in source_items for c in item.candidates}
        rejected_names = {
            " ".join(sorted(name_tokens(p.name))) for p in prepared if p.problem and p.name
        }
        deletions = []
        for contact, party in zip(self.contacts, self.remotes, strict=True):
            if contact.id not in owned_ids or contact.id in involved:
                continue
            if party.sorted_key in rejected_names:
                continue
            deletions.append(
                PlanItem(
                    "delete",
                    id=contact.id,
                    before=contact.fields,
                    reason="owned by this sync and no longer in the source",
                )
            )
        return deletions


def slot_numbers(phones: PhoneNormaliser, values: Sequence[str]) -> tuple[str, ...]:
    """Phone slots' numbers in Sipalto form, slot order, each once; a slot holding no number
    (``ask reception``) counts as its text, so it is kept by merge and seen by replace."""
    stored: dict[str, None] = {}
    for value in values:
        numbers = phones.numbers_of((value,))
        for number in numbers or ((value.strip(),) if value.strip() else ()):
            stored[number] = None
    return tuple(stored)


def _problem(record: SourceRecord, name: str, phones: NormalisedPhones) -> str | None:
    """Why a record cannot be used, or None."""
    if record.problems:
        return "; ".join(record.problems)
    if not name:
        return "no name"
    if phones.numbers:
        return None
    unusable = [*phones.ignored, *phones.errors]
    if unusable:
        return f"no usable phone number ({'; '.join(unusable)})"
    return "no phone number"


def _id_order(contact_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order ("9" before "10"), then any others as text."""
    if contact_id.isdigit():
        return (0, int(contact_id), contact_id)
    return (1, 0, contact_id)
