"""Reviewers' decisions: pin a source record to a phonebook contact, to a new contact, or
leave it out; and what each decision was made about.

A decisions file resolves ``review`` items (and may overrule any other item). Records are
named by their source key, the ``source.key`` of the plan item (the ``source_key`` column
of the CSV preview). Two formats are read, chosen by the file's extension:

YAML (``.yaml``, ``.yml``, also ``.json``): a mapping from source key to decision::

    C001: {match: "30001"}   # this record is phonebook contact 30001: update it
    C002: match 30002        # the same, written as text
    C003: add                # a new contact, whatever matching thinks
    "row:17": skip           # leave this record out of the sync

Quote keys and ids that look like numbers (``"0042"``) so YAML keys them as written.

A decision may also say what it was made about, as ``plan --format decisions`` writes
it: ``record``, the source record as the preview showed it, and for a match ``contact``,
the chosen contact as it was then. In the template that command writes, ``candidates``
lists the contacts a review item may be: the one whose id is chosen is the ``contact``.
An entry whose ``decision`` is left empty decides nothing::

    C004:
      match: "30012"
      record: {name: Reception Desk, phones: ["02079460000"]}
      contact: {name: Reception, phones: ["02079460000"]}
    C005: {decision: add, record: {name: New Person, phones: ["07700900777"]}}
    C006:
      decision:              # not decided yet
      record: {name: Siobhan Murphy, phones: ["07700900904"]}
      candidates:
      - {id: "30004", name: Siobhan Murphy-Jones, phones: ["01632960004"], score: 80}

Such a decision is used only while the record and the contact still fit what it saw
(:mod:`connector.reconcile.fit`); one written by hand, without them, is checked against
the contact it names instead.

CSV (``.csv``): the preview written by ``sipalto-sync plan --format csv`` with its
``decision`` column filled in, for example in a spreadsheet: ``match 30001`` or just
``30001``, ``add``, ``skip``. Rows whose decision is empty are ignored; the key is read
from the ``source_key`` column (or ``key``). The row itself is what the decision was made
about: ``source_name`` and ``source_phones`` the record (in an older preview without them,
the ``*_after`` columns of an ``add`` or ``review`` row), the ``*_before`` columns the
row's own contact (``id``), and the ``candidates`` cell the others. The delimiter is found
as for a CSV source (:func:`connector.delimited.sniff_delimiter`: comma, semicolon, tab or
pipe, and Excel's ``sep=`` line), so whatever a spreadsheet saves is accepted.

The plan remembers the decisions it was made with in ``settings.decisions``, in the YAML
shape above.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from connector.delimited import sniff_delimiter
from connector.errors import ConfigError
from connector.formulas import unescape_formula
from connector.yamlfile import load_yaml

__all__ = [
    "DECISION_ACTIONS",
    "DECISION_FIELDS",
    "Decision",
    "Snapshot",
    "format_candidates",
    "load_decisions",
    "parse_candidates",
    "parse_decision",
    "positional_keys_warning",
    "undecided",
]

#: What a reviewer can decide for a source record.
DECISION_ACTIONS = ("match", "add", "skip")
#: The fields of a decision written as a mapping (``match`` or ``decision``, not both).
DECISION_FIELDS = ("match", "decision", "record", "contact", "candidates")
#: The fields of a record or contact a decision was made about.
SNAPSHOT_FIELDS = ("name", "phones")
#: The fields of one of the ``candidates`` of a decisions template.
CANDIDATE_FIELDS = ("id", "name", "phones", "score")

# Keys the adapters make from a position when the source has no key column.
_POSITIONAL_KEY = re.compile(r"(?:row|card):\d+")
_KEYS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A source record or a phonebook contact as a reviewer saw it: its name and its
    numbers, in any spelling (they are compared by name key and in Sipalto's form)."""

    name: str
    phones: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"name": ..., "phones": [...]}``."""
        return {"name": self.name, "phones": list(self.phones)}

    def __str__(self) -> str:
        return f"{self.name} ({', '.join(self.phones)})" if self.phones else self.name


@dataclass(frozen=True, slots=True)
class Decision:
    """``match`` (with ``remote_id``), ``add`` or ``skip``; with what it was made about,
    when known: ``record``, the source record, and (a match only) ``contact``, the chosen
    contact, each as the preview showed it."""

    action: str
    remote_id: str | None = None
    record: Snapshot | None = None
    contact: Snapshot | None = None

    def __post_init__(self) -> None:
        if self.action not in DECISION_ACTIONS:
            raise ValueError(f"unknown decision {self.action!r}")
        if (self.action == "match") != bool(self.remote_id):
            raise ValueError("a match decision needs a contact id, and only a match has one")
        if self.contact is not None and self.action != "match":
            raise ValueError("only a match decision has a contact")

    @property
    def recorded(self) -> bool:
        """True when the decision says what it was made about on both sides: the record,
        and for a match the contact (a decision made from a preview, not by hand)."""
        return self.record is not None and (self.action != "match" or self.contact is not None)

    def with_snapshots(self, record: Snapshot | None, contact: Snapshot | None) -> Decision:
        """This decision, with ``record`` and ``contact`` where it says nothing of them."""
        return replace(
            self,
            record=self.record or record,
            contact=self.contact or (contact if self.action == "match" else None),
        )

    def to_json(self) -> str | dict[str, Any]:
        """``"add"``, ``"skip"`` or ``{"match": "30001"}``; a mapping with ``record`` and
        ``contact`` when it says what it was made about."""
        data: dict[str, Any] = (
            {"match": self.remote_id} if self.action == "match" else {"decision": self.action}
        )
        if self.record is not None:
            data["record"] = self.record.to_json()
        if self.contact is not None:
            data["contact"] = self.contact.to_json()
        if list(data) == ["decision"]:
            return self.action
        return data

    def __str__(self) -> str:
        return f"match {self.remote_id}" if self.action == "match" else self.action


# -- parsing one decision ----------------------------------------------------------------------


def parse_decision(value: object) -> Decision:
    """A decision from YAML/JSON or a CSV cell.

    Accepts ``"add"``, ``"skip"``, ``"match 30001"``, ``"30001"`` (a bare numeric id means
    match, so a typo such as ``"ad"`` is an error, not an id) and a mapping of
    :data:`DECISION_FIELDS` (``{"match": 30001, "record": ..., "contact": ...}``, ``{"decision":
    "add", "record": ...}``); raises ``ValueError`` with a readable message otherwise.
    """
    if isinstance(value, Mapping):
        return _from_mapping(value)
    return _from_text(value)


def _from_text(value: object) -> Decision:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"expected add, skip or match <contact id>, got {value!r}")
    text = str(value).strip()
    words = text.split()
    if not words:
        raise ValueError("empty decision")
    verb = words[0].lower()
    if verb in ("add", "skip") and len(words) == 1:
        return Decision(verb)
    if verb == "match" and len(words) == 2:
        return Decision("match", words[1])
    if len(words) == 1 and verb.isdigit():  # a bare (numeric, as Sipalto's are) contact id
        return Decision("match", words[0])
    raise ValueError(f"expected add, skip or match <contact id>, got {text!r}")


def _from_mapping(value: Mapping[Any, Any]) -> Decision:
    _known_fields(value, DECISION_FIELDS, "a decision")
    if "match" in value and "decision" in value:
        raise ValueError("give either match: <contact id> or decision: ..., not both")
    if "match" in value:
        contact_id = value["match"]
        if not _is_id(contact_id):
            raise ValueError(f"expected {{match: <contact id>}}, got {dict(value)!r}")
        decision = Decision("match", str(contact_id).strip())
    elif "decision" in value:
        decision = _from_text(value["decision"])
    else:
        raise ValueError("needs match: <contact id>, or decision: add, skip or match <id>")
    record = _snapshot(value.get("record"), "record")
    contact = _snapshot(value.get("contact"), "contact")
    candidates = _candidates(value.get("candidates"))
    if contact is not None and decision.action != "match":
        raise ValueError(f"a contact is only for a match decision, not {decision}")
    if contact is None and decision.remote_id is not None:
        contact = candidates.get(decision.remote_id)
    return decision.with_snapshots(record, contact)


def undecided(value: object) -> bool:
    """True for a template entry whose ``decision`` was left empty: it decides nothing."""
    return (
        isinstance(value, Mapping)
        and "match" not in value
        and "decision" in value
        and (value["decision"] is None or str(value["decision"]).strip() == "")
    )


def _snapshot(value: object, what: str) -> Snapshot | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be {{name: ..., phones: [...]}}, got {value!r}")
    _known_fields(value, SNAPSHOT_FIELDS, what)
    name = value.get("name")
    if not isinstance(name, str):
        raise ValueError(f"{what} name must be text, got {name!r}")
    phones = value.get("phones", [])
    # Quoted strings only: YAML reads an unquoted 01234567 as the octal number 342391.
    if not isinstance(phones, list) or not all(isinstance(phone, str) for phone in phones):
        raise ValueError(f"{what} phones must be a list of quoted numbers, got {phones!r}")
    return Snapshot(name, tuple(phones))


def _candidates(value: object) -> dict[str, Snapshot]:
    """The template's ``candidates``: each contact by its id."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise ValueError(f"candidates must be a list, got {value!r}")
    found: dict[str, Snapshot] = {}
    for entry in value:
        if not isinstance(entry, Mapping) or not _is_id(entry.get("id")):
            raise ValueError(f"a candidate needs an id, got {entry!r}")
        _known_fields(entry, CANDIDATE_FIELDS, "a candidate")
        fields = {key: entry[key] for key in SNAPSHOT_FIELDS if key in entry}
        snapshot = _snapshot(fields, "candidate")
        assert snapshot is not None
        found.setdefault(str(entry["id"]).strip(), snapshot)
    return found


