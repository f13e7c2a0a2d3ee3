"""The files of a job's report folder: named by job and UTC time, pruned to the newest
runs."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["prune_reports", "report_name"]


_STAMP = "%Y%m%dT%H%M%SZ"


def report_name(folder: Path, job: str, moment: datetime) -> str:
    """``JOB-20250101T020000Z``, with ``-2``, ``-3`` for a second run in the same second."""
    base = f"{job}-{moment.astimezone(timezone.utc).strftime(_STAMP)}"
    name, n = base, 1
    while folder.is_dir() and any(folder.glob(f"{_glob_escape(name)}-*")):
        n += 1
        name = f"{base}-{n}"
    return name


def _glob_escape(text: str) -> str:
    """``text`` with the characters ``glob`` reads specially made literal."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _report_files(folder: Path, job: str) -> dict[tuple[str, int], list[Path]]:
    """The job's report files in ``folder``, by run (its time, then its number)."""
    pattern = re.compile(
        re.escape(job)
        + r"-(\d{8}T\d{6}Z)(?:-(\d+))?-(?:plan\.json|plan\.html|report\.json|summary\.txt)"
    )
    runs: dict[tuple[str, int], list[Path]] = {}
    for path in folder.iterdir():
        found = pattern.fullmatch(path.name)
        if found:
            run = (found.group(1), int(found.group(2) or 1))
            runs.setdefault(run, []).append(path)
    return runs


def prune_reports(folder: Path, job: str, keep: int) -> None:
    """Remove the job's reports but the newest ``keep`` runs' (other files are left)."""
    runs = _report_files(folder, job)
    for run in sorted(runs)[:-keep]:
        for path in runs[run]:
            path.unlink(missing_ok=True)
