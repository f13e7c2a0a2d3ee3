"""The adapters' place in the layout: they lean on connector's core only, and on each
other without a cycle."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ADAPTERS = Path(__file__).resolve().parent.parent / "adapters"
#: The connector modules adapters may use: shared values, errors, text rules, where the
#: shipped files are, and the one reader of hand-written YAML.
CORE = {
    "connector.model",
    "connector.errors",
    "connector.delimited",
    "connector.formulas",
    "connector.phonetext",
    "connector.paths",
    "connector.yamlfile",
    "connector.schema",
    "connector.variables",
    "connector.delays",
}
#: Modules an adapter may load inside a function, when first needed: the CRM reader (its
#: mapping schema, HTTP machinery), which reading a file never needs, so a file's plan
#: starts without it. Cycles through them are still looked for below.
LOADED_WHEN_NEEDED = {"adapters.crm", "adapters.crm.source", "adapters.crm.schema"}


def imports(path: Path) -> list[tuple[str, bool]]:
    """``(module, at top level)`` for every ``import``/``from ... import`` in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.extend((name, node in tree.body) for name in names)
    return found


MODULES = sorted(ADAPTERS.rglob("*.py"))


def _module(path: Path) -> str:
    return ".".join(("adapters", *path.relative_to(ADAPTERS).with_suffix("").parts))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ADAPTERS)))
def test_adapters_use_only_the_core_of_connector(path: Path) -> None:
    used = {name for name, _ in imports(path) if name.split(".")[0] == "connector"}
    assert used <= CORE


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ADAPTERS)))
def test_project_modules_are_imported_at_the_top(path: Path) -> None:
    inside = [name for name, top in imports(path) if not top and name not in LOADED_WHEN_NEEDED]
    assert not [name for name in inside if name.split(".")[0] in ("adapters", "connector")]


def test_adapter_modules_import_each_other_without_a_cycle() -> None:
    graph = {
        _module(path): {name for name, _ in imports(path) if name.startswith("adapters.")}
        for path in MODULES
        if path.stem != "__init__"
    }
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:  # pragma: no cover - the message names the cycle
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")
