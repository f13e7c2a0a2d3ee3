"""One call that applies a plan: the client, its pacer, the journal and the engine together.

The command line (``apply``, ``restore``) and any program that embeds sipalto-sync call
:func:`run_plan` instead of assembling the pieces; the journal lives in the data
directory (:mod:`connector.paths`) unless another is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from connector import paths
from connector.api.pacing import Pacer
from connector.apply.engine import ApplyEngine, ApplyReport, Progress
from connector.apply.journal import Journal
from connector.apply.target import PlanTarget
from connector.config import ConnectionSettings

__all__ = ["ApplySettings", "run_plan"]


@dataclass(frozen=True)
class ApplySettings:
    """How to carry a plan out (the ``apply``/``restore`` options)."""

    concurrency: int = 4
    #: Requests per second at most; ``None`` learns the pace from the server.
    rate: float | None = None
    #: Where backups go; ``None`` is the data directory's ``backups``.
    backup_dir: Path | None = None


def run_plan(
    connection: ConnectionSettings,
    target: PlanTarget,
    settings: ApplySettings | None = None,
    *,
    progress: Progress | None = None,
    journal_path: Path | None = None,
) -> ApplyReport:
    """Apply (or resume applying) ``target`` against ``connection``'s server."""
    settings = settings or ApplySettings()
    with (
        connection.client(pacer=Pacer(settings.rate)) as api,
        Journal(journal_path or paths.journal_path()) as journal,
    ):
        engine = ApplyEngine(
            api,
            journal,
            backup_dir=settings.backup_dir or paths.backup_dir(),
            concurrency=settings.concurrency,
            progress=progress,
        )
        return engine.run(target)
