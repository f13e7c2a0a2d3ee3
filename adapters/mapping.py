"""Mappings: how the columns of a tabular source become a contact's key, name and phones.

A mapping is a small YAML file (or a shipped preset in ``mappings/*.yaml``)::

    key: "Contact ID"                                  # optional
    name: ["{First Name} {Last Name}", "{Company}"]    # column, or templates tried in order
    phones: [Mobile Phone, {column: Business Phone, label: work}]

With no mapping, :func:`detect_preset` recognises a shipped preset from the header row,
and failing that :func:`adapters.guessing.guess_mapping` recognises common headers (Name,
First Name, Company, Mobile, Phone 1, ...). :meth:`Mapping.bind` ties a mapping to one
header row and turns each row's cells into a key, a name and :class:`RawPhone` values.

A mapping file is checked against its schema, :class:`MappingFile` (pydantic, through
:mod:`connector.schema`), before anything else is read: each mistake is one line naming
the file, the line, the setting and what is allowed. The full format is described in the
README's "Mapping format".
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, NoReturn

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from connector.errors import ConfigError, SourceError
from connector.model import KEY_PHONEBOOK_ID, KEY_SOURCE_ID, RawPhone
from connector.paths import resource_dir
from connector.schema import (
    ConfigModel,
    Text,
    as_list,
    load_config,
    parse_config,
    shorthand,
    validate_config,
)
from connector.yamlfile import load_yaml

#: Google marks a contact's primary value by starting its label with this ("* Mobile").
PRIMARY_LABEL_MARK = "*"

#: What a mapping reads: a file's table (:class:`Mapping`), or a CRM's REST API
#: (:mod:`adapters.crm`); a CRM mapping is told by its ``endpoint`` key.
FILE_KIND = "file"
CRM_KIND = "crm"
CRM_MARK = "endpoint"

#: What a mapping's ``key`` column may hold (``key_is``): the source's own id for a record
#: (the default), or the Sipalto contact id, which binds the record to that contact.
KEY_IS = (KEY_SOURCE_ID, KEY_PHONEBOOK_ID)
_TEMPLATE_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")
# Every piece of a template: literal braces, a field (perhaps empty), and a stray brace.
_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NUMBERED = "{n}"
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
# How many header cells, and how much of each, a message shows.
_LISTED_HEADERS = 20
_SHOWN_CHARS = 60


@dataclass(frozen=True, slots=True)
class PhoneColumn:
    """One phone column of a mapping.

    ``column`` may contain ``{n}`` to stand for every numbered column of that shape
    (``"Phone {n} - Value"`` matches ``Phone 1 - Value``, ``Phone 2 - Value``, ...).
    ``label`` is the label the numbers get (default: the column's header);
    ``label_column`` names a column holding each row's label instead (Google's
    ``Phone {n} - Label``), where a label starting ``*`` marks the primary number.
    """

    column: str
    label: str | None = None
    label_column: str | None = None
    preferred: bool = False


@dataclass(frozen=True, slots=True)
class Mapping:
    """How a tabular source becomes contacts.

    ``names`` are templates such as ``"{First Name} {Last Name}"`` tried in order, the
    first that yields a non-empty name wins (a plain column is stored as ``"{Column}"``).
    ``detect`` lists header sets that identify the export a preset was written for.
    ``allow_missing_columns`` lets a preset cover several header sets (Outlook's
    desktop and web exports): columns absent from the header are then skipped rather
    than reported, as long as one name template and one phone column remain.
    ``unescape_formulas`` reads cells that sipalto-sync's own CSV defused against
    spreadsheet formulas (``'=SUM(1)``) back as they were (:mod:`connector.formulas`).
    ``key_is`` says what the ``key`` column holds (:data:`KEY_IS`): ``phonebook_id`` (the
    ``sipalto`` preset) makes each keyed row the phonebook contact with that id, updated
    to exactly what the row says.
    """

    name: str
    names: tuple[str, ...]
    phones: tuple[PhoneColumn, ...]
    key: str | None = None
    key_is: str = KEY_SOURCE_ID
    description: str = ""
    detect: tuple[tuple[str, ...], ...] = ()
    allow_missing_columns: bool = False
    unescape_formulas: bool = False
    origin: str = ""

    @classmethod
    def from_dict(cls, data: object, *, name: str, origin: str) -> Mapping:
        """Build a mapping from parsed YAML; ``origin`` names the file in error messages.

        Raises :class:`ConfigError` for a mistake :class:`MappingFile` finds.
        """
        settings = validate_config(data, MappingFile, origin=origin)
        return cls.from_settings(settings, name=name, origin=origin)

    @classmethod
    def from_settings(cls, settings: MappingFile, *, name: str, origin: str) -> Mapping:
        """The mapping a validated mapping file describes."""
        return cls(
            name=name,
            names=tuple(settings.name),
            phones=tuple(
                PhoneColumn(p.column, p.label, p.label_column, p.preferred) for p in settings.phones
            ),
            key=settings.key,
            key_is=settings.key_is,
            description=settings.description or "",
            detect=tuple(tuple(headers) for headers in settings.detect or ()),
            allow_missing_columns=settings.allow_missing_columns,
            unescape_formulas=settings.unescape_formulas,
            origin=origin,
        )

    def bind(self, headers: Sequence[str], *, path: str | Path, line: int) -> BoundMapping:
        """Tie the mapping to a header row.

        Raises :class:`SourceError` at ``path:line`` when a column the mapping needs
        is not in ``headers``.
        """
        return _Binder(self, headers, path, line).bind()


@dataclass(frozen=True, slots=True)
class BoundTemplate:
    """A parsed template: literal text and value indexes, in order.

    File mappings index a row's cells; CRM mappings (:mod:`adapters.crm`) index the values
    a record's paths select. Either way rendering is plain substitution: no code runs.
    """

    parts: tuple[str | int, ...]
    #: The one value the template is, with no text around it (``"{Name}"``), else None.
    column: int | None = field(init=False, default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.parts) == 1 and isinstance(self.parts[0], int):
            object.__setattr__(self, "column", self.parts[0])

    def render(self, values: Sequence[str], *, tidy: bool = True) -> str:
        """The filled-in text, or ``""`` when every column it uses is empty.

        ``tidy`` collapses whitespace and drops the punctuation an empty column leaves
        behind (right for names, wrong for keys, which must stay exactly as written).
        """
        index = self.column
        if index is not None:  # most templates: one column, nothing to tidy around it
            value = values[index].strip() if index < len(values) else ""
            return " ".join(value.split()) if tidy else value
        out: list[str] = []
        filled = empty = False
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = values[part].strip() if part < len(values) else ""
            filled = filled or bool(value)
            empty = empty or not value
            out.append(value)
        if not filled:
            return ""
        text = "".join(out)
        if not tidy:
            return text.strip()
        if not empty:
            return " ".join(text.split())
        # An empty column leaves debris ("Smith, " or "Bob Smith ()"), and
        # "{First} {Last} ({Company})" on a company-only row leaves just "(Company)":
        # decoration without a name, so the next template gets its turn.
        text = _tidy(text)
        return text if _tidy(_BRACKETED.sub("", text)) else ""


@dataclass(frozen=True, slots=True)
class _BoundPhone:
    index: int
    label: str
    label_index: int | None
    preferred: bool


@dataclass(frozen=True, slots=True)
class BoundMapping:
    """A mapping tied to one header row; turns a row of cells into record fields."""

    mapping: Mapping
    key: BoundTemplate | None
    names: tuple[BoundTemplate, ...]
    phones: tuple[_BoundPhone, ...]
    summary: str = ""

    def key_of(self, values: Sequence[str]) -> str:
        """The row's key, or ``""`` when the mapping has none or the row leaves it empty."""
        return self.key.render(values, tidy=False) if self.key else ""

    def name_of(self, values: Sequence[str]) -> str:
        """The first non-empty name template's result, whitespace collapsed."""
        for template in self.names:
            name = template.render(values)
            if name:
                return name
        return ""

    def phones_of(self, values: Sequence[str]) -> list[RawPhone]:
        """The row's raw phone cells in mapping order (not split, not normalised)."""
        phones: list[RawPhone] = []
        for column in self.phones:
            value = values[column.index].strip() if column.index < len(values) else ""
            if not value:
                continue
            label, preferred = column.label, column.preferred
            if column.label_index is not None and column.label_index < len(values):
                label, marked = _parse_label(values[column.label_index])
                preferred = preferred or marked
            phones.append(RawPhone(value, label, preferred))
        return phones


def load_mapping(name_or_path: str | Path | Mapping) -> Mapping:
    """A file mapping from a preset name (``google-contacts``) or a YAML file path.

    A CRM mapping (one with an ``endpoint``, read by :mod:`adapters.crm`) is refused:
    it reads a CRM's URL, not a file.
    """
    if isinstance(name_or_path, Mapping):
        return name_or_path
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_file():
        return _load_file(path)
    if _preset_exists(text):
        if preset_kind(text) == CRM_KIND:
            raise ConfigError(_crm_for_a_file(f"preset {text}", text))
        return _load_preset(text)
    if path.suffix.lower() in (".yaml", ".yml") or len(path.parts) > 1:
        raise ConfigError(f"{path}: mapping file not found")
    names = ", ".join(file_preset_names())
    raise ConfigError(f"no mapping file or preset named {text!r} (presets: {names})")


def list_presets() -> list[tuple[str, str]]:
    """``(name, description)`` of every shipped file preset, sorted by name (the CRM
    presets are listed by :func:`adapters.registry.list_all_presets`)."""
    return [(name, _load_preset(name).description) for name in file_preset_names()]


def is_crm_mapping(data: object) -> bool:
    """Whether YAML ``data`` is a CRM mapping: one that names an ``endpoint`` to read."""
    return isinstance(data, dict) and CRM_MARK in data


def preset_kind(name: str) -> str:
    """:data:`FILE_KIND` or :data:`CRM_KIND`: what the shipped preset ``name`` reads."""
    return _preset_kind(name)


def file_preset_names() -> list[str]:
    """The shipped presets that read files, sorted."""
    return [name for name in _preset_names() if preset_kind(name) == FILE_KIND]


def crm_preset_names() -> list[str]:
    """The shipped presets that read a CRM's REST API, sorted."""
    return [name for name in _preset_names() if preset_kind(name) == CRM_KIND]


def preset_text(name: str) -> str:
    """The YAML text of a shipped preset, to show or copy as a starting point."""
    if not _preset_exists(name):
        close = difflib.get_close_matches(name, _preset_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"no preset named {name!r}{hint} (presets: {', '.join(file_preset_names())}; "
            f"CRM presets: {', '.join(crm_preset_names())})"
        )
    return _preset_file(name).read_text(encoding="utf-8")


def detect_preset(headers: Sequence[str]) -> Mapping | None:
    """The shipped preset whose ``detect`` header set is all present in ``headers``."""
    present = {_norm(h) for h in headers}
    for name in file_preset_names():
        mapping = _load_preset(name)
        if any(all(_norm(col) in present for col in cols) for cols in mapping.detect):
            return mapping
    return None


class _Binder:
    """Resolves a mapping's column references against one header row."""

    def __init__(self, mapping: Mapping, headers: Sequence[str], path: str | Path, line: int):
        self.mapping = mapping
        self.headers = list(headers)
        self.path = path
        self.line = line
        self.index: dict[str, list[int]] = {}
        for i, header in enumerate(self.headers):
            self.index.setdefault(_norm(header), []).append(i)
        self.missing: list[str] = []

    def bind(self) -> BoundMapping:
        mapping = self.mapping
        key = self._template(mapping.key) if mapping.key else None
        if mapping.key and key is None:
            self._fail(self.missing)
        # A preset's name template keeps the columns a file has: an Outlook-like export
        # without "Middle Name" still names people "{First Name} {Last Name}", not by
        # the next template down (their company).
        partial = mapping.allow_missing_columns
        names = [
            t for t in (self._template(n, partial=partial) for n in mapping.names) if t is not None
        ]
        missing_names = self.missing[:]
        phones = [p for column in mapping.phones for p in self._phone(column)]
        missing_phones = self.missing[len(missing_names) :]
        if self.missing and not mapping.allow_missing_columns:
            self._fail(self.missing)
        if not names:
            self._fail(missing_names, what="a name")
        if not phones:
            self._fail(missing_phones, what="a phone number")
        return BoundMapping(
            mapping=mapping,
            key=key,
            names=tuple(names),
            phones=tuple(phones),
            summary=self._summary(mapping, key, names, phones),
        )

    def _find(self, column: str) -> list[int]:
        return self.index.get(_norm(column), [])

    def _template(self, text: str, *, partial: bool = False) -> BoundTemplate | None:
        def find(column: str) -> int | None:
            found = self._find(column)
            return found[0] if found else None

        return bind_template(text, find, self.missing, partial=partial)

    def _phone(self, column: PhoneColumn) -> list[_BoundPhone]:
        if _NUMBERED in column.column:
            return self._numbered_phones(column)
        found = self._find(column.column)
        label_found, label_index = self._label_index(column.label_column)
        if not found:
            self.missing.append(column.column)
        if not found or not label_found:
            return []
        # A repeated header ("Phone, Phone") is several phone columns.
        return [self._bound_phone(column, index, label_index) for index in found]

    def _numbered_phones(self, column: PhoneColumn) -> list[_BoundPhone]:
        pieces = _norm(column.column).split(_NUMBERED)
        pattern = re.compile("^" + r"(\d+)".join(re.escape(p) for p in pieces) + "$")
        numbered = []
        for index, header in enumerate(self.headers):
            match = pattern.match(_norm(header))
            if match:
                numbered.append((int(match.group(1)), index))
        if not numbered:
            self.missing.append(column.column.replace(_NUMBERED, "1"))
        bound = []
        for n, index in sorted(numbered):
            label_column = column.label_column
            if label_column is not None:
                label_column = label_column.replace(_NUMBERED, str(n))
            label_found, label_index = self._label_index(label_column)
            if label_found:
                bound.append(self._bound_phone(column, index, label_index))
        return bound

    def _bound_phone(self, column: PhoneColumn, index: int, label_index: int | None) -> _BoundPhone:
        label = column.label if column.label is not None else self.headers[index].strip()
        return _BoundPhone(index, label, label_index, column.preferred)

    def _label_index(self, label_column: str | None) -> tuple[bool, int | None]:
        """``(usable, index)``: a phone entry whose label column is missing is unusable."""
        if label_column is None:
            return True, None
        found = self._find(label_column)
        if not found:
            self.missing.append(label_column)
            return False, None
        return True, found[0]

    def _fail(self, missing: list[str], what: str = "") -> NoReturn:
        origin = self.mapping.origin or self.mapping.name
        listed = ", ".join(repr(m) for m in dict.fromkeys(missing))
        if what:
            problem = f"mapping {origin} finds no column for {what}"
            problem += f" (missing: {listed})" if listed else ""
        else:
            plural = "s" if len(set(missing)) > 1 else ""
            problem = f"mapping {origin} names column{plural} {listed} not in the header"
        headers = describe_headers(self.headers)
        raise SourceError(
            f"{problem}; the header row has: {headers}", path=self.path, line=self.line
        )

    def _summary(
        self,
        mapping: Mapping,
        key: BoundTemplate | None,
        names: list[BoundTemplate],
        phones: list[_BoundPhone],
    ) -> str:
        def template_text(template: BoundTemplate) -> str:
            columns = [self.headers[p].strip() for p in template.parts if isinstance(p, int)]
            return " + ".join(columns)

        name_text = ", ".join(template_text(t) for t in names)
        phone_text = ", ".join(self.headers[p.index].strip() for p in phones)
        text = f"{name_text} -> name; {phone_text} -> phones"
        if key is not None:
            text += f"; {template_text(key)} -> key"
        return text


def bind_template(
    text: str, find: Callable[[str], int | None], missing: list[str], *, partial: bool = False
) -> BoundTemplate | None:
    """``text`` (a template such as ``"{First Name} {Last Name}"``) with each field turned
    into the index ``find`` gives it; ``{{`` and ``}}`` are literal braces.

    A field ``find`` knows nothing of is added to ``missing`` and the result is ``None``;
    with ``partial``, only when ``find`` knows none of its fields (the others are left out:
    a preset's ``{First Name} {Middle Name} {Last Name}`` on a file without a middle name).
    """
    parts: list[str | int] = []
    complete = True
    found_any = False
    last = 0
    for match in _TEMPLATE_FIELD.finditer(text):
        parts.append(text[last : match.start()])
        last = match.end()
        if match.group(1) is None:
            parts.append(match.group(0)[0])
            continue
        index = find(match.group(1))
        if index is None:
            missing.append(match.group(1))
            complete = False
            continue
        parts.append(index)
        found_any = True
    parts.append(text[last:])
    usable = complete or (partial and found_any)
    return BoundTemplate(tuple(p for p in parts if p != "")) if usable else None


def template_fields(text: str) -> list[str]:
    """The fields a template names, in order (``{{``/``}}`` are not fields)."""
    return [m.group(1) for m in _TEMPLATE_FIELD.finditer(text) if m.group(1) is not None]


def describe_headers(headers: Sequence[str]) -> str:
    """A header row's non-blank cells for a one-line message, the first few of them."""
    named = [one_line(h) for h in headers if h.strip()]
    if len(named) > _LISTED_HEADERS:
        named = [*named[:_LISTED_HEADERS], f"... and {len(named) - _LISTED_HEADERS} more"]
    return ", ".join(named) or "(none)"


def one_line(text: str) -> str:
    """``text`` fit for a one-line message: whitespace collapsed, cut short if long, and
    quoted with escapes if it holds control characters."""
    text = " ".join(text.split())
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "…"
    return text if text.isprintable() else repr(text)


def _parse_label(text: str) -> tuple[str, bool]:
    text = text.strip()
    if text.startswith(PRIMARY_LABEL_MARK):
        return text[len(PRIMARY_LABEL_MARK) :].strip(), True
    return text, False


def _tidy(text: str) -> str:
    text = _EMPTY_BRACKETS.sub("", text)
    text = " ".join(text.split())
    return text.strip(" ,;:/|-")


def _norm(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").split()).casefold()


def as_template(column: str) -> str:
    """A plain column name as a template; text already holding ``{...}`` stays as it is."""
    if _TEMPLATE_FIELD.search(column):
        return column
    return "{" + column.strip() + "}"


# -- the mapping file's schema ---------------------------------------------------------------


def _template(value: str) -> str:
    """A column name or a template, as a template. Text with a brace is a template and
    must be a whole one: ``"{Full Name"`` would name no column and give every record the
    same text, so it is refused saying which brace is wrong."""
    if not value.strip():
        raise PydanticCustomError("empty", "must not be empty")
    if "{" not in value and "}" not in value:
        return as_template(value)
    problem = _template_problem(value)
    if problem:
        shown = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"
        raise PydanticCustomError("template", "{problem}", {"problem": f"{shown!r} {problem}"})
    return value


def _template_problem(text: str) -> str | None:
    columns = 0
    for token in _TEMPLATE_TOKEN.finditer(text):
        at = token.start() + 1
        if token.group(0) in ("{{", "}}"):
            continue
        if token.group(1) is not None:
            if not token.group(1).strip():
                return f"has an empty {{}} at character {at}"
            columns += 1
        elif token.group(0) == "{":
            return f"opens a '{{' at character {at} that is never closed"
        else:
            return f"has a '}}' at character {at} that closes nothing"
    return None if columns else "names no column"


_TEMPLATE_HELP = (
    "a column name, or a template such as '{First Name} {Last Name}' in which {Column} "
    "is a cell and {{ and }} are literal braces"
)
#: A column name or template in a mapping file, read as a template.
Template = Annotated[Text, AfterValidator(_template)]


def _column(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("empty", "must not be empty")
    return value.strip()


#: A column name: text that is not blank, trimmed.
ColumnName = Annotated[Text, AfterValidator(_column)]


class PhoneEntry(ConfigModel):
    """One entry of a mapping file's ``phones``; becomes a :class:`PhoneColumn`."""

    column: ColumnName = Field(
        description="a column name, in which {n} stands for every number: 'Phone {n} - Value'"
    )
    label: Text | None = Field(None, description="text")
    label_column: Text | None = Field(None, description="a column name")
    preferred: bool = Field(False, description="true or false")


class MappingFile(ConfigModel):
    """The schema of a mapping file (``--mapping FILE.yaml`` and ``mappings/*.yaml``)."""

    description: Text | None = Field(None, description="text")
    key: Template | None = Field(None, description=_TEMPLATE_HELP)
    key_is: Literal["source_id", "phonebook_id"] = Field(
        "source_id",
        description="source_id (the source's own id for a record) or phonebook_id (the "
        "Sipalto contact id, as in sipalto-sync's own export; needs a key)",
    )
    name: Annotated[list[Template], BeforeValidator(as_list)] = Field(
        min_length=1, description=f"{_TEMPLATE_HELP}; or a list of them, tried in order"
    )
    phones: Annotated[
        list[Annotated[PhoneEntry, BeforeValidator(shorthand("column", "a column name"))]],
        BeforeValidator(as_list),
    ] = Field(
        min_length=1,
        description="a list of phone columns, each a column name or {column: NAME, "
        "label: TEXT, label_column: NAME, preferred: true}",
    )
    detect: list[Annotated[list[Text], Field(min_length=1)]] | None = Field(
        None, description="a list of header lists, such as [[First Name, Last Name, Mobile]]"
    )
    allow_missing_columns: bool = Field(False, description="true or false")
    unescape_formulas: bool = Field(False, description="true or false")

    @field_validator("key", mode="before")
    @classmethod
    def _no_key(cls, value: object) -> object:
        return None if value == "" else value  # "key:" and 'key: ""' both mean no key

    @field_validator("key_is")
    @classmethod
    def _phonebook_id_needs_a_key(cls, value: str, info: ValidationInfo) -> str:
        # ``key`` is declared first, so it has been read (or failed) by now.
        if value == KEY_PHONEBOOK_ID and info.data.get("key") is None:
            raise ValueError(f"'key_is: {KEY_PHONEBOOK_ID}' needs a 'key' column")
        return value


def _load_file(path: Path) -> Mapping:
    try:
        settings = load_config(path, MappingFile, what="mapping file")
    except ConfigError:
        # A CRM mapping given for a file fails as a file mapping ("endpoint: unknown
        # setting"); say what it is instead.
        if _is_crm_file(path):
            raise ConfigError(_crm_for_a_file(str(path), str(path)), path=path) from None
        raise
    return Mapping.from_settings(settings, name=path.stem, origin=str(path))


def _is_crm_file(path: Path) -> bool:
    try:
        return is_crm_mapping(load_yaml(path.read_text(encoding="utf-8-sig"), origin=str(path)))
    except (OSError, UnicodeDecodeError, ConfigError):
        return False


def _crm_for_a_file(origin: str, name: str) -> str:
    return (
        f"{origin} is a CRM mapping: it reads a CRM's web API, so give it a URL "
        f"(sipalto-sync plan https://... --mapping {name}), not a file"
    )


def _parse(text: str, *, name: str, origin: str) -> Mapping:
    settings = parse_config(text, MappingFile, origin=origin)
    return Mapping.from_settings(settings, name=name, origin=origin)


def _preset_dir() -> Path:
    return resource_dir("mappings")


def _preset_names() -> list[str]:
    return sorted(
        entry.name[: -len(".yaml")]
        for entry in _preset_dir().iterdir()
        if entry.name.endswith(".yaml")
    )


def _preset_file(name: str) -> Path:
    return _preset_dir().joinpath(f"{name}.yaml")


def _preset_exists(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_-]+", name)) and _preset_file(name).is_file()


@functools.cache
def _preset_kind(name: str) -> str:
    data = load_yaml(preset_text(name), origin=f"preset {name}")
    return CRM_KIND if is_crm_mapping(data) else FILE_KIND


@functools.cache
def _load_preset(name: str) -> Mapping:
    return _parse(preset_text(name), name=name, origin=f"preset {name}")
