"""The plan as values: what should happen to the phonebook for every record, and why.

A :class:`Plan` holds one :class:`PlanItem` per source record, in source order, then items
for phonebook contacts the plan affects without a record of their own (phonebook
duplicates, deletions), in id order. It is made by :func:`connector.reconcile.planner.make_plan`,
stored by :mod:`connector.reconcile.planfile` as the JSON given by :meth:`Plan.to_json`
(schema: the README's "The plan file"). Actions:
========== ===========================================================================
add        a new contact (``after``)
update     an existing contact ``id`` changes from ``before`` to ``after``
unchanged  the contact already says what the record says (any number order/format)
review     ambiguous; ``candidates`` lists the contacts it might be; never applied
rejected   the record cannot be used (no name, no usable number, a source problem)
duplicate  a record repeating an earlier one (merged into it), or a phonebook contact
           duplicating the one a record updates (left as is)
delete     a contact to remove (only under a delete policy that asks for it)
skip       left out by a reviewer's decision
========== ===========================================================================

A scheduled sync plans with the bindings it keeps (:class:`Bound`, by source key) and tags
the items that only a sync has (``PlanItem.sync``, :data:`SYNC_TAGS`):
========== ===========================================================================
edited     review: the bound contact was edited outside the job, the source has not
           changed since (``on_phonebook_edit: review``); nothing is written
conflict   review: edited outside the job *and* changed in the source
gone       review: the bound contact was deleted from the phonebook; not added again
readd      add: the bound contact deleted from the phonebook is added again
           (``readd_deleted``)
kept       unchanged: the outside edit is accepted as the new baseline
           (``on_phonebook_edit: keep``); nothing is written
========== ===========================================================================

Every ``unchanged`` item's ``before`` is the contact as the job may confirm it: with
``kept``, an outside edit; untagged, the contact as the job left it, or one that already
holds exactly what the source says (a write whose record in the state was lost).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

import phonenumbers

from connector.errors import ConfigError, PlanError
from connector.frozen import quick_init
from connector.model import ContactFields
from connector.reconcile.decisions import Decision, parse_decision
from connector.reconcile.evidence import MatchSettings

__all__ = [
    "ACTIONS",
    "CHANGE_ACTIONS",
    "DELETE_POLICIES",
    "EDIT_POLICIES",
    "NAME_POLICIES",
    "PHONE_POLICIES",
    "PLAN_VERSION",
    "SYNC_TAGS",
    "Bound",
    "Candidate",
    "Plan",
    "PlanItem",
    "PlanSettings",
    "SourceRef",
    "candidate_to_json",
    "item_to_json",
]

PLAN_VERSION = 1
#: Every action, in the order summaries list them.
ACTIONS = ("add", "update", "delete", "review", "rejected", "duplicate", "unchanged", "skip")
#: The actions that write to the phonebook.
CHANGE_ACTIONS = frozenset({"add", "update", "delete"})
#: ``merge`` keeps phonebook numbers the source lacks in free slots; ``replace`` does not.
PHONE_POLICIES = ("merge", "replace")
#: ``never`` deletes nothing; ``owned`` deletes contacts this sync owns (``owned_ids``)
#: whose record has gone from the source; ``mirror`` deletes every contact no record
#: accounts for, except those another sync job owns.
DELETE_POLICIES = ("never", "owned", "mirror")
#: What a sync does with a bound contact edited outside it (``on_phonebook_edit``):
#: ``review`` holds the record back, ``overwrite`` writes the source's version again,
#: ``keep`` takes the edited contact as the new baseline.
EDIT_POLICIES = ("review", "overwrite", "keep")
#: ``PlanItem.sync`` values, each with the one action it tags.
SYNC_TAGS: Mapping[str, str] = {
    "edited": "review",
    "conflict": "review",
    "gone": "review",
    "readd": "add",
    "kept": "unchanged",
}
#: ``phonebook`` keeps a contact's name when the source's differs only in form (case,
#: accents, punctuation, word order, a title); ``source`` writes the source's form.
NAME_POLICIES = ("phonebook", "source")


# -- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bound:
    """A source key's binding from the sync state, as the planner needs it.

    ``contact_id`` is the contact the key is bound to; ``written`` the contact exactly as
    this job last wrote or confirmed it (a phonebook copy that differs from it was edited
    outside the job since); ``owned`` whether the job owns the contact (made it, or
    adopted it), so may delete it. ``own`` is the job's own version of the contact, what
    the source made of it, when an outside edit was kept (``on_phonebook_edit: keep``) and
    the two differ; the base of the three-way comparison is :attr:`base`.
    """

    contact_id: str
    written: ContactFields
    owned: bool
    own: ContactFields | None = None

    @property
    def base(self) -> ContactFields:
        """The job's own version: what a change in the source is measured against."""
        return self.own if self.own is not None else self.written

    def to_json(self) -> dict[str, Any]:
        """``{contact_id, written: {name, phone1, phone2, phone3}, owned[, own]}``."""
        data: dict[str, Any] = {
            "contact_id": self.contact_id,
            "written": self.written.to_json(),
            "owned": self.owned,
        }
        if self.own is not None:
            data["own"] = self.own.to_json()
        return data

    @classmethod
    def from_json(cls, data: object) -> Bound:
        """Inverse of :meth:`to_json`; ``PlanError`` if the shape is wrong."""
        mapping = _mapping(data, "binding")
        owned = mapping.get("owned")
        if not isinstance(owned, bool):
            raise PlanError("plan file: binding owned must be true or false")
        written = _fields_from_json(mapping.get("written"), "binding written")
        own = mapping.get("own")
        return cls(
            _text(mapping, "contact_id", "binding"),
            written,
            owned,
            _fields_from_json(own, "binding own") if own is not None else None,
        )


