"""Reviewers' decisions: pin a source record to a phonebook contact, to a new contact, or
leave it out.

A decisions file resolves ``review`` items (and may overrule any other item). Records are
named by their source key, the ``source.key`` of the plan item (the ``source_key`` column
of the CSV preview). Two formats are read, chosen by the file's extension:

YAML (``.yaml``, ``.yml``, also ``.json``): a mapping from source key to decision::

    C001: {match: "30001"}   # this record is phonebook contact 30001: update it
    C002: match 30002        # the same, written as text
    C003: add                # a new contact, whatever matching thinks
    "row:17": skip           # leave this record out of the sync

Quote keys and ids that look like numbers (``"0042"``) so YAML keeps them as written.

CSV (``.csv``): the preview written by ``sipalto-sync plan --format csv`` with its
``decision`` column filled in, for example in a spreadsheet: ``match 30001`` or just
``30001``, ``add``, ``skip``. Rows whose decision is empty are ignored; the key is read
from the ``source_key`` column (or ``key``). The delimiter is found as for a CSV source
(:func:`connector.delimited.sniff_delimiter`: comma, semicolon, tab or pipe, and Excel's
``sep=`` line), so whatever a spreadsheet saves is accepted.

The plan remembers the decisions it was made with in ``settings.decisions``, in the YAML
shape above.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.delimited import sniff_delimiter
from connector.errors import ConfigError
from connector.formulas import unescape_formula
from connector.yamlfile import load_yaml

__all__ = ["DECISION_ACTIONS", "Decision", "load_decisions", "parse_decision"]

#: What a reviewer can decide for a source record.
DECISION_ACTIONS = ("match", "add", "skip")


@dataclass(frozen=True, slots=True)
class Decision:
    """``match`` (with ``remote_id``), ``add`` or ``skip``."""

    action: str
    remote_id: str | None = None

    def __post_init__(self) -> None:
        if self.action not in DECISION_ACTIONS:
            raise ValueError(f"unknown decision {self.action!r}")
        if (self.action == "match") != bool(self.remote_id):
            raise ValueError("a match decision needs a contact id, and only a match has one")

    def to_json(self) -> str | dict[str, str]:
        """``"add"``, ``"skip"`` or ``{"match": "30001"}``."""
        if self.action == "match":
            assert self.remote_id is not None
            return {"match": self.remote_id}
        return self.action

    def __str__(self) -> str:
        return f"match {self.remote_id}" if self.action == "match" else self.action


def parse_decision(value: object) -> Decision:
    """A decision from YAML/JSON or a CSV cell.

    Accepts ``"add"``, ``"skip"``, ``"match 30001"``, ``"30001"`` (a bare numeric id means
    match, so a typo such as ``"ad"`` is an error, not an id) and ``{"match": 30001}``;
    raises ``ValueError`` with a readable message otherwise.
    """
    if isinstance(value, Mapping):
        contact_id = value.get("match")
        if set(value) != {"match"} or not _is_id(contact_id):
            raise ValueError(f"expected {{match: <contact id>}}, got {dict(value)!r}")
        return Decision("match", str(contact_id).strip())
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


def _is_id(value: object) -> bool:
    """A contact id as YAML or JSON may give one: text, or a whole number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    text = str(value).strip()
    return bool(text) and len(text.split()) == 1


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
    key_column = columns.get("source_key") or columns.get("key")
    decision_column = columns.get("decision")
    if key_column is None or decision_column is None:
        raise ConfigError(f"{path}: needs a source_key column and a decision column")
    decisions: dict[str, Decision] = {}
    for line, row in _csv_rows(reader, path, skipped):
        cell = (row.get(decision_column) or "").strip()
        if not cell:
            continue
        # The preview defused formula-like cells (connector.formulas); undo it.
        key = unescape_formula(row.get(key_column) or "").strip()
        if not key:
            raise ConfigError(f"{path}:{line}: a decision without a source key")
        try:
            decisions[key] = parse_decision(unescape_formula(cell))
        except ValueError as exc:
            raise ConfigError(f"{path}:{line}: {exc}") from exc
    return decisions


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
