"""YAML written by hand (mapping files, decisions files): read safely, mistakes in one line.

One loader for every YAML file a person writes, so each reports a mistake the same way:
``FILE:LINE: not valid YAML: what is wrong``. Beyond YAML's own syntax it refuses a key
written twice in one mapping (YAML would silently keep the second, so a typo'd copy of a
setting or a decision would win unseen), and a document nested so deeply that the parser
would run out of stack. Only plain data is built (``yaml.SafeLoader``): no Python objects.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from connector.errors import ConfigError

__all__ = ["load_yaml"]

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


def load_yaml(text: str, *, origin: str) -> Any:
    """The data in ``text``; :class:`ConfigError` naming ``origin`` and the line if bad."""
    try:
        loader = _Loader(text)  # the whole text is checked here for control characters
    except yaml.reader.ReaderError as exc:
        where = f"{origin}:{text.count(chr(10), 0, exc.position) + 1}"
        raise ConfigError(f"{where}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML: {problem}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{origin}: not valid YAML: nested too deeply") from exc
    except (ValueError, OverflowError) as exc:
        # PyYAML's scanner lets these through for an escape naming no character
        # ("\U00110000" in a double-quoted string); where it stopped is the place.
        where = f"{origin}:{loader.get_mark().line + 1}"
        raise ConfigError(f"{where}: not valid YAML: a bad escape in a quoted string") from exc
    finally:
        loader.dispose()