@quick_init
@dataclass(frozen=True, slots=True)
class SourceRef:
    """Which source record an item is about: its key, where it is for messages, and the
    record as read (``name``, and ``phones`` in Sipalto's form), so a reviewer's decision
    can say what it was made about. Plan files made before those two lack them (empty)."""

    key: str
    location: str
    name: str = ""
    phones: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class Candidate:
    """A phonebook contact a ``review`` item might be, with the evidence for it."""

    id: str
    fields: ContactFields
    score: float
    reason: str


@quick_init
@dataclass(frozen=True, slots=True)
class PlanItem:
    """One decision of the plan.

    The apply engine reads ``action``, ``id`` (the phonebook contact involved, None for
    an add), ``before`` (the contact as read) and ``after`` (what to write). ``score`` is
    the 0-100 match score of the contact the decision is about (or of the closest one
    considered), None when there was none; ``reason`` says why in a few words. ``sync``
    tags what only a scheduled sync plans (:data:`SYNC_TAGS`), None otherwise.
    """

    action: str
    id: str | None = None
    before: ContactFields | None = None
    after: ContactFields | None = None
    source: SourceRef | None = None
    reason: str = ""
    score: float | None = None
    warnings: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    sync: str | None = None
    own: ContactFields | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}")
        if self.sync is not None and SYNC_TAGS.get(self.sync) != self.action:
            raise ValueError(_sync_problem(self.sync, self.action))


