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

A YAML file is checked against its schema, :class:`DecisionsFile` (pydantic, through
:mod:`connector.schema`), before anything is read from the source or the phonebook; each
mistake is one line naming the file, the line and the key, and what is allowed::

    decisions.yaml:4: C2.match: must be text, not a list (allowed: a contact id, ...)
    decisions.yaml:7: C4.record.phones[0]: must be quoted: unquoted, YAML reads it as ...

An empty file decides nothing.

CSV (``.csv``): the preview written by ``sipalto-sync plan --format csv`` with its
``decision`` column filled in, for example in a spreadsheet: ``match 30001`` or just
``30001``, ``add``, ``skip``. Rows whose decision is empty are ignored; the key is read
from the ``source_key`` column (or ``key``). The row itself is what the decision was made
about: ``source_name`` and ``source_phones`` the record (in an older preview without them,
the ``*_after`` columns of an ``add`` or ``review`` row), the ``*_before`` columns the
row's own contact (``id``), and the ``candidates`` cell the others. The delimiter is found
as for a CSV source (:func:`connector.delimited.sniff_delimiter`: comma, semicolon, tab or
pipe, and Excel's ``sep=`` line), so whatever a spreadsheet saves is accepted. A mistake
names the file, the line and the column (``review.csv:3: decision: expected add, ...``).

The plan remembers the decisions it was made with in ``settings.decisions``, in the YAML
shape above.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from connector.delimited import sniff_delimiter
from connector.errors import ConfigError
from connector.formulas import unescape_formula
from connector.schema import ConfigModel, Text, load_config, shorthand

__all__ = [
    "DECISION_ACTIONS",
    "DECISION_FIELDS",
    "Decision",
    "DecisionEntry",
    "Snapshot",
    "format_candidates",
    "load_decisions",
    "parse_candidates",
    "parse_decision",
    "positional_keys_warning",
]

#: What a reviewer can decide for a source record.
DECISION_ACTIONS = ("match", "add", "skip")

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


def _from_text(text: str) -> Decision:
    """``add``, ``skip``, ``match 30001`` or ``30001`` (a bare numeric id means match, so a
    typo such as ``ad`` is an error, not an id); ``ValueError`` saying what is wrong."""
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
    raise ValueError(f"expected add, skip or match <contact id>, got {text.strip()!r}")


# -- the schema of a decisions file --------------------------------------------------------------

_ID_HELP = "a contact id, such as '30001'"
_PHONES_HELP = 'a list of quoted numbers, such as ["02079460000"]'
_ENTRY_HELP = (
    "add, skip, match <contact id>, or a mapping of match or decision, with record, contact"
    " and candidates"
)


def _one_word(value: str) -> str:
    words = value.split()
    if not words:
        raise ValueError("must not be empty")
    if len(words) > 1:
        raise ValueError(f"a contact id is one word, not {value!r}")
    return words[0]


#: A contact id: text, or a whole number (YAML reads an unquoted ``30001`` as one).
ContactId = Annotated[Text, AfterValidator(_one_word)]


def _quoted(value: object) -> object:
    # YAML reads an unquoted 01234567 as the octal number 342391: the digits are lost, so
    # a number is refused rather than turned back into text.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise PydanticCustomError(
            "unquoted_number",
            "must be quoted: unquoted, YAML reads it as the number {number}",
            {"number": value},
        )
    return value


#: A phone number in a decisions file: quoted text only.
Phone = Annotated[str, BeforeValidator(_quoted)]


def _checked_text(value: str) -> str:
    _from_text(value)  # its ValueError says what is wrong
    return value


#: A decision written as text: ``add``, ``skip``, ``match 30001`` or ``30001``.
DecisionText = Annotated[Text, AfterValidator(_checked_text)]


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class SeenEntry(ConfigModel):
    """A record or contact as the preview showed it: a decision's ``record`` or ``contact``."""

    name: Text = Field(description="text")
    phones: list[Phone] = Field(default_factory=list, description=_PHONES_HELP)

    def snapshot(self) -> Snapshot:
        """The :class:`Snapshot` this entry describes."""
        return Snapshot(self.name, tuple(self.phones))