def _known_fields(value: Mapping[Any, Any], known: Iterable[str], what: str) -> None:
    allowed = tuple(known)
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise ValueError(
            f"unknown field {', '.join(map(repr, unknown))} in {what} "
            f"(its fields are {', '.join(allowed)})"
        )


def _is_id(value: object) -> bool:
    """A contact id as YAML or JSON may give one: text, or a whole number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    text = str(value).strip()
    return bool(text) and len(text.split()) == 1


# -- positional keys ---------------------------------------------------------------------------


def positional_keys_warning(keys: Iterable[str]) -> str | None:
    """The plan warning for decisions keyed by a row (``row:14``) or card (``card:3``)
    number, or None: such a key names whatever record is there now."""
    positional = sorted(key for key in keys if _POSITIONAL_KEY.fullmatch(key))
    if not positional:
        return None
    shown = ", ".join(positional[:_KEYS_SHOWN])
    if len(positional) > _KEYS_SHOWN:
        shown += f" and {len(positional) - _KEYS_SHOWN} more"
    kinds = sorted({key.partition(":")[0] for key in positional}, reverse=True)  # row, card
    return (
        f"decisions keyed by {' or '.join(kinds)} number ({shown}) move when"
        f" {' or '.join(kind + 's' for kind in kinds)} are added or removed above them: give"
        ' the source a key column (the mapping\'s key, such as key: "Contact ID") so a'
        " decision stays with its record"
    )


# -- files -------------------------------------------------------------------------------------


def load_decisions(path: str | Path) -> dict[str, Decision]:
    """Read a decisions file (YAML or the filled-in CSV preview); ``ConfigError`` if bad."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read decisions file ({exc})") from exc
    if path.suffix.lower() == ".csv":
        return _from_csv(text, path)
    return _from_yaml(text, path)


