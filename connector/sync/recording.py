"""Recording a sync run's outcome in its state: the binding, confirming, holding and
forgetting that a plan's items call for, collected first (:class:`Recording`) so that
ownership is claimed before anything is bound and everything is written in one
transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from connector.apply.journal import DONE, SKIPPED
from connector.apply.report import OpResult
from connector.model import ContactFields
from connector.reconcile.plan import PlanItem
from connector.sync.state import (
    Binding,
    BindingConflict,
    SyncState,
)

__all__ = ["Bind", "Recording"]


@dataclass
class Bind:
    """A binding to make: ``key`` to ``contact_id`` with ``fields`` as its baseline."""

    key: str
    contact_id: str
    fields: ContactFields
    owned: bool
    #: The job's own version when it is not ``fields`` (see ``Binding.own``).
    own: ContactFields | None = None


class Recording:
    """The state changes a plan's outcome calls for, collected before any is made so
    that ownership can be claimed first and all of them made in one transaction."""

    def __init__(
        self,
        bindings: Mapping[str, Binding],
        held: set[str],
        *,
        adopt: bool,
        proven: frozenset[str],
    ) -> None:
        self.bindings = bindings
        self.held = held
        self.adopt = adopt
        #: Contacts the registry says this job owns: proof enough after a lost state.
        self.proven = proven
        self.binds: list[Bind] = []
        self.confirms: list[tuple[str, ContactFields, ContactFields | None]] = []
        self.holds: dict[str, str] = {}
        self.releases: set[str] = set()
        self.forgotten: set[str] = set()
        self.unbinds: set[str] = set()

    def item(self, item: PlanItem, result: OpResult | None) -> None:
        done = result is not None and (
            result.state == DONE
            or (result.state == SKIPPED and result.reason == "already as planned")
        )
        key = item.source.key if item.source else None
        if item.action == "delete" and item.id is not None:
            if done:
                self.forgotten.add(item.id)
            return
        if key is None:
            return
        if item.action == "review":
            self.holds[key] = item.reason or "held for review"
            return
        self.releases.add(key)
        if item.action == "add" and done and result is not None and result.new_id:
            assert item.after is not None
            self.binds.append(Bind(key, result.new_id, item.after, True))
        elif item.action == "update" and done and item.id and item.after:
            owned = self._owned(key, item.id)
            self.binds.append(Bind(key, item.id, item.after, owned, item.own))
        elif item.action == "unchanged" and item.id and item.before and item.sync == "kept":
            # A kept edit is the new baseline, so it is not reported again; the job's own
            # version stays what the source made, so a later change in the source is made
            # on top of the edit (the planner's rebase) rather than written over it.
            bound = self.bindings.get(key)
            if bound is not None and bound.contact_id == item.id:
                self.confirms.append((key, item.before, item.own or bound.base))
        elif item.action == "unchanged" and item.id and item.before:
            self._unchanged(key, item.id, item.before)

    def _owned(self, key: str, contact_id: str) -> bool:
        bound = self.bindings.get(key)
        if bound is not None and bound.contact_id == contact_id:
            return bound.owned
        return self.adopt or contact_id in self.proven

    def _unchanged(self, key: str, contact_id: str, fields: ContactFields) -> None:
        bound = self.bindings.get(key)
        if bound is None or bound.contact_id != contact_id:
            self.binds.append(Bind(key, contact_id, fields, self._owned(key, contact_id)))
        elif bound.fields != fields:
            # A phonebook that came to say what the source says: what it holds now is
            # the baseline.
            self.confirms.append((key, fields, None))

    def departed(self, present: frozenset[str], existing: set[str], *, deletes_owned: bool) -> None:
        """Let go of records that left the source: their holds are released and their
        bindings dropped, so that their contacts are free for other records to match.

        Kept: the binding of an owned contact that is still in the phonebook under a
        policy that deletes owned contacts (its delete failed, or is still to come), so
        the job goes on knowing it owns it.
        """
        for key in self.held - present:
            self.releases.add(key)
        for key, bound in self.bindings.items():
            if key in present or bound.contact_id in self.forgotten:
                continue
            if bound.owned and deletes_owned and bound.contact_id in existing:
                continue
            self.unbinds.add(key)
            self.releases.add(key)

    def owned_ids(self) -> frozenset[str]:
        return frozenset(b.contact_id for b in self.binds if b.owned)

    @property
    def changes(self) -> bool:
        """True when carrying out changes any binding."""
        return bool(self.binds or self.confirms or self.forgotten or self.unbinds)

    def disown(self, ids: frozenset[str]) -> None:
        self.binds = [replace(b, owned=False) if b.contact_id in ids else b for b in self.binds]

    def carry_out(self, state: SyncState) -> None:
        """Make the changes (the caller holds the transaction)."""
        for contact_id in sorted(self.forgotten):
            gone = state.forget_contact(contact_id)
            if gone is not None:
                self.releases.add(gone.key)
                self.holds.pop(gone.key, None)
        for key in sorted(self.unbinds):
            state.unbind(key)
        for bind in self.binds:
            self._bind(state, bind)
        for key, fields, own in self.confirms:
            state.confirm(key, fields, own=own)
        # Only keys held now: a run of thousands of records releases a handful at most.
        for key in sorted((self.releases - set(self.holds)) & self.held):
            state.release(key)
        for key, reason in self.holds.items():
            state.hold(key, reason)

    @staticmethod
    def _bind(state: SyncState, bind: Bind) -> None:
        try:
            state.bind(bind.key, bind.contact_id, bind.fields, owned=bind.owned, own=bind.own)
        except BindingConflict as exc:
            # The contact moved to another record (the planner pinned it there): the
            # newest fact wins, so the old key lets go of it.
            state.unbind(exc.other_key)
            state.bind(bind.key, bind.contact_id, bind.fields, owned=bind.owned, own=bind.own)
