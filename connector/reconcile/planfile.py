"""Plan files: a :class:`~connector.reconcile.plan.Plan` stored as JSON, and read back.

The file is the plan's JSON object indented by two spaces, except that each item of
``items`` is one line: ``json.dumps(indent=2)`` runs Python's encoder written in Python
(its C encoder does not indent), which took a third of the time of a 100,000-record plan,
and an item spread over twenty lines is no easier to read than one line, which ``grep``
finds whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from connector.errors import PlanError
from connector.files import atomic_write
from connector.reconcile.plan import Plan, item_to_json

__all__ = ["load_plan", "plan_file_text", "save_plan"]

_ITEM_INDENT = "    "


def save_plan(plan: Plan, path: str | Path) -> None:
    """Write the plan file (JSON, UTF-8), atomically: a reader never sees half a plan.

    The text is written as it is made, an item at a time, never held whole in memory.
    """
    atomic_write(path, _chunks(plan))


def plan_file_text(plan: Plan) -> str:
    """The plan file's text (as :func:`save_plan` writes it), without the final newline."""
    return "".join(_chunks(plan))[:-1]


def _chunks(plan: Plan) -> Iterator[str]:
    head = json.dumps(plan.head_to_json(), indent=2, ensure_ascii=False)
    # The head ends "\n}": the items go in before that brace, as the object's last key.
    opening = head[: -len("\n}")] + ',\n  "items": ['
    if not plan.items:
        yield opening + "]\n}\n"
        return
    encode = json.JSONEncoder(ensure_ascii=False).encode  # one line: the C encoder
    separator = "\n" + _ITEM_INDENT
    for item in plan.items:
        yield opening + separator + encode(item_to_json(item))
        separator = ",\n" + _ITEM_INDENT
        opening = ""
    yield "\n  ]\n}\n"


def load_plan(path: str | Path) -> Plan:
    """Read a plan file; ``PlanError`` if it cannot be read or is not a plan."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{path}: cannot read plan file ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}: not a plan file (invalid JSON: {exc})") from exc
    except ValueError as exc:  # an integer of thousands of digits
        raise PlanError(f"{path}: not a plan file ({exc})") from exc
    except RecursionError as exc:
        raise PlanError(f"{path}: not a plan file (nested too deeply)") from exc
    return Plan.from_json(data)
