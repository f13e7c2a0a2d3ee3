"""One call that applies a plan: the lock, the client, its pacer, the journal and the engine.

The command line (``apply``, ``restore``) and any program that embeds sipalto-sync call
:func:`run_plan` instead of assembling the pieces; the journal lives in the data
directory (:mod:`connector.paths`) unless another is given, and the run's lock beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from connector import paths
from connector.api.pacing import Pacer
from connector.apply.engine import DEFAULT_MAX_TIME, DEFAULT_SETTLE_DELAY, ApplyEngine
from connector.apply.journal import Journal
from connector.apply.lock import PlanLock, lock_path
from connector.apply.report import ApplyObserver, ApplyReport
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
    #: Seconds a server may take to carry out a write after the client gave up on it.
    settle_delay: float = DEFAULT_SETTLE_DELAY
    #: Seconds the whole run may take; then it stops cleanly and says what is left.
    max_time: float = DEFAULT_MAX_TIME


def run_plan(
    connection: ConnectionSettings,
    target: PlanTarget,
    settings: ApplySettings | None = None,
    *,
    observer: ApplyObserver | None = None,
    journal_path: Path | None = None,
) -> ApplyReport:
    """Apply (or resume applying) ``target`` against ``connection``'s server.

    Raises :class:`~connector.errors.AlreadyRunning` when another process is applying
    the same plan to the same server.
    """
    settings = settings or ApplySettings()
    journal_file = journal_path or paths.journal_path()
    server = connection.base_url.rstrip("/")  # as the client and the journal name it
    lock = PlanLock(
        lock_path(journal_file, target.plan_id, server), plan_id=target.plan_id, server=server
    )
    # The lock first, so a second run stops before it reads or writes anything; the
    # client and the journal are closed only once the engine's workers have stopped.
    with (
        lock,
        connection.client(pacer=Pacer(settings.rate), max_connections=settings.concurrency) as api,
        Journal(journal_file) as journal,
    ):
        engine = ApplyEngine(
            api,
            journal,
            backup_dir=settings.backup_dir or paths.backup_dir(),
            concurrency=settings.concurrency,
            settle_delay=settings.settle_delay,
            max_time=settings.max_time,
            observer=observer,
        )
        return engine.run(target)
