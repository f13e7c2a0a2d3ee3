"""Files people write (mappings, decisions, job files) checked against a declarative schema.

A file's schema is a pydantic model deriving from :class:`ConfigModel`: strict (``"no"``
is text, never a boolean; ``"5"`` is not a number), unknown keys refused, each field's
``description`` saying what it allows. :func:`load_config` reads a YAML file with
:mod:`connector.yamlfile` (which keeps each key's line) and validates it; every mistake
becomes one line, the first of them a :class:`ConfigError`::

    mapping.yaml:4: phones[0].preferred: must be true or false, not the text 'no'
    mapping.yaml:3: phone: unknown setting; did you mean 'phones'? (allowed: description, ...)

``FILE:LINE: KEY.PATH: problem (allowed: ...)``: the line is that of the key or list entry
holding the mistake, the path the keys and list indexes (from 0) that lead to it, and the
allowed part the field's ``description`` (for an unknown key, the keys there are).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PydanticUserError, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from connector.errors import ConfigError
from connector.yamlfile import YamlDocument, load_yaml_document

__all__ = [
    "ConfigModel",
    "Text",
    "as_list",
    "key_text",
    "load_config",
    "parse_config",
    "shorthand",
    "validate_config",
]

M = TypeVar("M", bound=BaseModel)

#: What a value of each pydantic type error should have been, in a YAML writer's words.
_EXPECTED = {
    "bool_type": "true or false",
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_UNKNOWN_KEY = ("extra_forbidden", "invalid_key")
# The last step of the location of a mistake in a mapping's key, not in its value.
_KEY = "[key]"
_SHOWN_CHARS = 40


class ConfigModel(BaseModel):
    """Base of every file schema: strict types, no unknown keys, immutable once read."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)


def _whole_number_as_text(value: object) -> object:
    # A column header or an id such as 2024 is text even when YAML reads it as a number;
    # true/false and 1.5 stay what they are, and are refused as text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


#: Text in a file; a whole number written without quotes (``2024``) counts as its digits.
Text = Annotated[str, BeforeValidator(_whole_number_as_text)]


def as_list(value: object) -> object:
    """For a ``BeforeValidator``: one value stands for a list of it (``phones: Mobile``)."""
    return value if isinstance(value, list) else [value]


def shorthand(key: str, what: str) -> Callable[[object], object]:
    """For a ``BeforeValidator`` on a model field: text (or a whole number) stands for
    ``{key: text}`` (``phones: [Mobile]`` for ``phones: [{column: Mobile}]``); a value that
    is neither that nor a mapping is refused as "must be ``what`` or a mapping"."""

    def expand(value: object) -> object:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return {key: value}
        if isinstance(value, dict):
            return value
        problem = f"must be {what} or a mapping, not {_shown(value)}"
        raise PydanticCustomError("shorthand_type", "{problem}", {"problem": problem})

    return expand


def load_config(path: str | Path, model: type[M], *, what: str = "file") -> M:
    """Read the YAML file ``path`` and validate it against ``model``.

    ``what`` names the file in the messages that are not about its content (``mapping
    file not found``). Raises :class:`ConfigError` for an unreadable file, invalid YAML
    and any mistake ``model`` finds, one line each: ``FILE:LINE: KEY.PATH: problem
    (allowed: ...)``, with ``path``, ``line`` and ``key`` as attributes.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: {what} not found", path=path) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc}", path=path) from exc
    return parse_config(text, model, origin=str(path))


def parse_config(text: str, model: type[M], *, origin: str) -> M:
    """:func:`load_config` for YAML text already read; ``origin`` names it in messages."""
    document = load_yaml_document(text, origin=origin)
    return validate_config(document.data, model, origin=origin, document=document)


def validate_config(
    data: object, model: type[M], *, origin: str, document: YamlDocument | None = None
) -> M:
    """``data`` validated against ``model``; :class:`ConfigError` for the first mistake.

    With the ``document`` ``data`` was read from, the message names the line.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, model, data, origin, document) from exc


