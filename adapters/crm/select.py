"""Dotted paths into a CRM's JSON answers: ``paging.next.after``, ``phones[*]``, ``value[0]``.

A path is steps separated by dots. A step is a key (``properties``), a key then ``[*]``
(every item of the list there) or ``[N]`` (the item at index N, from 0), or a quoted key
in brackets for a key that holds dots or brackets itself (``['@odata.nextLink']``).
``$`` alone is the whole answer (for an API that answers a bare list).

Selecting is plain data access: dict keys and list indexes, nothing else. A path cannot
reach an attribute of a Python object or run anything, whatever the mapping says.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["ALL", "MISSING", "Path", "PathError", "parse_path", "select", "select_one"]


class _All:
    """The ``[*]`` step: every item of a list."""

    def __repr__(self) -> str:
        return "[*]"


class _Missing:
    """What :func:`select_one` gives for a path that leads nowhere."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


ALL: Final = _All()
MISSING: Final = _Missing()

Step = str | int | _All

# One step: a plain key (no dot, no bracket), a quoted key in brackets, [*] or [N].
_TOKEN = re.compile(
    r"""(?P<key>[^.\[\]'"]+)"""
    r"""|\[(?P<quote>['"])(?P<quoted>(?:(?!(?P=quote)).)*)(?P=quote)\]"""
    r"""|\[(?P<all>\*)\]"""
    r"""|\[(?P<index>\d+)\]"""
)


class PathError(ValueError):
    """A path that is not written in the path syntax; the message says where."""


@dataclass(frozen=True, slots=True)
class Path:
    """A parsed path: its text as written and its steps."""

    text: str
    steps: tuple[Step, ...]

    @property
    def fans_out(self) -> bool:
        """Whether the path may select several values (it holds ``[*]``)."""
        return any(step is ALL for step in self.steps)

    def __str__(self) -> str:
        return self.text


def parse_path(text: str) -> Path:
    """The :class:`Path` ``text`` spells; :class:`PathError` saying what is wrong if none."""
    stripped = text.strip()
    if stripped == "$":
        return Path(text, ())
    if not stripped:
        raise PathError("is empty")
    steps: list[Step] = []
    at = 0
    expect_key = True  # at the start, and after a dot, a key or a quoted key must come
    while at < len(stripped):
        if stripped[at] == ".":
            if expect_key:
                raise PathError(f"has an empty step at character {at + 1}")
            expect_key = True
            at += 1
            continue
        match = _TOKEN.match(stripped, at)
        if match is None:
            raise PathError(f"cannot be read at character {at + 1} ({stripped[at]!r})")
        if match.group("key") is not None:
            if not expect_key:
                raise PathError(f"needs a dot before the key at character {at + 1}")
            steps.append(match.group("key").strip())
        elif match.group("quoted") is not None:
            steps.append(match.group("quoted"))  # ['key'] may follow a key, as in JSONPath
        elif expect_key:
            raise PathError(f"needs a key before the bracket at character {at + 1}")
        elif match.group("all") is not None:
            steps.append(ALL)
        else:
            steps.append(int(match.group("index")))
        expect_key = False
        at = match.end()
    if expect_key:
        raise PathError("ends with a dot")
    return Path(text, tuple(steps))


def select(data: Any, path: Path) -> list[Any]:
    """Every value ``path`` selects in ``data``, in document order.

    A path without ``[*]`` gives at most one value; a step that does not fit the data (a
    key of something that is not a mapping, an index past a list's end) gives none.
    """
    found = [data]
    for step in path.steps:
        found = [item for value in found for item in _step(value, step)]
        if not found:
            break
    return found


def select_one(data: Any, path: Path) -> Any:
    """The first value ``path`` selects in ``data``, or :data:`MISSING`."""
    found = select(data, path)
    return found[0] if found else MISSING


def _step(value: Any, step: Step) -> Sequence[Any]:
    if isinstance(step, str):
        if isinstance(value, dict) and step in value:
            return (value[step],)
        return ()
    if step is ALL:
        return value if isinstance(value, list) else ()
    if isinstance(value, list) and isinstance(step, int) and step < len(value):
        return (value[step],)
    return ()