@dataclass(frozen=True, slots=True)
class PlanSettings:
    """Everything besides the data that decides a plan; stored in the plan file.

    ``region`` is the default region for numbers without a country code; ``phones`` is
    the phone policy (:data:`PHONE_POLICIES`); ``delete`` the delete policy
    (:data:`DELETE_POLICIES`); ``match`` the matcher's thresholds; ``decisions`` the
    reviewers' decisions by source key; ``names`` the name policy (:data:`NAME_POLICIES`).
    A scheduled sync's: ``on_phonebook_edit`` (:data:`EDIT_POLICIES`) for a bound contact
    edited outside the job, ``readd_deleted`` to add again a bound contact deleted from
    the phonebook (else it is reported for review).
    """

    region: str = "GB"
    phones: str = "merge"
    delete: str = "never"
    match: MatchSettings = field(default_factory=MatchSettings)
    decisions: Mapping[str, Decision] = field(default_factory=dict)
    names: str = "phonebook"
    on_phonebook_edit: str = "review"
    readd_deleted: bool = False

    def __post_init__(self) -> None:
        region = self.region.upper()
        if phonenumbers.PhoneMetadata.metadata_for_region(region) is None:
            raise ConfigError(f"unknown region {self.region!r}: use a code such as GB or IE")
        object.__setattr__(self, "region", region)
        if self.phones not in PHONE_POLICIES:
            raise ConfigError(f"phones policy must be one of {', '.join(PHONE_POLICIES)}")
        if self.delete not in DELETE_POLICIES:
            raise ConfigError(f"delete policy must be one of {', '.join(DELETE_POLICIES)}")
        if self.names not in NAME_POLICIES:
            raise ConfigError(f"names policy must be one of {', '.join(NAME_POLICIES)}")
        if self.on_phonebook_edit not in EDIT_POLICIES:
            raise ConfigError(f"on_phonebook_edit must be one of {', '.join(EDIT_POLICIES)}")
        if not isinstance(self.readd_deleted, bool):
            raise ConfigError("readd_deleted must be true or false")

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON object."""
        return {
            "region": self.region,
            "phones": self.phones,
            "delete": self.delete,
            "names": self.names,
            "on_phonebook_edit": self.on_phonebook_edit,
            "readd_deleted": self.readd_deleted,
            "match": self.match.to_json(),
            "decisions": {key: self.decisions[key].to_json() for key in sorted(self.decisions)},
        }

    @classmethod
    def from_json(cls, data: object) -> PlanSettings:
        """Inverse of :meth:`to_json`; ``PlanError`` if the shape is wrong."""
        mapping = _mapping(data, "settings")
        try:
            decisions = {
                str(key): parse_decision(value)
                for key, value in _mapping(mapping.get("decisions", {}), "decisions").items()
            }
            return cls(
                region=_text(mapping, "region"),
                phones=_text(mapping, "phones"),
                delete=_text(mapping, "delete"),
                # Absent from plan files made before the setting: they wrote the source's form.
                names=_text({"names": "source", **mapping}, "names"),
                # Absent from plan files made before scheduled sync: the defaults.
                on_phonebook_edit=_text(
                    {"on_phonebook_edit": "review", **mapping}, "on_phonebook_edit"
                ),
                readd_deleted=_flag(mapping, "readd_deleted"),
                match=MatchSettings.from_json(_mapping(mapping.get("match", {}), "match")),
                decisions=decisions,
            )
        except (ValueError, ConfigError) as exc:
            raise PlanError(f"plan file: bad settings: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Plan:
    """A computed plan: its items, the settings it was made with, and what it was made
    against (``server``, and ``base``, a fingerprint of the phonebook as read, so the
    apply step can refuse a stale plan)."""

    plan_id: str
    created_at: datetime
    server: str
    base: str
    settings: PlanSettings
    items: tuple[PlanItem, ...]
    warnings: tuple[str, ...] = ()
    version: int = PLAN_VERSION

    @property
    def summary(self) -> dict[str, int]:
        """How many items of each action, every action listed (in :data:`ACTIONS` order)."""
        # Asked for by every view of a plan: counted in C, not in a loop (0.05 s at 100k).
        counted = Counter(map(attrgetter("action"), self.items))
        return {action: counted[action] for action in ACTIONS}

    @property
    def has_changes(self) -> bool:
        """True when applying the plan would write (an add, update or delete)."""
        return any(item.action in CHANGE_ACTIONS for item in self.items)

    def to_json(self) -> dict[str, Any]:
        """The plan file's JSON object (schema version 1, documented in the README)."""
        return {**self.head_to_json(), "items": [item_to_json(item) for item in self.items]}

    def head_to_json(self) -> dict[str, Any]:
        """:meth:`to_json` without its last key, ``items``: what a writer that streams the
        items one at a time (:func:`~connector.reconcile.planfile.plan_file_chunks`) needs."""
        return {
            "version": self.version,
            "plan_id": self.plan_id,
            "created_at": self.created_at.isoformat(),
            "server": self.server,
            "base": self.base,
            "summary": self.summary,
            "settings": self.settings.to_json(),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, data: object, *, items: tuple[PlanItem, ...] | None = None) -> Plan:
        """A plan from its JSON object; ``PlanError`` on an unknown version or bad shape.

        ``items``: the plan's items, when the caller has made them from ``data["items"]``
        already (the plan file reader's quick path, which holds them to what this makes);
        ``data["items"]`` is then not read, and everything else is checked as always.
        """
        mapping = _mapping(data, "plan")
        version = mapping.get("version")
        if "version" not in mapping:
            raise PlanError(
                "plan file: no version: not a plan file written by `sipalto-sync plan --out`"
            )
        if version != PLAN_VERSION:
            raise PlanError(
                f"plan file: version {version!r} is not supported (expected {PLAN_VERSION});"
                " make the plan again with this version of sipalto-sync"
            )
        try:
            created_at = datetime.fromisoformat(_text(mapping, "created_at"))
        except ValueError as exc:
            raise PlanError(f"plan file: created_at is not an ISO date ({exc})") from exc
        listed = mapping.get("items") if items is None else []
        if not isinstance(listed, list):
            raise PlanError("plan file: items must be a list")
        warnings = mapping.get("warnings", [])
        if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
            raise PlanError("plan file: warnings must be a list of strings")
        plan = cls(
            plan_id=_text(mapping, "plan_id"),
            created_at=created_at,
            server=_text(mapping, "server"),
            base=_text(mapping, "base"),
            settings=PlanSettings.from_json(mapping.get("settings")),
            items=(
                tuple(_item_from_json(item, n) for n, item in enumerate(listed, start=1))
                if items is None
                else items
            ),
            warnings=tuple(warnings),
        )
        if "summary" in mapping:
            _check_summary(mapping["summary"], plan.summary)
        _check_writes(plan.items)
        return plan


