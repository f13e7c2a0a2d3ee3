"""Whether a reviewer's decision still fits the record and the contact it was made about.

Decisions are kept by source key, and a key may name another record tomorrow: ``row:14``
after two rows above it were deleted, a CRM id handed out again. A decision made from a
preview says what it saw (:class:`~connector.reconcile.decisions.Snapshot` s of the record
and, for a match, of the contact), and it is used only while

* the record still fits the record it saw: the same name as :func:`name_key` sees it
  (``Hartley, Amelia`` is ``Amelia Hartley``) and a number in common, both sides in
  Sipalto's form (so ``020 7946 0000`` is ``02079460000``); a record seen without numbers
  is compared by name alone; and
* the contact still fits the contact it saw, or already is what the decision makes of it
  (the same test against the record: the decision was applied, so the contact now bears
  the record's name and numbers);

otherwise the record goes to ``review``, its reason saying what changed, and nothing is
written for it. A match written by hand says nothing of what it saw: it goes to review
when its record and its contact have nothing in common (no number, and names the matcher
would not even put up for review), and is used otherwise, the item saying plainly what
differs. These functions return the reason, or None when the decision may be used.

:func:`recorded_decisions` gives a plan's decisions with what each was made about, for
``plan --format decisions``.
"""

from __future__ import annotations

from collections.abc import Sequence

from connector.reconcile.decisions import Decision, Snapshot
from connector.reconcile.evidence import DIFFERENT, MATCH, Evidence, Party
from connector.reconcile.names import name_key
from connector.reconcile.phones import PhoneNormaliser
from connector.reconcile.plan import Plan, PlanItem

__all__ = [
    "contact_problem",
    "decided_reason",
    "displaced_reason",
    "hand_written_problem",
    "missing_contact_problem",
    "record_problem",
    "recorded_decisions",
]


def record_problem(
    decision: Decision, name: str, numbers: Sequence[str], phones: PhoneNormaliser
) -> str | None:
    """Why the source record no longer fits the record ``decision`` was made for, or None
    (also when the decision does not say what it saw)."""
    seen = decision.record
    if seen is None:
        return None
    differs = _difference(seen, name, numbers, phones)
    if differs is None:
        return None
    return (
        f"decision '{decision}' was made for {seen}; this record is now"
        f" {_shown(name, numbers)}: {differs}"
    )


def contact_problem(
    decision: Decision,
    contact: Party,
    record_name: str,
    record_numbers: Sequence[str],
    phones: PhoneNormaliser,
) -> str | None:
    """Why the contact of a match no longer fits the contact ``decision`` saw, or None.

    A contact that already bears the record's name and a number of it fits: that is the
    decision applied by an earlier run (it renamed the contact, or ``replace`` changed its
    numbers), and the decision still holds.
    """
    seen = decision.contact
    if seen is None:
        return None
    differs = _difference(seen, contact.name, contact.numbers, phones)
    if differs is None:
        return None
    applied = Snapshot(record_name, tuple(record_numbers))
    if _difference(applied, contact.name, contact.numbers, phones) is None:
        return None
    return (
        f"decision '{decision}' was made when {decision.remote_id} was {seen}; it is now"
        f" {_shown(contact.name, contact.numbers)}: {differs}"
    )


def missing_contact_problem(decision: Decision) -> str:
    """The reason for a match naming a contact the phonebook does not have (now)."""
    reason = (
        f"decision '{decision}' cannot be used: the phonebook has no contact {decision.remote_id}"
    )
    if decision.contact is not None:
        reason += f" (it was {decision.contact})"
    return reason


def hand_written_problem(
    decision: Decision, record: Party, contact: Party, evidence: Evidence
) -> str | None:
    """Why a match that does not say what it saw cannot be trusted, or None: its record
    and contact share no number and have names unlike each other (``evidence`` compares
    the two), so it was most likely meant for another record."""
    if decision.recorded or evidence.shared or evidence.verdict != DIFFERENT:
        return None
    return (
        f"the decision does not fit this record: '{decision}' names {decision.remote_id}"
        f" {_shown(contact.name, contact.numbers)}, which shares no number with"
        f" {_shown(record.name, record.numbers)} and has a name unlike it"
        f" (name score {evidence.name_score:g})"
    )


def decided_reason(evidence: Evidence) -> str:
    """The head of a matched-by-decision item's reason: plain about what differs, since
    the matcher alone would not have made this match."""
    name = evidence.name_score
    if evidence.verdict == MATCH:
        return f"matched by decision ({evidence.reason})"
    if evidence.shared:
        return (
            f"matched by decision, though the names differ (name score {name:g});"
            f" same {_numbers(evidence.shared)}"
        )
    if evidence.verdict != DIFFERENT:
        alike = "same name" if name == 100 else f"similar name ({name:g})"
        return f"matched by decision, though no number is shared ({alike})"
    return (
        "matched by decision, though no number is shared and the names differ"
        f" (name score {name:g})"
    )


def displaced_reason(
    contact_id: str, contact: Party, evidence: Evidence, decision: Decision, by: str
) -> str:
    """The reason of a record whose own match a decision for another record took."""
    return (
        f"decision '{decision}' for {by} took {contact_id} ({contact.name}), which this"
        f" record matches ({evidence.reason}); decide this record too"
    )


def recorded_decisions(plan: Plan) -> dict[str, Decision]:
    """The plan's decisions, each with what it was made about: a decision the plan carried
    out gains the record and contact it was carried out on where it said nothing of them;
    one the plan could not use (it went to review) stays as it was given."""
    decisions = dict(plan.settings.decisions)
    for item in plan.items:
        source = item.source
        decision = decisions.get(source.key) if source else None
        if source is None or decision is None or not _carried_out(decision, item):
            continue
        record = Snapshot(source.name, source.phones) if source.name else None
        before = item.before
        contact = Snapshot(before.name, before.phones) if before is not None else None
        decisions[source.key] = decision.with_snapshots(record, contact)
    return decisions


def _carried_out(decision: Decision, item: PlanItem) -> bool:
    if decision.action == "match":
        return item.action in ("update", "unchanged") and item.id == decision.remote_id
    return item.action == decision.action


def _difference(
    seen: Snapshot, name: str, numbers: Sequence[str], phones: PhoneNormaliser
) -> str | None:
    """What tells ``name``/``numbers`` from what was ``seen``, in words, or None."""
    other_name = name_key(seen.name) != name_key(name)
    other_numbers = bool(seen.phones) and not set(phones.numbers_of(seen.phones)) & set(numbers)
    if other_name and other_numbers:
        return "another name and no number in common"
    if other_name:
        return "another name"
    if other_numbers:
        return "no number in common"
    return None


def _shown(name: str, numbers: Sequence[str]) -> str:
    return str(Snapshot(name, tuple(numbers)))


def _numbers(numbers: Sequence[str]) -> str:
    return f"number {numbers[0]}" if len(numbers) == 1 else f"numbers {', '.join(numbers)}"
