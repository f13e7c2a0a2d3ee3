"""Mappings: how the columns of a tabular source become a contact's key, name and phones.

A mapping is a small YAML file (or a shipped preset in ``mappings/*.yaml``)::

    key: "Contact ID"                                  # optional
    name: ["{First Name} {Last Name}", "{Company}"]    # column, or templates tried in order
    phones: [Mobile Phone, {column: Business Phone, label: work}]

With no mapping, :func:`detect_preset` recognises a shipped preset from the header row,
and failing that :func:`adapters.guessing.guess_mapping` recognises common headers (Name,
First Name, Company, Mobile, Phone 1, ...). :meth:`Mapping.bind` ties a mapping to one
header row and turns each row's cells into a key, a name and :class:`RawPhone` values.

The full format is described in the README's "Mapping format".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from connector.errors import ConfigError, SourceError
from connector.model import KEY_PHONEBOOK_ID, KEY_SOURCE_ID, RawPhone
from connector.paths import resource_dir
from connector.yamlfile import load_yaml

#: Google marks a contact's primary value by starting its label with this ("* Mobile").
PRIMARY_LABEL_MARK = "*"

_SETTINGS = frozenset(
    {
        "description",
        "key",
        "key_is",
        "name",
        "phones",
        "detect",
        "allow_missing_columns",
        "unescape_formulas",
    }
)
#: What a mapping's ``key`` column may hold (``key_is``): the source's own id for a record
#: (the default), or the Sipalto contact id, which binds the record to that contact.
KEY_IS = (KEY_SOURCE_ID, KEY_PHONEBOOK_ID)
_PHONE_SETTINGS = frozenset({"column", "label", "label_column", "preferred"})
_TEMPLATE_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")
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
        """Build a mapping from parsed YAML; ``origin`` names the file in error messages."""
        if not isinstance(data, dict):
            raise ConfigError(f"{origin}: a mapping must be a YAML mapping of settings")
        unknown = sorted(one_line(str(k)) for k in data if k not in _SETTINGS)
        if unknown:
            raise ConfigError(
                f"{origin}: unknown setting {', '.join(unknown)} "
                f"(expected {', '.join(sorted(_SETTINGS))})"
            )
        if "name" not in data or "phones" not in data:
            raise ConfigError(f"{origin}: a mapping needs both 'name' and 'phones'")
        key = data.get("key")
        if key is not None and not _is_text(key):
            raise ConfigError(f"{origin}: 'key' must be a column name or a template")
        key = _template_setting("key", key, origin) if key not in (None, "") else None
        key_is = data.get("key_is", KEY_SOURCE_ID)
        if key_is not in KEY_IS:
            raise ConfigError(
                f"{origin}: 'key_is' must be one of {', '.join(KEY_IS)}, not {key_is!r}"
            )
        if key_is == KEY_PHONEBOOK_ID and key is None:
            raise ConfigError(f"{origin}: 'key_is: {KEY_PHONEBOOK_ID}' needs a 'key' column")
        description = data.get("description") or ""
        if not isinstance(description, str):
            raise ConfigError(f"{origin}: 'description' must be text, not {description!r}")
        return cls(
            name=name,
            names=_names_setting(data["name"], origin),
            phones=_phones_setting(data["phones"], origin),
            key=key,
            key_is=key_is,
            description=description,
            detect=_detect_setting(data.get("detect"), origin),
            allow_missing_columns=_flag(data, "allow_missing_columns", origin),
            unescape_formulas=_flag(data, "unescape_formulas", origin),
            origin=origin,
        )

    def bind(self, headers: Sequence[str], *, path: str | Path, line: int) -> BoundMapping:
        """Tie the mapping to a header row.

        Raises :class:`SourceError` at ``path:line`` when a column the mapping needs
        is not in ``headers``.
        """
        return _Binder(self, headers, path, line).bind()


@dataclass(frozen=True, slots=True)
class _Template:
    """A parsed template: literal text and column indexes, in order."""

    parts: tuple[str | int, ...]

    def render(self, values: Sequence[str], *, tidy: bool = True) -> str:
        """The filled-in text, or ``""`` when every column it uses is empty.

        ``tidy`` collapses whitespace and drops the punctuation an empty column leaves
        behind (right for names, wrong for keys, which must stay exactly as written).
        """
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
    key: _Template | None
    names: tuple[_Template, ...]
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
    """A mapping from a preset name (``google-contacts``) or a YAML file path."""
    if isinstance(name_or_path, Mapping):
        return name_or_path
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_file():
        return _load_file(path)
    if _preset_exists(text):
        return _load_preset(text)
    if path.suffix.lower() in (".yaml", ".yml") or len(path.parts) > 1:
        raise ConfigError(f"{path}: mapping file not found")
    names = ", ".join(name for name, _ in list_presets())
    raise ConfigError(f"no mapping file or preset named {text!r} (presets: {names})")


def list_presets() -> list[tuple[str, str]]:
    """``(name, description)`` of every shipped preset, sorted by name."""
    return [(name, _load_preset(name).description) for name in _preset_names()]


def preset_text(name: str) -> str:
    """The YAML text of a shipped preset, to show or copy as a starting point."""
    if not _preset_exists(name):
        names = ", ".join(_preset_names())
        raise ConfigError(f"no preset named {name!r} (presets: {names})")
    return _preset_file(name).read_text(encoding="utf-8")


def detect_preset(headers: Sequence[str]) -> Mapping | None:
    """The shipped preset whose ``detect`` header set is all present in ``headers``."""
    present = {_norm(h) for h in headers}
    for name in _preset_names():
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
        names = [t for t in (self._template(n) for n in mapping.names) if t is not None]
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

    def _template(self, text: str) -> _Template | None:
        parts: list[str | int] = []
        complete = True
        last = 0
        for match in _TEMPLATE_FIELD.finditer(text):
            parts.append(text[last : match.start()])
            last = match.end()
            if match.group(1) is None:
                parts.append(match.group(0)[0])
                continue
            found = self._find(match.group(1))
            if not found:
                self.missing.append(match.group(1))
                complete = False
                continue
            parts.append(found[0])
        parts.append(text[last:])
        return _Template(tuple(p for p in parts if p != "")) if complete else None

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
        key: _Template | None,
        names: list[_Template],
        phones: list[_BoundPhone],
    ) -> str:
        def template_text(template: _Template) -> str:
            columns = [self.headers[p].strip() for p in template.parts if isinstance(p, int)]
            return " + ".join(columns)

        name_text = ", ".join(template_text(t) for t in names)
        phone_text = ", ".join(self.headers[p.index].strip() for p in phones)
        text = f"{name_text} -> name; {phone_text} -> phones"
        if key is not None:
            text += f"; {template_text(key)} -> key"
        return text


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


def _is_text(value: object) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def as_template(column: str) -> str:
    """A plain column name as a template; text already holding ``{...}`` stays as it is."""
    if _TEMPLATE_FIELD.search(column):
        return column
    return "{" + column.strip() + "}"


def _names_setting(value: object, origin: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(_is_text(item) and str(item).strip() for item in items):
        raise ConfigError(f"{origin}: 'name' must be a column, a template, or a list of them")
    return tuple(_template_setting("name", item, origin) for item in items)


def _template_setting(setting: str, value: object, origin: str) -> str:
    """A column or template as a template; one naming no column (``"{Full Name"``) would
    give every record the same text, so it is refused."""
    template = as_template(str(value))
    if not any(match.group(1) for match in _TEMPLATE_FIELD.finditer(template)):
        raise ConfigError(
            f"{origin}: {setting!r} template {str(value)!r} names no column "
            "(write a column as {Column Name}; {{ and }} are literal braces)"
        )
    return template


def _flag(data: dict[Any, Any], setting: str, origin: str) -> bool:
    value = data.get(setting, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{origin}: {setting!r} must be true or false, not {value!r}")
    return value


def _phones_setting(value: object, origin: str) -> tuple[PhoneColumn, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ConfigError(f"{origin}: 'phones' must list at least one column")
    return tuple(_phone_setting(item, origin) for item in items)


def _phone_setting(item: object, origin: str) -> PhoneColumn:
    if _is_text(item) and str(item).strip():
        return PhoneColumn(str(item).strip())
    if not isinstance(item, dict) or not _is_text(item.get("column")):
        raise ConfigError(
            f"{origin}: each 'phones' entry must be a column name or "
            f"{{column: NAME, label: LABEL}}, not {item!r}"
        )
    unknown = sorted(one_line(str(k)) for k in item if k not in _PHONE_SETTINGS)
    if unknown:
        raise ConfigError(f"{origin}: unknown phone setting {', '.join(unknown)} in {item!r}")
    if not str(item["column"]).strip():
        raise ConfigError(f"{origin}: a 'phones' entry has an empty column name: {item!r}")
    for setting in ("label", "label_column"):
        if item.get(setting) is not None and not _is_text(item[setting]):
            raise ConfigError(f"{origin}: {setting!r} must be text, not {item[setting]!r}")
    label = item.get("label")
    label_column = item.get("label_column")
    return PhoneColumn(
        column=str(item["column"]).strip(),
        label=None if label is None else str(label),
        label_column=None if label_column is None else str(label_column),
        preferred=_flag(item, "preferred", origin),
    )


def _detect_setting(value: object, origin: str) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(v, list) and v and all(_is_text(col) for col in v) for v in value
    ):
        raise ConfigError(f"{origin}: 'detect' must be a list of header lists")
    return tuple(tuple(str(col) for col in cols) for cols in value)


def _load_file(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: mapping file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read mapping file: {exc}") from exc
    return _parse(text, name=path.stem, origin=str(path))


def _parse(text: str, *, name: str, origin: str) -> Mapping:
    return Mapping.from_dict(load_yaml(text, origin=origin), name=name, origin=origin)


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
def _load_preset(name: str) -> Mapping:
    return _parse(preset_text(name), name=name, origin=f"preset {name}")