def _from_yaml(text: str, path: Path) -> dict[str, Decision]:
    data = load_yaml(text, origin=str(path))
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of source key to decision")
    decisions: dict[str, Decision] = {}
    for key, value in data.items():
        if undecided(value):
            continue
        try:
            decisions[str(key)] = parse_decision(value)
        except ValueError as exc:
            raise ConfigError(f"{path}: decision for {_shown(key)}: {exc}") from exc
    return decisions


def _from_csv(text: str, path: Path) -> dict[str, Decision]:
    has_sep_line, delimiter = sniff_delimiter(text)
    skipped = 0
    if has_sep_line:
        text, skipped = text.partition("\n")[2], 1
    # strict: a quote left open or a stray one is an error, not half the file in one cell.
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        fieldnames = reader.fieldnames or ()
    except csv.Error as exc:
        raise ConfigError(f"{path}:{1 + skipped}: cannot read CSV: {exc}") from exc
    columns = {(name or "").strip().lower(): name for name in fieldnames}
    key_column = next((name for name in ("source_key", "key") if name in columns), None)
    if key_column is None or "decision" not in columns:
        raise ConfigError(f"{path}: needs a source_key column and a decision column")
    decisions: dict[str, Decision] = {}
    for line, row in _csv_rows(reader, path, skipped):
        if not (row.get(columns["decision"]) or "").strip():
            continue
        # The preview defused formula-like cells (connector.formulas); undo it.
        cells = _PreviewRow(
            {name: unescape_formula(row.get(column) or "") for name, column in columns.items()}
        )
        key = cells.get(key_column).strip()
        if not key:
            raise ConfigError(f"{path}:{line}: a decision without a source key")
        try:
            decision = parse_decision(cells.get("decision").strip())
        except ValueError as exc:
            raise ConfigError(f"{path}:{line}: {exc}") from exc
        decisions[key] = decision.with_snapshots(cells.record(), cells.contact(decision))
    return decisions