# -- JSON ------------------------------------------------------------------------------------

_FIELDS = ("name", "phone1", "phone2", "phone3")
_CANDIDATE_KEYS = frozenset({"id", "score", "reason"})


def _check_summary(summary: object, counted: dict[str, int]) -> None:
    """The stored summary must agree with the items: a plan edited by hand disagrees."""
    if summary == counted:
        return
    if not isinstance(summary, Mapping):
        raise PlanError("plan file: summary does not match the items (it is not an object)")
    for action in sorted({*summary, *counted}, key=lambda a: (a not in ACTIONS, a)):
        stored, actual = summary.get(action), counted.get(action)
        if stored != actual:
            raise PlanError(
                f"plan file: summary does not match the items ({action}: {stored!r} in the"
                f" summary, {actual or 0} in the items; edited by hand?)"
            )


def _check_writes(items: tuple[PlanItem, ...]) -> None:
    """An add has no id (the server gives one), and no contact is written twice."""
    written: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        if item.action == "add" and item.id is not None:
            raise PlanError(
                f"plan file: plan item {number} is an add with id {item.id!r}: an add makes a"
                " new contact, so it has no id (an item changing contact"
                f" {item.id} is an update)"
            )
        if item.action not in CHANGE_ACTIONS or item.id is None:
            continue
        first = written.setdefault(item.id, number)
        if first != number:
            raise PlanError(
                f"plan file: plan item {number} writes contact {item.id} again"
                f" (plan item {first} already does)"
            )


def item_to_json(item: PlanItem) -> dict[str, Any]:
    """One item of the plan file's ``items`` list."""
    data: dict[str, Any] = {
        "action": item.action,
        "id": item.id,
        "before": item.before.to_json() if item.before else None,
        "after": item.after.to_json() if item.after else None,
        "source": _source_to_json(item.source) if item.source else None,
        "reason": item.reason,
        "score": item.score,
        "warnings": list(item.warnings),
        "candidates": [candidate_to_json(c) for c in item.candidates],
    }
    if item.sync is not None:  # omitted otherwise: plan files stay as they were
        data["sync"] = item.sync
    if item.own is not None:
        data["own"] = item.own.to_json()
    return data


def _item_from_json(data: object, number: int) -> PlanItem:
    """Item ``number`` (1-based, as every message counts plan items) from its JSON."""
    where = f"plan item {number}"
    mapping = _mapping(data, where)
    action = mapping.get("action")
    if action not in ACTIONS:
        raise PlanError(f"plan file: {where} has unknown action {action!r}")
    source = mapping.get("source")
    candidates = mapping.get("candidates", [])
    if not isinstance(candidates, list):
        raise PlanError(f"plan file: {where} candidates must be a list")
    warnings = mapping.get("warnings", [])
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise PlanError(f"plan file: {where} warnings must be a list of strings")
    before, after = mapping.get("before"), mapping.get("after")
    sync = _optional_text(mapping, "sync", where)
    if sync is not None and SYNC_TAGS.get(sync) != action:
        raise PlanError(f"plan file: {where}: {_sync_problem(sync, action)}")
    own = mapping.get("own")
    return PlanItem(
        action=action,
        id=_optional_text(mapping, "id", where),
        before=_fields_from_json(before, f"{where} before") if before else None,
        after=_fields_from_json(after, f"{where} after") if after else None,
        source=_source_from_json(source, f"{where} source") if source is not None else None,
        reason=_text(mapping, "reason", where),
        score=_score(mapping.get("score"), where),
        warnings=tuple(warnings),
        candidates=tuple(_candidate_from_json(c, f"{where} candidate") for c in candidates),
        sync=sync,
        own=_fields_from_json(own, f"{where} own") if own is not None else None,
    )


