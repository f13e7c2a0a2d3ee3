"""``${NAME}`` and ``${NAME:-default}`` in files people write (job files, CRM mappings):
the one expansion of environment variables, so that secrets live in the environment.

In any text value, ``${NAME}`` is replaced by the variable ``NAME`` and
``${NAME:-default}`` by it or, when it is unset or empty, by ``default`` (taken as written:
it holds no ``}`` and no other reference). A variable that is unset (and has no default)
is an error naming it and the line. ``$${`` stands for a literal ``${``; any other ``$`` is
itself. A replaced value is not read again, so a password that holds ``${X}`` stays as it
is. Values are replaced after YAML has read the file and before they are checked.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from connector.errors import ConfigError
from connector.schema import key_text
from connector.yamlfile import YamlDocument

__all__ = ["expand_variables"]

_REFERENCE = re.compile(
    r"\$\$\{"  # $${ : a literal ${
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|\$\{"  # ${ beginning no reference: a mistake, not text
)


@dataclass(frozen=True)
class _BadReference:
    place: tuple[Hashable, ...]
    problem: str
    variable: str | None = None


def expand_variables(
    data: object,
    environ: Mapping[str, str],
    *,
    origin: str,
    document: YamlDocument | None = None,
) -> object:
    """``data`` (as YAML read it) with ``${NAME}``, ``${NAME:-default}`` and ``$${`` replaced
    in every text value (keys are left alone; see the module docstring for the rules).

    Raises :class:`ConfigError` ``FILE:LINE: KEY: problem`` for the first reference to an
    unset variable or a ``${`` that begins no reference (the line from ``document``),
    naming any other unset variables; the value itself is never quoted.
    """
    bad: list[_BadReference] = []
    expanded = _expand(data, environ, (), bad)
    if not bad:
        return expanded
    first = bad[0]
    key = key_text(first.place, data)
    line = document.line_of(first.place) if document is not None else None
    where = origin if line is None else f"{origin}:{line}"
    message = f"{where}: {key}: {first.problem}" if key else f"{where}: {first.problem}"
    others = sorted({b.variable for b in bad[1:] if b.variable and b.variable != first.variable})
    if others:
        message += f"; also not set: {', '.join(others)}"
    raise ConfigError(message, path=origin, line=line, key=key or None)


def _expand(
    value: object, environ: Mapping[str, str], place: tuple[Hashable, ...], bad: list[_BadReference]
) -> object:
    if isinstance(value, str):
        return _expand_text(value, environ, place, bad)
    if isinstance(value, dict):
        return {key: _expand(item, environ, (*place, key), bad) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item, environ, (*place, n), bad) for n, item in enumerate(value)]
    return value


def _expand_text(
    text: str, environ: Mapping[str, str], place: tuple[Hashable, ...], bad: list[_BadReference]
) -> str:
    def replace(found: re.Match[str]) -> str:
        name, default = found.group("name"), found.group("default")
        if found.group() == "$${":
            return "${"
        if name is None:
            bad.append(_BadReference(place, _UNFINISHED))
            return ""
        if default is not None:
            if "${" in default:
                bad.append(_BadReference(place, "a default cannot hold another ${...}"))
            return environ.get(name) or default
        if name not in environ:
            problem = f"environment variable {name} is not set (or write ${{{name}:-default}})"
            bad.append(_BadReference(place, problem, name))
            return ""
        return environ[name]

    return _REFERENCE.sub(replace, text)


_UNFINISHED = (
    "'${' begins no variable reference: write ${NAME} or ${NAME:-default} "
    "(a name is letters, digits and _), or $${ for a literal ${"
)
