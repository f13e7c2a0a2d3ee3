"""The planner: decide, for every source record, what should happen to the phonebook.

:func:`make_plan` is pure: source records, the phonebook as read, and settings in; a
:class:`~connector.reconcile.plan.Plan` out. It reads no file and no network and changes
no process-wide state; the I/O sits at the edges (:mod:`connector.reconcile.workflow`).
A scheduled sync also passes its bindings and the contacts other jobs own; the rules for
those are :mod:`connector.reconcile.bindings`'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import NamedTuple

from connector.errors import ConfigError
from connector.lifetime import keep
from connector.model import (
    KEY_PHONEBOOK_ID,
    KEY_POSITION,
    MAX_PHONES,
    Contact,
    ContactFields,
    SourceRecord,
    phonebook_fingerprint,
)
from connector.reconcile import bindings as sync_rules
from connector.reconcile.blocking import RemoteIndex
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
from connector.reconcile.names import containment, display_name, name_key, name_tokens
from connector.reconcile.phones import NormalisedPhones, PhoneNormaliser
from connector.reconcile.plan import (
    Bound,
    Candidate,
    Plan,
    PlanItem,
    PlanSettings,
    SourceRef,
)
from connector.reconcile.remotes import Ahead, Remotes, id_order, slot_numbers
from connector.timings import Laps

__all__ = ["make_plan", "slot_numbers"]


def make_plan(
    records: Iterable[SourceRecord],
    contacts: Sequence[Contact],
    settings: PlanSettings | None = None,
    *,
    bindings: Mapping[str, Bound] | None = None,
    foreign_ids: frozenset[str] = frozenset(),
    owned_ids: frozenset[str] | None = None,
    partial: bool = False,
    decisions: Mapping[str, Decision] | None = None,
    server: str = "",
    plan_id: str | None = None,
    created_at: datetime | None = None,
    ahead: Ahead | None = None,
) -> Plan:
    """Decide, for every source record, what should happen to the phonebook.

    Pure apart from the defaults of ``plan_id`` (a random uuid4 hex) and ``created_at``
    (now, UTC): pass both for a fully deterministic plan. ``decisions`` add to (and win
    over) ``settings.decisions``; the plan's settings keep the union. ``owned_ids`` is the
    set of contact ids this sync created, required by the ``owned`` delete policy (unless
    ``bindings`` say it: a binding's ``owned`` counts as well) and ignored otherwise.

    A scheduled sync passes ``bindings`` (source key -> :class:`Bound`, from its state)
    and ``foreign_ids`` (contacts other sync jobs own); what they change is described in
    :mod:`connector.reconcile.bindings`, and ``PlanItem.sync`` tags the items only a sync
    has. ``partial`` says the records are an incremental read (only those changed since
    the last read): a bound key absent from them is still in the source, its contact is
    left as it is, and nothing is deleted (a deletion cannot be seen in such a read).
    Same inputs give the same plan, whatever the order of ``contacts``.

    ``ahead`` may give parts worked out elsewhere meanwhile, for these records and
    contacts and the settings' region (:mod:`connector.reconcile.ahead` does it in a
    second process): the numbers of the last records, asked for once the others are
    done, and the phonebook's side, asked for when matching needs it. What it does not
    give (None, or another phonebook's), the planner works out itself. The plan is the
    same either way.
    """
    settings = settings or PlanSettings()
    if decisions:
        settings = replace(settings, decisions={**settings.decisions, **decisions})
    if settings.delete == "owned" and owned_ids is None and bindings is None:
        raise ConfigError("the 'owned' delete policy needs the set of contacts this sync owns")
    owned = frozenset(owned_ids or ())
    if bindings:
        owned |= {bound.contact_id for bound in bindings.values() if bound.owned}
    ordered = sorted(contacts, key=lambda contact: id_order(contact.id))
    if partial and settings.delete != "never":
        settings = replace(settings, delete="never")
    planner = _Planner(settings, ordered, bindings or {}, foreign_ids, partial=partial, ahead=ahead)
    items, warnings = planner.run(list(records), owned)
    base = planner.remotes.fingerprint or phonebook_fingerprint(ordered)
    keep(planner)  # its indexes and caches: freed at exit, if at all (connector.lifetime)
    return Plan(
        plan_id=plan_id or uuid.uuid4().hex,
        created_at=created_at or datetime.now(timezone.utc),
        server=server,
        base=base,
        settings=settings,
        items=items,
        warnings=warnings,
    )


class _Prepared(NamedTuple):
    """A source record after normalising, before matching (a named tuple: one per record
    of a plan)."""

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


class _Change(NamedTuple):
    """What a record makes of a contact: the fields to write (``after``, the contact's own
    fields when nothing changes), its display name and numbers (Sipalto form) as they
    will be, what changes in words (``""`` for nothing), and numbers that did not fit (a
    named tuple: one per matched record)."""

    after: ContactFields
    name: str
    numbers: tuple[str, ...]
    changes: str
    dropped: tuple[str, ...]


class _Planner:
    """One planning run; holds the inputs so the steps below stay short."""

    def __init__(
        self,
        settings: PlanSettings,
        contacts: Sequence[Contact],
        bindings: Mapping[str, Bound],
        foreign_ids: frozenset[str],
        *,
        partial: bool = False,
        ahead: Ahead | None = None,
    ) -> None:
        self.settings = settings
        self._ahead = ahead
        self.partial = partial
        self.phones = PhoneNormaliser(settings.region)
        self.contacts = contacts
        self.remote_index = {contact.id: i for i, contact in enumerate(contacts)}
        self.remotes = Remotes(contacts, self.phones, ahead.phonebook if ahead else None)
        # Contacts that records keyed by their id will hold once written, by remote index.
        self.bound_parties: dict[int, Party] = {}
        self.bindings = bindings
        self.foreign_ids = foreign_ids
        self.sync = sync_rules.SyncView()
        self.locations: list[str] = []
        self.owned_ids: frozenset[str] = frozenset()
        self.candidates: set[int] = set()  # contacts some record's review may turn out to be
        # Built on first need: only a sync with records left to match asks.
        self._claimed_numbers: dict[str, list[int]] | None = None
        self._foreign_list: list[int] = []
        self._foreign_index: RemoteIndex | None = None
        self.lap = Laps()

    def run(
        self, records: Sequence[SourceRecord], owned_ids: frozenset[str]
    ) -> tuple[tuple[PlanItem, ...], tuple[str, ...]]:
        self.owned_ids = owned_ids
        self.lap = Laps()
        prepared = self._prepare(records)
        self.lap("normalise source")
        items: list[PlanItem | None] = [self._rejected(p) if p.problem else None for p in prepared]
        self.sync = self._resolve_bindings(prepared)
        pinned, warnings = self._apply_decisions(prepared, items)
        bound = self._bind_to_ids(prepared, items, pinned)
        # Records the sync state binds: never matched, made into items by the three-way rules.
        synced = {
            i for i in (*self.sync.bound, *self.sync.gone) if items[i] is None and i not in pinned
        }
        parties: list[Party | None] = [
            self._party(p, p.phones.numbers) if items[i] is None else None
            for i, p in enumerate(prepared)
        ]
        repeats = self._repeats(parties, pinned, synced)
        numbers, merge_warnings = self._merge_repeats(prepared, repeats)
        for i in repeats:
            parties[i] = None
        for root in merge_warnings:  # a first record that took in its repeats' numbers
            parties[root] = self._party(prepared[root], numbers[root])
        self.lap("find repeats")
        outcomes = self._match(
            [None if i in synced else party for i, party in enumerate(parties)],
            {**pinned, **bound},
            self._settled(prepared, numbers),
        )
        self.lap("match")
        held, namesake_notes = self._namesakes(prepared, parties, pinned, outcomes)
        self.candidates = {r for o in outcomes if o is not None for r, _ in o.candidates}
        for i in sorted(synced):
            notes = [*merge_warnings.get(i, ()), *namesake_notes.get(i, ())]
            items[i] = self._synced(prepared[i], i, numbers[i], notes)
        for i, outcome in enumerate(outcomes):
            if i in held:
                first, extra = prepared[held[i]], merge_warnings.get(i, ())
                items[i] = self._namesake(prepared[i], first, numbers[i], extra)
            elif outcome is not None:
                extra = [
                    *merge_warnings.get(i, ()),
                    *namesake_notes.get(i, ()),
                    *self._released_note(i),
                ]
                items[i] = (
                    self._displaced(prepared, i, numbers[i], parties[i], outcome, pinned, extra)
                    or self._taken_by_sync(
                        prepared[i], numbers[i], parties[i], outcome, extra, items
                    )
                    or self._decided(prepared, i, numbers[i], outcome, i in pinned, extra)
                )
        for i, (root, evidence) in repeats.items():
            items[i] = self._repeat(prepared[i], prepared[root], items[root], evidence)
        source_items = [item for item in items if item is not None]
        remote_items = self._remote_duplicates(prepared, outcomes)
        if self.settings.delete != "never":
            remote_items += self._deletions(owned_ids, source_items, remote_items, prepared)
        remote_items.sort(key=lambda item: id_order(item.id or ""))
        keep(prepared, parties, outcomes, numbers, repeats, items)
        self.lap("build plan")
        return tuple(source_items + remote_items), tuple(warnings)

    # -- scheduled sync: bindings and other jobs' contacts ------------------------------

    def _resolve_bindings(self, prepared: Sequence[_Prepared]) -> sync_rules.SyncView:
        if not self.bindings and not self.foreign_ids:
            return sync_rules.SyncView()  # no sync state: nothing to resolve for a file
        self.locations = [p.record.location for p in prepared]
        keys = [(p.record.key, p.record.key_kind, p.problem is None) for p in prepared]

        def fits(i: int, bound: Bound) -> bool:
            """A record keyed by position still resembles the contact as written."""
            p = prepared[i]
            if any(number in bound.written.phones for number in p.phones.numbers):
                return True  # as the job wrote it: no need to read the slots
            written = slot_numbers(self.phones, bound.written.phones)
            if any(number in written for number in p.phones.numbers):
                return True
            seen = make_party(display_name(bound.written.name), written)
            record = self._party(p, p.phones.numbers)
            return compare(record, seen, self.settings.match).verdict != DIFFERENT

        return sync_rules.resolve_bindings(
            keys, self.remote_index, self.bindings, self.foreign_ids, fits, partial=self.partial
        )

    def _repeats(
        self, parties: Sequence[Party | None], pinned: Mapping[int, int], synced: Collection[int]
    ) -> dict[int, tuple[int, Evidence]]:
        """Records repeating an earlier one (:func:`find_duplicates`); decided records take
        no part. A bound record is its contact: it is a first record that its repeats merge
        into, never a repeat itself."""
        free = [None if i in pinned else party for i, party in enumerate(parties)]
        if not synced:
            return find_duplicates(free, self.settings.match)
        numbers = {n for i, party in enumerate(free) if i not in synced for n in _numbers(party)}
        # A repeat shares a number with its first record: bound records sharing none with
        # any unbound one cannot take part (a nightly run of bound records skips them all).
        for i in synced:
            if not any(n in numbers for n in _numbers(free[i])):
                free[i] = None
        return find_duplicates(free, self.settings.match, firsts=synced)

    def _match(
        self,
        sources: Sequence[Party | None],
        pins: Mapping[int, int],
        settled: Callable[[int, int], Party],
    ) -> list[Outcome | None]:
        """:func:`match_all` over the contacts that may be matched: neither bound to
        another record by the sync state nor owned by another sync job."""
        if all(party is None for party in sources):
            return [None] * len(sources)  # all bound or decided: nothing to match
        view = self.sync
        if not view.active:
            remotes = list(self.remotes)
            self.lap("normalise phonebook")
            return match_all(sources, remotes, self.settings.match, pins, settled)
        # A reviewer's decision may pin a record to its own bound contact: that one stays.
        decided = set(pins.values())
        free = [
            r
            for r in range(len(self.remotes))
            if r in decided or (r not in view.claimed and not view.off_limits(r))
        ]
        position = {r: k for k, r in enumerate(free)}
        outcomes = match_all(
            sources,
            [self.remotes[r] for r in free],
            self.settings.match,
            {i: position[r] for i, r in pins.items()},
            lambda i, k: settled(i, free[k]),
        )
        return [None if o is None else _remapped(o, free) for o in outcomes]

    def _synced(
        self, p: _Prepared, i: int, numbers: tuple[str, ...], extra: Sequence[str]
    ) -> PlanItem:
        """The item of a record the sync state binds, by the three-way rules
        (:func:`connector.reconcile.bindings.edit_step`)."""
        remote = self.sync.bound.get(i)
        if remote is None:
            return self._gone(p, numbers, self.sync.gone[i], extra)
        contact = self.contacts[remote]
        bound = self.bindings[p.record.key]
        written, own = bound.written, bound.base
        head = f"contact {contact.id}, bound to this record"
        warnings = [*p.warnings, *extra]
        if written == contact.fields and p.name == own.name and numbers == own.phones:
            # The nightly case: nobody touched it, and the source says what it said when
            # the job last wrote (in the very form), so there is nothing to compare or parse.
            return self._unchanged(contact, p, head, None, warnings)
        theirs = _Side(self.remotes[remote].name, self.remotes.stored(remote))
        if written == contact.fields and bound.own is None:
            # As the job left it: the source's version goes on.
            return self._ordinary(p, numbers, remote, theirs, head, warnings)
        base = _Side(display_name(own.name), slot_numbers(self.phones, own.phones))
        ours = self._change(p, numbers, own, base.name, base.numbers)
        mine = _Side(ours.name, ours.numbers)
        if written == contact.fields:
            # An outside edit kept on an earlier run, untouched since: it stays, and a
            # change in the source goes on top of it.
            if mine.version == base.version:
                return self._unchanged(
                    contact, p, f"{head}; the edit kept earlier stays", None, warnings
                )
            kept = f"{head}, holds an edit made outside this job and kept"
            return self._rebased(p, contact, theirs, base, ours, kept, warnings)
        step = sync_rules.edit_step(
            self.settings.on_phonebook_edit, theirs.version, base.version, mine.version
        )
        if step == sync_rules.ORDINARY:
            return self._ordinary(p, numbers, remote, theirs, head, warnings)
        edited = self._changes(base.name, theirs.name, base.numbers, theirs.numbers)
        edited = f"{head}, was edited outside this job since it last wrote it ({edited})"
        if step in (sync_rules.EDITED, sync_rules.CONFLICT):
            policy = "held for review (on_phonebook_edit: review)"
            if step == sync_rules.EDITED:
                reason = f"{edited}; the source has not changed: {policy}"
            else:
                reason = f"{edited}, and the source changed too ({ours.changes}): {policy}"
            review = self._review(p, numbers, reason, None, (), extra)
            return replace(review, id=contact.id, before=contact.fields, sync=step)
        if step == sync_rules.KEEP:
            reason = f"{edited}; the edit is kept (on_phonebook_edit: keep)"
            return self._kept(p, contact, reason, warnings)
        if step == sync_rules.OVERWRITE:
            reason = (
                f"{edited}; the source's version is written over it (on_phonebook_edit: overwrite)"
            )
            written_over = self._changes(theirs.name, ours.name, theirs.numbers, ours.numbers)
            change = ours._replace(changes=written_over or "numbers rearranged")
            item = self._written_item(p, contact, change, reason, None, [*warnings, *ours.dropped])
            return self._not_foreign(item, remote)
        return self._rebased(p, contact, theirs, base, ours, edited, warnings)

    def _ordinary(
        self,
        p: _Prepared,
        numbers: tuple[str, ...],
        remote: int,
        theirs: _Side,
        head: str,
        warnings: list[str],
    ) -> PlanItem:
        """A bound contact as the job left it: the source's version goes onto it, as onto
        any contact a record matches."""
        contact = self.contacts[remote]
        change = self._change(p, numbers, contact.fields, theirs.name, theirs.numbers)
        item = self._written_item(p, contact, change, head, None, [*warnings, *change.dropped])
        return self._not_foreign(item, remote)

    def _rebased(
        self,
        p: _Prepared,
        contact: Contact,
        theirs: _Side,
        base: _Side,
        ours: _Change,
        edited: str,
        warnings: list[str],
    ) -> PlanItem:
        """``keep`` when both sides changed: the contact as edited is the new base, and the
        source's own change since the job last wrote it is made on top of it."""
        numbers, dropped = sync_rules.rebase_numbers(theirs.numbers, base.numbers, ours.numbers)
        name = theirs.name
        if name_key(ours.name) != name_key(base.name):  # the source renamed the record
            name = self._after_name(theirs.name, p.name)
        changes = self._changes(theirs.name, name, theirs.numbers, numbers)
        if not changes:
            kept = self._kept(
                p,
                contact,
                f"{edited}; the edit is kept and already holds the source's change",
                warnings,
            )
            return replace(kept, own=ours.after if ours.after != contact.fields else None)
        if set(numbers) == set(theirs.numbers):
            after = replace(contact.fields, name=name)
        else:
            after = ContactFields.make(contact.name if name == theirs.name else name, numbers)
        change = _Change(after, name, tuple(numbers), changes, tuple(dropped))
        head = (
            f"{edited}; the edit is kept and the source's change made on top"
            " (on_phonebook_edit: keep)"
        )
        item = self._written_item(p, contact, change, head, None, warnings + dropped)
        # What the job records as its own version: the source's, not the edit it kept.
        item = replace(item, own=ours.after if ours.after != item.after else None)
        return self._not_foreign(item, self.remote_index[contact.id])

    def _kept(
        self, p: _Prepared, contact: Contact, reason: str, warnings: Sequence[str]
    ) -> PlanItem:
        """Nothing to write; the contact as read becomes the job's baseline."""
        return PlanItem(
            "unchanged",
            id=contact.id,
            before=contact.fields,
            after=contact.fields,
            source=p.ref,
            reason=reason,
            warnings=tuple(warnings),
            sync="kept",
        )

    def _gone(
        self, p: _Prepared, numbers: tuple[str, ...], bound: Bound, extra: Sequence[str]
    ) -> PlanItem:
        """A bound contact deleted from the phonebook: added again only when asked to."""
        gone = (
            f"contact {bound.contact_id} ({bound.written.name}), bound to this record, is no"
            " longer in the phonebook (deleted outside this job)"
        )
        if self.settings.readd_deleted:
            added = self._add(p, numbers, f"{gone}; added again (readd_deleted)", extra=extra)
            return replace(added, sync="readd")
        reason = f"{gone}; not added again: held for review (readd_deleted adds it back)"
        return replace(self._review(p, numbers, reason, None, (), extra), sync="gone")

    def _not_foreign(self, item: PlanItem, remote: int) -> PlanItem:
        """Another sync job's contact is never written: its update becomes a review."""
        whose = self.sync.off_limits(remote)
        if item.action != "update" or not whose:
            return item
        reason = f"contact {item.id} is {whose}: not updated ({item.reason})"
        return replace(item, action="review", reason=reason)

    def _sync_taken(self, remote: int, record: int | None = None) -> str:
        """Why no record (but ``record``) may be pinned to contact ``remote`` (``""`` when
        it may): it is another job's, or bound to another record of this job's source."""
        whose = self.sync.off_limits(remote)
        if whose:
            return whose
        holder = self.sync.claimed.get(remote)
        if holder is not None and holder != record:
            return f"bound to {self.locations[holder]} by this sync job"
        return ""

    def _released_note(self, i: int) -> tuple[str, ...]:
        note = self.sync.released.get(i)
        return (note,) if note else ()

    def _taken_by_sync(
        self,
        p: _Prepared,
        numbers: tuple[str, ...],
        party: Party | None,
        outcome: Outcome,
        extra: Sequence[str],
        items: Sequence[PlanItem | None],
    ) -> PlanItem | None:
        """Review, not a new contact, for a record that would match a contact it may not
        have: one bound to another record (sharing a number, judged as the contact will
        be once that record is written), or one another sync job owns. None otherwise."""
        if outcome.verdict != ADD or party is None or not self.sync.active:
            return None
        found: list[tuple[float, int, Evidence, str]] = []
        for r in self._claimed_sharing(party, items):
            evidence = compare(party, self._held_as(r, items), self.settings.match)
            if evidence.verdict != DIFFERENT and evidence.shared:
                where = self.locations[self.sync.claimed[r]]
                found.append((-evidence.score, r, evidence, f"bound to {where} by this sync job"))
        for r in self._foreign_near(party):
            evidence = compare(party, self.remotes[r], self.settings.match)
            if evidence.verdict != DIFFERENT:
                found.append((-evidence.score, r, evidence, self.sync.off_limits(r)))
        if not found:
            return None
        _, r, evidence, whose = min(found, key=lambda hit: hit[:2])
        contact = self.contacts[r]
        reason = f"{contact.id} ({contact.name}) {evidence.reason}, but it is {whose}"
        return self._review(p, numbers, reason, evidence.score, (), extra)

    def _claimed_sharing(self, party: Party, items: Sequence[PlanItem | None]) -> list[int]:
        """Contacts bound to other records that share a number with ``party``, as read or
        as they will be written."""
        if self._claimed_numbers is None:
            index: dict[str, list[int]] = {}
            for r in self.sync.claimed:
                written = self._held_as(r, items).numbers
                for number in dict.fromkeys((*self.remotes[r].numbers, *written)):
                    index.setdefault(number, []).append(r)
            self._claimed_numbers = index
        found = {r for number in party.numbers for r in self._claimed_numbers.get(number, [])}
        return sorted(found)

    def _held_as(self, remote: int, items: Sequence[PlanItem | None]) -> Party:
        """A bound contact as it will be once its record's item is applied."""
        item = items[self.sync.claimed[remote]]
        if item is None or item.after is None or item.id != self.contacts[remote].id:
            return self.remotes[remote]
        if item.action not in ("update", "unchanged"):
            return self.remotes[remote]
        return make_party(display_name(item.after.name), self.phones.numbers_of(item.after.phones))

    def _foreign_near(self, party: Party) -> list[int]:
        """Other jobs' contacts (and those of records an incremental read left out)
        sharing a number with ``party``, or with a name close enough to review."""
        if not self.sync.foreign and not self.sync.unread:
            return []
        if self._foreign_index is None:
            self._foreign_list = sorted(self.sync.foreign | self.sync.unread)
            self._foreign_index = RemoteIndex(
                [self.remotes[r] for r in self._foreign_list], self.settings.match
            )
        index = self._foreign_index
        near = {*index.by_number(party), *index.by_name(party, ())}
        return [self._foreign_list[k] for k in sorted(near)]

    # -- preparing records ---------------------------------------------------------------

    def _prepare(self, records: Sequence[SourceRecord]) -> list[_Prepared]:
        seen: dict[str, str] = {}
        prepared = []
        for record, phones in zip(records, self._record_phones(records), strict=True):
            name = display_name(record.name)
            problem = _problem(record, name, phones)
            if problem is None and record.key in seen:
                problem = f"key {record.key} repeats {seen[record.key]}"
            seen.setdefault(record.key, record.location)
            prepared.append(_Prepared(record, name, phones, problem))
        return prepared

    def _record_phones(self, records: Sequence[SourceRecord]) -> list[NormalisedPhones]:
        """Each record's numbers: the last ones' from ``ahead`` when it has them."""
        normalise = self.phones.normalise_record_phones
        split = len(records) if self._ahead is None else self._ahead.records_from
        phones = [normalise(record.phones) for record in records[:split]]
        if split < len(records):
            theirs = self._ahead.record_phones() if self._ahead is not None else None
            if theirs is None or len(theirs) != len(records) - split:
                theirs = [normalise(record.phones) for record in records[split:]]
            phones += theirs
        return phones

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
                stored = self.remotes.stored(remote)
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
        if not decisions:
            return {}, []
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
                problem = self._match_problem(i, p, decision, remote, pinned_by)
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
        self,
        i: int,
        p: _Prepared,
        decision: Decision,
        remote: int | None,
        pinned_by: Mapping[int, str],
    ) -> str | None:
        """Why a match decision cannot be used for ``p``, or None."""
        if remote is None:
            return missing_contact_problem(decision)
        if remote in pinned_by:
            return (
                f"decision '{decision}' cannot be used: {decision.remote_id} is already"
                f" decided for {pinned_by[remote]}"
            )
        taken = self._sync_taken(remote, i)
        if taken:
            return f"decision '{decision}' cannot be used: {decision.remote_id} is {taken}"
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
            elif taken := self._sync_taken(remote):
                reason = f"contact {p.record.key} is {taken}"
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
        stored = self.remotes.stored(remote)
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
        stored = self.remotes.stored(outcome.remote)
        old_name = self.remotes[outcome.remote].name
        # A match the matcher made (not a reviewer's) keeps a fuller phonebook name.
        change = self._change(p, numbers, contact.fields, old_name, stored, keep_longer=not pinned)
        warnings = [*p.warnings, *extra, *change.dropped]
        for other, ev in outcome.duplicates:
            duplicate = self.contacts[other]
            warnings.append(
                f"phonebook duplicate {duplicate.id} ({duplicate.name}) {ev.reason}; "
                + self._duplicate_fate(other)
            )
        head = decided_reason(evidence) if pinned else evidence.reason
        return self._written_item(p, contact, change, head, evidence.score, warnings)

    def _change(
        self,
        p: _Prepared,
        numbers: Sequence[str],
        before: ContactFields,
        old_name: str,
        stored: Sequence[str],
        *,
        keep_longer: bool = False,
    ) -> _Change:
        """What the record makes of a contact that holds ``before`` (its display name
        ``old_name``, its numbers ``stored`` in Sipalto form), by the phones and names
        policies (``keep_longer``: see :meth:`_after_name`)."""
        if numbers == stored and p.name == old_name:
            # The commonest match: the contact holds these very numbers, in this order,
            # under this name. By either phones policy they are what is written, nothing
            # dropped: what the general case below gives, without its lists and sets.
            return _Change(before, old_name, tuple(numbers), "", ())
        phones, dropped = self._after_phones(numbers, stored)
        if p.name == old_name and set(phones) == set(stored):
            # Most records of a migration: the contact already is what they would write
            # (what the name rules and the words of the changes give in that case).
            return _Change(before, old_name, tuple(phones), "", tuple(dropped))
        name = self._after_name(old_name, p.name, keep_longer=keep_longer)
        changes = self._changes(old_name, name, stored, phones)
        if not changes:
            after = before
        elif set(phones) == set(stored):
            # Only the name changes: the numbers stay in their slots, as they are written.
            after = replace(before, name=name)
        else:
            after = ContactFields.make(before.name if name == old_name else name, phones)
        return _Change(after, name, tuple(phones), changes, tuple(dropped))

    def _written_item(
        self,
        p: _Prepared,
        contact: Contact,
        change: _Change,
        head: str,
        score: float | None,
        warnings: Sequence[str],
    ) -> PlanItem:
        """The ``update`` (or ``unchanged``) item writing ``change`` onto ``contact``."""
        if change.name != p.name:  # said even on an unchanged item: the source's form was not used
            head += f'; the phonebook\'s name form kept (the source says "{p.name}")'
        # With nothing to change, ``after`` is the contact's fields already: one object.
        before = contact.fields if change.changes else change.after
        return PlanItem(
            "update" if change.changes else "unchanged",
            id=contact.id,
            before=before,
            after=change.after,
            source=p.ref,
            reason=f"{head}; {change.changes}" if change.changes else head,
            score=score,
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

    def _after_name(self, old_name: str, new_name: str, *, keep_longer: bool = False) -> str:
        """The name a matched contact ends up with (display forms in and out): unless the
        names policy is ``source``, the phonebook's when the two differ only in form, and
        with ``keep_longer`` (a match the matcher made, not a binding or a reviewer's
        decision, whose record's name is meant) when the source's is the phonebook's cut
        short: a match by one name inside the other (``Kestrel`` for ``Kestrel Joinery
        Ltd``) must not strip what the longer name says."""
        if self.settings.names != "phonebook":
            return new_name
        if name_key(old_name) == name_key(new_name):
            return old_name
        if not keep_longer:
            return new_name
        inside = containment(old_name, new_name)
        return old_name if inside is not None and inside.longer == old_name else new_name

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
        """One item per phonebook duplicate noticed next to a contact a record matched
        (a delete when the delete policy takes it: :meth:`_duplicate_fate`)."""
        found: dict[int, PlanItem] = {}
        for i, outcome in enumerate(outcomes):
            if outcome is None or outcome.remote is None or outcome.verdict != MATCH:
                continue
            kept = self.contacts[outcome.remote]
            for other, evidence in outcome.duplicates:
                if other in found:
                    continue
                duplicate = self.contacts[other]
                reason = (
                    f"phonebook duplicate of {kept.id} ({kept.name}), which "
                    f"{prepared[i].record.location} matches"
                )
                fate = self._duplicate_fate(other)
                if fate != "left as is":
                    found[other] = PlanItem(
                        "delete",
                        id=duplicate.id,
                        before=duplicate.fields,
                        reason=f"{reason}; {fate}",
                    )
                    continue
                found[other] = PlanItem(
                    "duplicate",
                    id=duplicate.id,
                    before=duplicate.fields,
                    reason=f"{reason}; left as is",
                    score=evidence.score,
                )
        return list(found.values())

    def _duplicate_fate(self, remote: int) -> str:
        """What becomes of a phonebook duplicate: ``mirror`` deletes it (the phonebook is
        to hold the source's records once); ``owned`` deletes it when this job made it (no
        key binds it, so a later run, which matches no bound record, would delete it as an
        owned contact no record accounts for). A duplicate that another record's review may
        turn out to be, or any other, is left as is."""
        if remote in self.candidates:
            return "left as is"
        if self.settings.delete == "mirror":
            return "deleted (delete: mirror)"
        if self.settings.delete == "owned" and self.contacts[remote].id in self.owned_ids:
            return "owned by this sync: deleted (delete: owned)"
        return "left as is"

    def _deletions(
        self,
        owned_ids: frozenset[str],
        source_items: Sequence[PlanItem],
        remote_items: Sequence[PlanItem],
        prepared: Sequence[_Prepared],
    ) -> list[PlanItem]:
        """The delete policy's deletes (:func:`connector.reconcile.bindings.deletable`).
        Anything a record points at (a match, a review candidate, a duplicate), a rejected
        record's name might be, that is bound to a key still in the source, or that
        another sync job owns, is kept."""
        involved = {item.id for item in [*source_items, *remote_items] if item.id}
        involved |= {c.id for item in source_items for c in item.candidates}
        rejected_names = {
            " ".join(sorted(name_tokens(p.name))) for p in prepared if p.problem and p.name
        }
        kept = {
            r
            for r, contact in enumerate(self.contacts)
            if contact.id in involved
            or (rejected_names and self.remotes[r].sorted_key in rejected_names)
        }
        kept |= {*self.sync.claimed, *self.sync.foreign, *self.sync.unread}
        policy = self.settings.delete
        reason = (
            "owned by this sync and no longer in the source"
            if policy == "owned"
            else "no record in the source accounts for it (delete: mirror)"
        )
        ids = [contact.id for contact in self.contacts]
        return [
            PlanItem("delete", id=ids[r], before=self.contacts[r].fields, reason=reason)
            for r in sync_rules.deletable(policy, ids, owned=owned_ids, kept=kept)
        ]


@dataclass(frozen=True, slots=True)
class _Side:
    """One side of the three-way comparison: a display name and numbers in Sipalto form."""

    name: str
    numbers: tuple[str, ...]

    @property
    def version(self) -> sync_rules.Version:
        return sync_rules.Version(name_key(self.name), frozenset(self.numbers))


def _numbers(party: Party | None) -> tuple[str, ...]:
    return party.numbers if party is not None else ()


def _remapped(outcome: Outcome, remotes: Sequence[int]) -> Outcome:
    """``outcome`` of matching against a subset of the phonebook, with the subset's
    indices turned back into the phonebook's (``remotes[k]`` is the k-th of the subset)."""
    return Outcome(
        outcome.verdict,
        None if outcome.remote is None else remotes[outcome.remote],
        outcome.evidence,
        tuple((remotes[r], ev) for r, ev in outcome.candidates),
        tuple((remotes[r], ev) for r, ev in outcome.duplicates),
        tuple((remotes[r], source) for r, source in outcome.taken),
    )


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