def _sync_problem(sync: str, action: str) -> str:
    if sync not in SYNC_TAGS:
        return f"unknown sync tag {sync!r} (one of {', '.join(SYNC_TAGS)})"
    return f"sync tag {sync!r} goes with action {SYNC_TAGS[sync]!r}, not {action!r}"


def candidate_to_json(candidate: Candidate) -> dict[str, Any]:
    """One candidate of a review item in the plan file: the contact flat, then its score
    and the reason."""
    return {
        "id": candidate.id,
        **candidate.fields.to_json(),
        "score": candidate.score,
        "reason": candidate.reason,
    }


def _source_to_json(source: SourceRef) -> dict[str, Any]:
    return {
        "key": source.key,
        "location": source.location,
        "name": source.name,
        "phones": list(source.phones),
    }


def _source_from_json(data: object, where: str) -> SourceRef:
    mapping = _mapping(data, where)
    phones = mapping.get("phones", [])  # name and phones: absent from older plan files
    if not isinstance(phones, list) or not all(isinstance(p, str) for p in phones):
        raise PlanError(f"plan file: {where} phones must be a list of strings")
    return SourceRef(
        _text(mapping, "key", where),
        _text(mapping, "location", where),
        _text({"name": "", **mapping}, "name", where),
        tuple(phones),
    )


def _candidate_from_json(data: object, where: str) -> Candidate:
    mapping = _mapping(data, where)
    score = _score(mapping.get("score"), where)
    return Candidate(
        id=_text(mapping, "id", where),
        fields=_fields_from_json(mapping, where, extra=_CANDIDATE_KEYS),
        score=0.0 if score is None else score,
        reason=_text(mapping, "reason", where),
    )


def _fields_from_json(
    data: object, where: str, *, extra: frozenset[str] = frozenset()
) -> ContactFields:
    """Contact fields; ``extra`` are the other keys the object may hold (a candidate's)."""
    mapping = _mapping(data, where)
    unknown = sorted(str(key) for key in mapping if key not in _FIELDS and key not in extra)
    if unknown:
        raise PlanError(
            f"plan file: {where} has unknown field {', '.join(map(repr, unknown))}"
            f" (contact fields are {', '.join(_FIELDS)})"
        )
    values = []
    for key in _FIELDS:
        value = mapping.get(key, "")
        if not isinstance(value, str):
            raise PlanError(
                f"plan file: {where}: contact fields must be strings ({key} is {value!r})"
            )
        values.append(value)
    return ContactFields(*values)


def _mapping(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PlanError(f"plan file: {what} must be an object")
    return data


def _text(mapping: Mapping[str, Any], key: str, where: str = "") -> str:
    value = mapping.get(key)
    if not isinstance(value, str):
        raise PlanError(f"plan file: {_within(where, key)} must be a string")
    return value


def _flag(mapping: Mapping[str, Any], key: str) -> bool:
    value = mapping.get(key, False)
    if not isinstance(value, bool):
        raise PlanError(f"plan file: settings {key} must be true or false")
    return value


def _optional_text(mapping: Mapping[str, Any], key: str, where: str) -> str | None:
    value = mapping.get(key)
    if value is not None and not isinstance(value, str):
        raise PlanError(f"plan file: {_within(where, key)} must be a string or null")
    return value


def _score(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlanError(f"plan file: {_within(where, 'score')} must be a number or null")
    try:
        return float(value)
    except OverflowError as exc:  # an integer of hundreds of digits
        raise PlanError(f"plan file: {_within(where, 'score')} is out of range") from exc


def _within(where: str, key: str) -> str:
    return f"{where} {key}" if where else key