def _config_error(
    exc: ValidationError,
    model: type[BaseModel],
    data: object,
    origin: str,
    document: YamlDocument | None,
) -> ConfigError:
    by_path = _by_path(exc.errors(), data)

    def place(path: tuple[Hashable, ...]) -> tuple[bool, int]:
        # A missing key has no line of its own (it is reported at its mapping's), and is
        # often the other half of a misspelled one, which says more: it comes last.
        missing = by_path[path][0]["type"] == "missing"
        return missing, document.line_of(path) if document is not None else 0

    first = min(by_path, key=place)
    line = document.line_of(first) if document is not None else None
    key = key_text(first, data)
    problem = _problem(by_path[first], _json_schema(model))
    where = origin if line is None else f"{origin}:{line}"
    # The file as a whole may be what is wrong ("must be a mapping, not a list").
    text = f"{where}: {key}: {problem}" if key else f"{where}: the file {problem}"
    more = len(by_path) - 1
    if more:
        text += f"; and {more} more problem{'s' if more > 1 else ''}"
    return ConfigError(text, path=origin, line=line, key=key or None)


def _by_path(
    errors: Sequence[ErrorDetails], data: object
) -> dict[tuple[Hashable, ...], list[ErrorDetails]]:
    """Pydantic's errors grouped by the place in the file each is about, one group for
    each mistake.

    One mistake can give several pydantic errors: a value that fits no member of a union
    gives one per member. Those at one place are one mistake ("text or a whole number"),
    and one at a place that others go deeper into is dropped (the deeper ones say more).
    """
    by_path: dict[tuple[Hashable, ...], list[ErrorDetails]] = {}
    for error in errors:
        by_path.setdefault(tuple(_file_path(error, data)), []).append(error)
    enclosing = {path[:n] for path in by_path for n in range(len(path))}
    return {path: found for path, found in by_path.items() if path not in enclosing}


def _file_path(error: ErrorDetails, data: object) -> list[Hashable]:
    """The keys and indexes of ``error``'s location that are in the file.

    Pydantic's location also holds the names of union members (``str``, a model's name)
    and indexes into a value a validator made a list of (``name: Full Name`` read as
    ``[Full Name]``); neither is in the file. A missing key is kept: it is what is wrong.
    A key that is wrong itself (``yes:``, read as true) is located by pydantic as its text
    then ``[key]``; the key as read is the error's input.
    """
    path: list[Hashable] = []
    value: Any = data
    loc = error["loc"]
    wrong_key = bool(loc) and loc[-1] == _KEY
    if wrong_key:
        loc = loc[:-2]
    for n, step in enumerate(loc):
        if _holds(value, step):
            path.append(step)
            value = value[step]
        elif n == len(loc) - 1 and error["type"] == "missing":
            path.append(step)
    if wrong_key and isinstance(value, dict) and _has_key(value, error["input"]):
        path.append(error["input"])
    return path


def _holds(value: object, step: int | str) -> bool:
    """Whether ``step`` is a key of the mapping ``value``, or an index into the list."""
    if isinstance(value, dict):
        return _has_key(value, step)
    return isinstance(value, list) and isinstance(step, int) and _is_index(step, len(value))


def _has_key(mapping: dict[Any, Any], key: Hashable) -> bool:
    try:
        return key in mapping
    except TypeError:
        return False


def _is_index(step: int, length: int) -> bool:
    return not isinstance(step, bool) and 0 <= step < length


def key_text(path: Sequence[Hashable], data: object) -> str:
    """``phones[0].preferred``: keys joined by dots, list indexes in brackets (``data``
    tells an index from a key written as a number); odd keys quoted, long ones cut."""
    text = ""
    value = data
    for step in path:
        if isinstance(value, list) and isinstance(step, int):
            text += f"[{step}]"
            value = value[step]
            continue
        name = str(step)
        if len(name) > _SHOWN_CHARS:
            name = name[:_SHOWN_CHARS] + "…"
        if not name or not name.isprintable() or any(c in name for c in ".[] "):
            name = repr(name)
        text += f".{name}" if text else name
        value = value.get(step) if isinstance(value, dict) else None
    return text


