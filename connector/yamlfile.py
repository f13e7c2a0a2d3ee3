"""YAML written by hand (mapping files, decisions files): read safely, mistakes in one line.

One loader for every YAML file a person writes, so each reports a mistake the same way:
``FILE:LINE: not valid YAML: what is wrong``. Beyond YAML's own syntax it refuses a key
written twice in one mapping (YAML would silently keep the second, so a typo'd copy of a
setting or a decision would win unseen), and a document nested so deeply that the parser
would run out of stack. Only plain data is built (``yaml.SafeLoader``): no Python objects.

:func:`load_yaml_document` also keeps the document's node tree, so a mistake found later in
the data (a setting of the wrong type, see :mod:`connector.schema`) can be reported at the
line of the key or list entry that holds it: :meth:`YamlDocument.line_of`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from connector.errors import ConfigError

__all__ = ["YamlDocument", "load_yaml", "load_yaml_document"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a key repeated in one mapping."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # "<<: *defaults" may be overridden key by key, on purpose
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # SafeLoader reports an unhashable key itself
            if key in seen:
                raise ConstructorError(
                    None, None, f"{key!r} is given twice (first on line {seen[key]})",
                    key_node.start_mark,
                )  # fmt: skip
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class YamlDocument:
    """A YAML document's data and the node tree it was built from (``None`` if empty)."""

    data: Any
    node: Node | None
    # Each mapping node's entries by key, built when first asked (a file with thousands
    # of mistakes asks for as many lines).
    _entries: dict[int, dict[Hashable, tuple[Node, Node]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def line_of(self, path: Sequence[Hashable]) -> int:
        """The 1-based line of the key (or list entry) at ``path``, a list of mapping keys
        and list indexes from the top; where the path leaves the file (a key that is
        missing), the line of the last part of it that is there."""
        node = self.node
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for step in path:
            if isinstance(node, MappingNode):
                found = self._entry(node, step)
                if found is None:
                    break
                key_node, node = found
                line = key_node.start_mark.line + 1
            elif isinstance(node, SequenceNode) and _is_index(step, len(node.value)):
                node = node.value[step]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def _entry(self, node: MappingNode, key: Hashable) -> tuple[Node, Node] | None:
        """The ``(key node, value node)`` pair of ``node`` whose key reads as ``key``, or
        as its text (a model may have read ``1234:`` as the key ``"1234"``)."""
        entries = self._entries.get(id(node))
        if entries is None:
            entries = self._entries[id(node)] = _entries(node)
        return entries.get(key) or entries.get(("text", str(key)))


def _entries(node: MappingNode) -> dict[Hashable, tuple[Node, Node]]:
    """A mapping node's scalar keys as read, and as text (under ``("text", key)``)."""
    constructor = SafeConstructor()
    entries: dict[Hashable, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        try:
            key = constructor.construct_object(key_node)
        except (yaml.YAMLError, ValueError, OverflowError):
            continue
        if isinstance(key, Hashable):
            entries.setdefault(key, (key_node, value_node))
            entries.setdefault(("text", str(key)), (key_node, value_node))
    return entries


def load_yaml(text: str, *, origin: str) -> Any:
    """The data in ``text``; :class:`ConfigError` naming ``origin`` and the line if bad."""
    return load_yaml_document(text, origin=origin).data


def load_yaml_document(text: str, *, origin: str) -> YamlDocument:
    """The data in ``text`` with its node tree; :class:`ConfigError` as for :func:`load_yaml`."""
    try:
        loader = _Loader(text)  # the whole text is checked here for control characters
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise _invalid(origin, line, str(exc).splitlines()[0]) from exc
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        return YamlDocument(data, node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise _invalid(origin, mark.line + 1 if mark else None, _problem(exc)) from exc
    except yaml.YAMLError as exc:
        raise _invalid(origin, None, str(exc).splitlines()[0]) from exc
    except RecursionError as exc:
        raise _invalid(origin, None, "nested too deeply") from exc
    except (ValueError, OverflowError) as exc:
        # PyYAML's scanner lets these through for an escape naming no character
        # ("\U00110000" in a double-quoted string); where it stopped is the place.
        line = loader.get_mark().line + 1
        raise _invalid(origin, line, "a bad escape in a quoted string") from exc
    finally:
        loader.dispose()


def _invalid(origin: str, line: int | None, problem: str) -> ConfigError:
    where = origin if line is None else f"{origin}:{line}"
    return ConfigError(f"{where}: not valid YAML: {problem}", path=origin, line=line)


def _problem(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem, with where the construct it was reading began when that is on
    another line (a list left open on line 2 is only noticed on line 3)."""
    problem = exc.problem or str(exc).splitlines()[0]
    began, problem_at = exc.context_mark, exc.problem_mark
    if exc.context and began and problem_at and began.line != problem_at.line:
        problem += f" ({exc.context} begun on line {began.line + 1})"
    return problem


def _is_index(step: object, length: int) -> TypeGuard[int]:
    return isinstance(step, int) and not isinstance(step, bool) and 0 <= step < length