class CandidateEntry(SeenEntry):
    """One of the ``candidates`` of a decisions template: a contact the record may be."""

    id: ContactId = Field(description=_ID_HELP)
    score: float | None = Field(None, description="a number from 0 to 100")


class DecisionEntry(ConfigModel):
    """A decision written as a mapping: ``match`` or ``decision`` (not both), and what it
    was made about. ``decision`` left empty decides nothing."""

    match: ContactId | None = Field(None, description=_ID_HELP)
    decision: Annotated[DecisionText | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="add, skip or match <contact id>; left empty, decides nothing"
    )
    record: SeenEntry | None = Field(
        None, description="the source record as the preview showed it: {name, phones}"
    )
    contact: SeenEntry | None = Field(
        None, description="for a match, the chosen contact as the preview showed it: {name, phones}"
    )
    candidates: list[CandidateEntry] | None = Field(
        None, description="a list of {id, name, phones, score}"
    )

    @field_validator("match", mode="before")
    @classmethod
    def _match_names_a_contact(cls, value: object) -> object:
        if value is None:  # "match:" left empty is a mistake; an empty decision is not
            raise ValueError("must not be empty")
        return value

    # Fields are validated in the order they are declared: match, decision, record, contact.
    @field_validator("decision")
    @classmethod
    def _not_both(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("match") is not None:
            raise ValueError("give match or decision, not both")
        return value

    @field_validator("contact")
    @classmethod
    def _only_for_a_match(cls, value: SeenEntry | None, info: ValidationInfo) -> SeenEntry | None:
        decision = info.data.get("decision")
        if value is not None and info.data.get("match") is None and decision is not None:
            action = _from_text(decision).action
            if action != "match":
                raise ValueError(f"a contact is only for a match decision, not {action}")
        return value

    @model_validator(mode="after")
    def _decides(self) -> DecisionEntry:
        if not {"match", "decision"} & self.model_fields_set:
            raise ValueError("needs match: <contact id>, or decision: add, skip or match <id>")
        return self

    def to_decision(self) -> Decision | None:
        """The decision, with what it was made about; None if ``decision`` is left empty."""
        if self.match is not None:
            decision = Decision("match", self.match)
        elif self.decision is not None:
            decision = _from_text(self.decision)
        else:
            return None
        record = self.record.snapshot() if self.record else None
        contact = self.contact.snapshot() if self.contact else None
        if contact is None and decision.remote_id is not None:
            # The template lists the candidates: the one chosen is the contact it saw.
            chosen = (c for c in self.candidates or () if c.id == decision.remote_id)
            contact = next((c.snapshot() for c in chosen), None)
        return decision.with_snapshots(record, contact)


#: The fields of a decision written as a mapping (``match`` or ``decision``, not both).
DECISION_FIELDS = tuple(DecisionEntry.model_fields)


def _form(value: object) -> str:
    """Which form of decision ``value`` is written in: text (a whole number is an id), or
    anything else, which only a mapping may be."""
    text = isinstance(value, (str, int)) and not isinstance(value, bool)
    return "text" if text else "mapping"


#: One decision: text, or a mapping. Told apart by form, so a mistake gets the one error of
#: the form it is written in, not one for each form it is not.
DecisionValue = Annotated[
    Annotated[DecisionText, Tag("text")]
    # Text never reaches this member (see _form): shorthand only refuses what is neither.
    | Annotated[DecisionEntry, BeforeValidator(shorthand("decision", "text")), Tag("mapping")],
    Discriminator(_form),
    Field(description=_ENTRY_HELP),
]


def _none_is_empty(value: object) -> object:
    return {} if value is None else value  # a file with nothing in it yet decides nothing


@cache
def _decisions_file() -> type[Any]:
    """:class:`DecisionsFile`, made on first use: a pydantic ``RootModel`` is built when
    it is declared (``defer_build`` does not reach a generic's parametrisation), a
    twentieth of a second at every start of every command that plans or applies, for a
    file only ``--decisions`` reads."""
    from pydantic import RootModel

    class DecisionsFile(
        RootModel[Annotated[dict[Text, DecisionValue], BeforeValidator(_none_is_empty)]]
    ):
        """The schema of a YAML decisions file: source key to decision."""

        model_config = ConfigDict(strict=True, frozen=True, defer_build=True)

        def decisions(self) -> dict[str, Decision]:
            """Each source key's decision; entries whose decision is left empty are left
            out."""
            decided = {key: _decision_of(value) for key, value in self.root.items()}
            return {key: decision for key, decision in decided.items() if decision is not None}

    DecisionsFile.__module__ = __name__
    return DecisionsFile


def __getattr__(name: str) -> Any:
    if name == "DecisionsFile":  # the schema of a YAML decisions file (see _decisions_file)
        return _decisions_file()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _decision_of(value: str | DecisionEntry) -> Decision | None:
    return value.to_decision() if isinstance(value, DecisionEntry) else _from_text(value)


_ONE_DECISION: TypeAdapter[str | DecisionEntry] = TypeAdapter(
    DecisionValue, config=ConfigDict(strict=True, defer_build=True)
)


def parse_decision(value: object) -> Decision:
    """One decision from JSON or YAML data (a plan file's ``settings.decisions``), as in a
    decisions file; raises ``ValueError`` saying what is wrong, or if it decides nothing."""
    try:
        entry = _ONE_DECISION.validate_python(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(step) for step in error["loc"] if step not in ("text", "mapping"))
        problem = str((error.get("ctx") or {}).get("error", error["msg"]))
        raise ValueError(f"{where}: {problem}" if where else problem) from exc
    decision = _decision_of(entry)
    if decision is None:
        raise ValueError("its decision is empty")
    return decision


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
    if path.suffix.lower() != ".csv":
        return load_config(path, _decisions_file(), what="decisions file").decisions()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read decisions file: {exc}", path=path) from exc
    return _from_csv(text, path)


def _from_csv(text: str, path: Path) -> dict[str, Decision]:
    has_sep_line, delimiter = sniff_delimiter(text)
    skipped = 0
    if has_sep_line:
        text, skipped = text.partition("\n")[2], 1
    # strict: a quote left open or a stray one is an error, not half the file in one cell.
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header_line = 1 + skipped
    try:
        fieldnames = reader.fieldnames or ()
    except csv.Error as exc:
        raise _csv_error(path, header_line, None, f"cannot read CSV: {exc}") from exc
    columns = {(name or "").strip().lower(): name for name in fieldnames}
    key_column = next((name for name in ("source_key", "key") if name in columns), None)
    if key_column is None or "decision" not in columns:
        raise _csv_error(path, header_line, None, "needs a source_key column and a decision column")
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
            raise _csv_error(path, line, columns[key_column], "empty, but the row has a decision")
        try:
            decision = _from_text(cells.get("decision"))
        except ValueError as exc:
            raise _csv_error(path, line, columns["decision"], str(exc)) from exc
        decisions[key] = decision.with_snapshots(cells.record(), cells.contact(decision))
    return decisions


def _csv_error(path: Path, line: int, column: str | None, problem: str) -> ConfigError:
    """``FILE:LINE: COLUMN: problem``, the column by its header as the file writes it."""
    where = f"{path}:{line}: {column.strip()}: " if column else f"{path}:{line}: "
    return ConfigError(
        where + problem, path=path, line=line, key=column.strip() if column else None
    )


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
            raise _csv_error(path, start, None, f"cannot read CSV: {exc}") from exc
        if row is None:
            return
        line = reader.line_num + skipped
        extra = [cell for cell in row.get(None) or () if cell.strip()]
        if extra:
            width = len(reader.fieldnames or ())
            problem = f"row has {width + len(row[None])} fields, the header has {width}"
            raise _csv_error(path, line, None, problem)
        yield line, row