def _problem(errors: list[ErrorDetails], schema: dict[str, Any]) -> str:
    """What is wrong, and what is allowed instead, for the errors of one place."""
    first = errors[0]
    kind = first["type"]
    loc = first["loc"]
    if kind in _UNKNOWN_KEY:
        return _unknown_key(loc, schema)
    if loc and loc[-1] == _KEY and kind in _EXPECTED:
        return f"must be {_expected(first)}, not {_shown(first['input'])}: put the key in quotes"
    allowed = _allowed(schema, loc)
    if kind == "missing":
        problem = "missing"
    elif kind in _EXPECTED or kind == "literal_error":
        expected = " or ".join(dict.fromkeys(_expected(error) for error in errors))
        problem = f"must be {expected}, not {_shown(first['input'])}"
        if allowed == expected:
            allowed = None
    elif kind in ("too_short", "string_too_short"):
        problem = "must not be empty"
    elif kind == "value_error":
        problem = str((first.get("ctx") or {}).get("error", first["msg"]))
    else:
        problem = first["msg"][:1].lower() + first["msg"][1:]
    # One line whatever the file holds: a value with a line break is shown escaped.
    problem = problem.replace("\r", "\\r").replace("\n", "\\n")
    return f"{problem} (allowed: {allowed})" if allowed else problem


def _expected(error: ErrorDetails) -> str:
    if error["type"] == "literal_error":
        return f"one of {(error.get('ctx') or {}).get('expected', '')}"
    return _EXPECTED.get(error["type"], error["msg"])


def _unknown_key(loc: tuple[int | str, ...], schema: dict[str, Any]) -> str:
    known = _known_keys(schema, _schema_at(schema, loc[:-1]))
    problem = "unknown setting"
    close = difflib.get_close_matches(str(loc[-1]), known, n=1) if loc else []
    if close:
        problem += f"; did you mean {close[0]!r}?"
    return f"{problem} (allowed: {', '.join(known)})" if known else problem


def _shown(value: object) -> str:
    """A value as YAML gave it, for "not ..." in a message."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        short = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"
        return f"the text {short!r}"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


# -- what the schema allows ------------------------------------------------------------------


@functools.cache
def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema, where the descriptions and keys a message quotes are found;
    a model with a type JSON schema cannot describe still gets messages, without them."""
    try:
        return model.model_json_schema()
    except PydanticUserError:
        return {}


def _allowed(schema: dict[str, Any], loc: Sequence[int | str]) -> str | None:
    """The ``description`` of the deepest field along ``loc`` that has one; failing that,
    what the mapping there holds (a file that is not a mapping at all)."""
    described = None
    node = schema
    for step in loc:
        child = _child(schema, node, step)
        if child is None:
            continue  # the name of a union member, or an index into a single value
        node = child
        described = child.get("description", described)
    if described is None:
        return _mapping_of(schema, node)
    return str(described)


def _mapping_of(schema: dict[str, Any], node: dict[str, Any]) -> str | None:
    """What a mapping at ``node`` holds: its keys, or what each value may be."""
    known = _known_keys(schema, node)
    if known:
        return f"a mapping with the keys {', '.join(known)}"
    for option in _options(schema, node):
        values = option.get("additionalProperties")
        if isinstance(values, dict) and values.get("description"):
            return f"a mapping, each value {values['description']}"
    return None


def _schema_at(schema: dict[str, Any], loc: Sequence[int | str]) -> dict[str, Any]:
    node = schema
    for step in loc:
        node = _child(schema, node, step) or node
    return node


def _child(schema: dict[str, Any], node: dict[str, Any], step: int | str) -> dict[str, Any] | None:
    """The schema of ``step`` (a key or an index) inside ``node``, trying each member of a
    union; field descriptions sit beside a ``$ref``, so the unresolved entry is returned."""
    for option in _options(schema, node):
        properties = option.get("properties", {})
        if isinstance(step, str) and step in properties:
            return dict(properties[step])
        if isinstance(step, int) and "items" in option:
            return dict(option["items"])
        extra = option.get("additionalProperties")
        if isinstance(extra, dict) and not properties:
            return dict(extra)
    return None


def _options(schema: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    node = _resolve(schema, node)
    options = [node]
    for member in (*node.get("anyOf", ()), *node.get("oneOf", ()), *node.get("allOf", ())):
        options.extend(_options(schema, member))
    return options


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        node = schema.get("$defs", {}).get(name, {})
    return node


def _known_keys(schema: dict[str, Any], node: dict[str, Any]) -> list[str]:
    """The keys a mapping at ``node`` may have (of any member, for a union)."""
    keys = {key for option in _options(schema, node) for key in option.get("properties", {})}
    return sorted(keys)