@dataclass(frozen=True)
class _PreviewRow:
    """A row of the CSV preview, by lower-case column name: what a decision on it saw."""

    cells: Mapping[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")

    def record(self) -> Snapshot | None:
        """The source record the row shows, if it shows one."""
        if "source_name" in self.cells:
            name = self.get("source_name").strip()
            return Snapshot(name, _split_phones(self.get("source_phones"))) if name else None
        # A preview written before those columns: an add's or a review's "after" is the record.
        if self.get("action").strip() in ("add", "review"):
            return self._fields("after")
        return None

    def contact(self, decision: Decision) -> Snapshot | None:
        """The contact a match decision on this row chose, as the row shows it."""
        if decision.remote_id is None:
            return None
        if self.get("id").strip() == decision.remote_id:
            return self._fields("before")
        return parse_candidates(self.get("candidates")).get(decision.remote_id)

    def _fields(self, side: str) -> Snapshot | None:
        name = self.get(f"name_{side}").strip()
        if not name:
            return None
        phones = (self.get(f"phone{n}_{side}").strip() for n in (1, 2, 3))
        return Snapshot(name, tuple(phone for phone in phones if phone))


def _split_phones(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(",") if part.strip())


# -- the candidates cell -------------------------------------------------------------------------

_CANDIDATE = re.compile(
    r"(?:^|(?<=; ))(?P<id>[^\s;]+) (?P<name>.*?) \[(?P<phones>[^\]]*)\]"
    r" \((?P<score>[0-9.]+)\)(?=; |$)"
)


def format_candidates(candidates: Iterable[tuple[str, str, Iterable[str], float]]) -> str:
    """The CSV preview's ``candidates`` cell: ``30004 Siobhan Murphy [07700900904] (80)``,
    several separated by ``; ``, from ``(id, name, phones, score)``."""
    return "; ".join(
        f"{contact_id} {name} [{', '.join(phones)}] ({score:g})"
        for contact_id, name, phones, score in candidates
    )


def parse_candidates(cell: str) -> dict[str, Snapshot]:
    """Each contact of a :func:`format_candidates` cell by its id; what does not read as
    one (a cell edited by hand) is left out."""
    return {
        match["id"]: Snapshot(match["name"], _split_phones(match["phones"]))
        for match in _CANDIDATE.finditer(cell)
    }


def _shown(key: object) -> str:
    """A key for a one-line message: as written, or quoted if it holds a line break."""
    text = str(key)
    return text if text.isprintable() else repr(text)


def _csv_rows(
    reader: csv.DictReader[str], path: Path, skipped: int
) -> Iterator[tuple[int, dict[Any, Any]]]:
    """``(line, row)`` for each row; a row that cannot be read or does not line up with
    the header is an error at its line (a shifted row would put a name in the decision)."""
    while True:
        start = reader.line_num + 1 + skipped  # where the next row begins
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise ConfigError(f"{path}:{start}: cannot read CSV: {exc}") from exc
        if row is None:
            return
        line = reader.line_num + skipped
        extra = [cell for cell in row.get(None) or () if cell.strip()]
        if extra:
            width = len(reader.fieldnames or ())
            raise ConfigError(
                f"{path}:{line}: row has {width + len(row[None])} fields, the header has {width}"
            )
        yield line, row
