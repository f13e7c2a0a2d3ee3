"""Plan files: a :class:`~connector.reconcile.plan.Plan` stored as JSON, and read back."""

from __future__ import annotations

import json
from pathlib import Path

from connector.errors import PlanError
from connector.files import atomic_write
from connector.reconcile.plan import Plan

__all__ = ["load_plan", "save_plan"]


def save_plan(plan: Plan, path: str | Path) -> None:
    """Write the plan file (JSON, UTF-8), atomically: a reader never sees half a plan."""
    atomic_write(path, json.dumps(plan.to_json(), indent=2, ensure_ascii=False) + "\n")


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
