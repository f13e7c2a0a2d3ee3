"""Scheduled sync in the planner: the job's bindings, other jobs' contacts, and deletes.

A sync job remembers, per source key, the contact it bound the record to and the contact
exactly as it last wrote or confirmed it (:class:`~connector.reconcile.plan.Bound`, from
:mod:`connector.sync.state`). The planner (:func:`connector.reconcile.planner.make_plan`)
uses them by these rules; this module holds the rules, the planner makes the items.

* A record whose key is bound to a contact the phonebook holds *is* that contact: it is
  pinned before any matching and never enters matching, and the contact is no candidate
  for any other record while the key is in the source (a rejected record's key too). A
  record that would match such a contact goes to review, as it would next to a contact
  another record of the same source matched. A binding whose key has left the source
  binds nothing: its contact is matched like any other (a re-keyed record finds it).
* A key that says only where a record sits (``row:17``) names another record once rows
  are inserted above it. Its binding is used only while the record still fits the
  contact as written (a number in common, or names the matcher would review); otherwise
  the record is matched afresh and the item says so, so that a sorted export with one row
  added does not rename every contact after it.
* Three-way comparison of a bound record, with ``written`` as the base, the contact as
  read as *theirs* and the source's version as *ours* (name keys and numbers in Sipalto
  form, never raw text): see :func:`edit_step`.
* A bound contact gone from the phonebook is reported (``gone``), or added again under
  ``readd_deleted`` (``readd``).
* A reviewer's decision for a bound key wins over the binding, as decisions overrule any
  item: ``match`` with the bound contact writes the source's version onto it whatever
  was edited (the way to settle an ``edited`` or ``conflict`` hold), ``skip`` leaves it,
  ``add`` or ``match`` with another contact moves the record. The bound contact stays
  the key's meanwhile: no candidate for another record, and never deleted.
* Contacts another sync job owns (``foreign_ids``) are never updated, never deleted and
  never candidates; a record that would match one goes to review.
* Deletes (:func:`deletable`): ``owned`` removes contacts this job owns that no record in
  the source accounts for; ``mirror`` every contact no record accounts for, except other
  jobs' contacts. Neither deletes a contact bound to a key still in the source, a contact
  a record points at (a match, a review candidate), or one whose name a rejected record
  bears.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from connector.model import KEY_PHONEBOOK_ID, KEY_POSITION, MAX_PHONES
from connector.reconcile.plan import Bound

__all__ = [
    "CONFLICT",
    "EDITED",
    "KEEP",
    "ORDINARY",
    "OVERWRITE",
    "REBASE",
    "SyncView",
    "Version",
    "deletable",
    "edit_step",
    "rebase_numbers",
    "resolve_bindings",
]

#: Steps :func:`edit_step` chooses for a bound record.
ORDINARY = "ordinary"  # write the source's version onto the contact, as any match does
EDITED = "edited"  # hold for review: edited outside the job, source unchanged
CONFLICT = "conflict"  # hold for review: edited outside the job and changed in the source
OVERWRITE = "overwrite"  # write the source's version over the outside edit
KEEP = "kept"  # nothing to write; the contact as read is the new baseline
REBASE = "rebase"  # the outside edit is the new base; the source's change goes on top


@dataclass(frozen=True, slots=True)
class Version:
    """What a contact says, as the three-way comparison sees it: its name key and its
    numbers in Sipalto form (order, spelling and spacing aside)."""

    name_key: str
    numbers: frozenset[str]


@dataclass(slots=True)
class SyncView:
    """The bindings resolved against one planning run (indices into its records and
    contacts).

    ``bound``: record -> contact, for keys bound to a contact the phonebook holds;
    ``gone``: record -> binding, for keys bound to a contact no longer in it;
    ``claimed``: contact -> record, the contacts of ``bound`` (no candidates for others);
    ``released``: record -> why its position key's binding was not used;
    ``foreign``: contacts another sync job owns;
    ``unread``: contacts bound to keys an incremental read did not include (their records
    are still in the source, unchanged): no candidates, never written or deleted.
    """

    bound: dict[int, int] = field(default_factory=dict)
    gone: dict[int, Bound] = field(default_factory=dict)
    claimed: dict[int, int] = field(default_factory=dict)
    released: dict[int, str] = field(default_factory=dict)
    foreign: frozenset[int] = frozenset()
    unread: frozenset[int] = frozenset()

    @property
    def active(self) -> bool:
        """True when anything here changes what matching may use."""
        return bool(self.claimed or self.foreign or self.unread)

    def off_limits(self, remote: int) -> str:
        """Why contact ``remote`` belongs to no record of this plan (``""`` if it may)."""
        if remote in self.foreign:
            return "owned by another sync job"
        if remote in self.unread:
            return "bound by this sync job to a record this incremental read did not include"
        return ""


def resolve_bindings(
    keys: Sequence[tuple[str, str, bool]],
    contact_index: Mapping[str, int],
    bindings: Mapping[str, Bound],
    foreign_ids: Collection[str],
    fits: Callable[[int, Bound], bool],
    *,
    partial: bool = False,
) -> SyncView:
    """Which record each binding pins, and to which contact.

    ``keys`` are the records' ``(key, key kind, usable)``; a key repeated in the source
    binds its first record (the others are rejected for it). ``fits(record, binding)``
    says whether a usable record keyed by position still fits the contact as written.
    Records keyed by a phonebook id are bound by that id and take no binding here.
    ``partial``: the records are an incremental read (those changed since the last one),
    so a bound key absent from them has not left the source: its contact is ``unread``.
    """
    view = SyncView(
        foreign=frozenset(contact_index[cid] for cid in foreign_ids if cid in contact_index)
    )
    if not bindings:
        return view
    first: dict[str, int] = {}
    for i, (key, _, _) in enumerate(keys):
        first.setdefault(key, i)
    if partial:
        view.unread = frozenset(
            contact_index[b.contact_id]
            for key, b in bindings.items()
            if key not in first and b.contact_id in contact_index
        )
    for key, i in first.items():
        binding = bindings.get(key)
        _, kind, usable = keys[i]
        if binding is None or kind == KEY_PHONEBOOK_ID:
            continue
        if kind == KEY_POSITION and usable and not fits(i, binding):
            view.released[i] = (
                f"{key} was bound to contact {binding.contact_id} ({binding.written.name}),"
                " which this record no longer resembles (rows moved?): matched afresh"
            )
            continue
        remote = contact_index.get(binding.contact_id)
        if remote is None:
            view.gone[i] = binding
        elif remote not in view.claimed:  # the state keeps one key per contact
            view.bound[i] = remote
            view.claimed[remote] = i
    return view


def edit_step(policy: str, theirs: Version, written: Version, ours: Version) -> str:
    """What to do with a bound record, by the three-way table.

    ``theirs`` is the contact as read, ``written`` as the job last wrote it, ``ours`` what
    the source would make of ``written`` now. By policy (``on_phonebook_edit``):

    ======================== =============== ================= ==================
    phonebook / source       review          overwrite         keep
    ======================== =============== ================= ==================
    as written / any         ordinary        ordinary          ordinary
    edited / unchanged       ``edited``      overwrite         ``kept``
    edited / changed         ``conflict``    overwrite         rebase
    ======================== =============== ================= ==================

    A contact that already holds exactly what the source would write (a change made on
    both sides alike, or a write of the job's whose record in the state was lost) is
    ordinary whatever the policy: there is nothing to decide, and its item is
    ``unchanged``, whose ``before`` the job confirms as written.
    """
    if theirs in (written, ours):
        return ORDINARY
    source_changed = ours != written
    if policy == "overwrite":
        return OVERWRITE
    if policy == "keep":
        return REBASE if source_changed else KEEP
    return CONFLICT if source_changed else EDITED


def rebase_numbers(
    theirs: Sequence[str], written: Sequence[str], ours: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The contact's numbers (``theirs``, as edited outside the job) with the source's
    change since ``written`` made to them: the numbers ``ours`` dropped go, the ones it
    added come after the contact's own. Returns the numbers and warnings for the added
    numbers that did not fit."""
    gone = set(written) - set(ours)
    numbers = [n for n in theirs if n not in gone]
    warnings = []
    for number in ours:
        if number in written or number in numbers:
            continue
        if len(numbers) < MAX_PHONES:
            numbers.append(number)
        else:
            warnings.append(f"number {number} does not fit (Sipalto holds {MAX_PHONES})")
    return numbers, warnings


def deletable(
    policy: str,
    ids: Sequence[str],
    *,
    owned: Collection[str],
    kept: Collection[int],
) -> list[int]:
    """The contacts (indices into ``ids``) the delete ``policy`` removes.

    ``kept`` are the contacts something still accounts for: bound to a key in the source,
    pointed at by a record, bearing a rejected record's name, or another job's. Under
    ``owned`` only contacts in ``owned`` go; under ``mirror`` every other one; under
    ``never`` none.
    """
    if policy == "never":
        return []
    return [
        i for i, cid in enumerate(ids) if i not in kept and (policy == "mirror" or cid in owned)
    ]
