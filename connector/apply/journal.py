"""Durable state in SQLite: the apply journal and the ids the tool created.

The journal records every planned operation's state as it changes, each change
committed before the next step, so an apply killed at any point (Ctrl-C, SIGKILL, a
lost network) resumes where it stopped. Its key is the plan's random id *and* the
target server, so two plans that look alike, or one plan applied to two servers, never
share rows.

``owned`` remembers which contacts this tool created, per server. The scheduled sync
uses it to delete only what it owns.

States of an operation::

    pending ──▶ sending ──▶ done
       ▲           │  └───▶ unknown ──(verified by reading)──▶ done | pending | skipped
       │           ├──────▶ pending (not sent: refused by the network, throttled)
       │           └──────▶ failed (a refusal that will not change; retried by the next run)
       └── skipped (stale target, already there: deliberate, with a reason)

``sending`` is written before a request leaves; found after a crash it means the
outcome is unknown, never that it failed. ``sent_at`` is when the operation was last
sent (the engine's clock, Unix time), so a resumed run knows whether a slow write may
still land; ``deliveries`` counts the sends that may have been carried out (answered,
or without a trustworthy answer), which bounds how many copies of an add can exist.

A run is recorded (:meth:`Journal.begin`) only once the phonebook has been read, with its
backup and its baselines in the same transaction; ``completed_at`` is set when a final
read agreed with the plan.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from connector import paths
from connector.errors import ConfigError

PENDING = "pending"
SENDING = "sending"
UNKNOWN = "unknown"
DONE = "done"
SKIPPED = "skipped"
FAILED = "failed"
#: States after which nothing more is to be done for an operation.
FINAL = frozenset({DONE, SKIPPED})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    plan_id      TEXT NOT NULL,
    server       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    backup_path  TEXT,
    completed_at TEXT,
    PRIMARY KEY (plan_id, server)
);
CREATE TABLE IF NOT EXISTS operations (
    plan_id    TEXT NOT NULL,
    server     TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    action     TEXT NOT NULL,
    contact_id TEXT,
    state      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    new_id     TEXT,
    baseline   TEXT NOT NULL DEFAULT '[]',
    attempts   INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    sent_at    REAL,
    deliveries INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (plan_id, server, idx)
);
CREATE TABLE IF NOT EXISTS owned (
    server     TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    plan_id    TEXT NOT NULL,
    source_key TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (server, contact_id)
);
"""

#: Columns added since the first journals: (table, column, declaration).
_ADDED_COLUMNS = (
    ("runs", "completed_at", "TEXT"),
    ("operations", "sent_at", "REAL"),
    ("operations", "deliveries", "INTEGER NOT NULL DEFAULT 0"),
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class OpRow:
    """One operation's journal row."""

    idx: int
    action: str
    contact_id: str | None
    state: str
    reason: str = ""
    new_id: str | None = None
    baseline: tuple[str, ...] = ()
    attempts: int = 0
    sent_at: float | None = None
    deliveries: int = 0


@dataclass(frozen=True)
class RunInfo:
    """What the journal knows of a run of one plan on one server."""

    started_at: str
    backup_path: str | None
    #: When a final read agreed with the plan (ISO 8601, UTC); ``None`` until then.
    completed_at: str | None


class Journal:
    """The SQLite journal of one apply target (a plan on a server).

    Thread-safe: the engine's workers share it; each write is its own committed
    transaction so the file is always a true record of what was sent.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            # Owner-only before SQLite opens it: its -wal/-shm/-journal copy the mode.
            paths.private_database(self.path)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a state written before a request is sent must survive a power cut.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
            self._add_new_columns()
        except sqlite3.Error as exc:
            raise ConfigError(f"{self.path}: cannot open the journal: {exc}") from exc
        self._lock = threading.Lock()

    def _add_new_columns(self) -> None:
        # A journal written by an older version lacks them; its rows stay valid.
        for table, column, declaration in _ADDED_COLUMNS:
            names = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in names:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- runs --------------------------------------------------------------------

    def run_info(self, plan_id: str, server: str) -> RunInfo | None:
        """The run of ``plan_id`` on ``server``, or ``None`` if it was never begun."""
        with self._lock:
            row = self._db.execute(
                "SELECT started_at, backup_path, completed_at FROM runs "
                "WHERE plan_id=? AND server=?",
                (plan_id, server),
            ).fetchone()
        return RunInfo(*row) if row else None

    def begin(
        self,
        plan_id: str,
        server: str,
        operations: Iterable[tuple[int, str, str | None]],
        *,
        backup_path: str | None = None,
        baselines: Sequence[tuple[int, Sequence[str]]] = (),
    ) -> bool:
        """Record a run: its operations as pending, its backup and its adds' baselines.

        All in one transaction, so a run is either recorded whole or not at all. Returns
        False (and changes nothing but the run's ``updated_at``) if it was recorded before.
        """
        now = _now()
        with self._tx() as db:
            known = db.execute(
                "SELECT 1 FROM runs WHERE plan_id=? AND server=?", (plan_id, server)
            ).fetchone()
            if known:
                db.execute(
                    "UPDATE runs SET updated_at=? WHERE plan_id=? AND server=?",
                    (now, plan_id, server),
                )
                return False
            db.execute(
                "INSERT INTO runs (plan_id, server, started_at, updated_at, backup_path) "
                "VALUES (?,?,?,?,?)",
                (plan_id, server, now, now, backup_path),
            )
            db.executemany(
                "INSERT INTO operations (plan_id, server, idx, action, contact_id, state, "
                "updated_at) VALUES (?,?,?,?,?,?,?)",
                [(plan_id, server, i, a, c, PENDING, now) for i, a, c in operations],
            )
            self._set_baselines(db, plan_id, server, baselines)
            return True

    def complete(self, plan_id: str, server: str) -> None:
        """Record that a final read found the phonebook as the plan wants it."""
        now = _now()
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET completed_at=?, updated_at=? WHERE plan_id=? AND server=?",
                (now, now, plan_id, server),
            )

    def set_backup_path(self, plan_id: str, server: str, path: str) -> None:
        """Remember the backup written before the first change (for runs begun without one)."""
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET backup_path=? WHERE plan_id=? AND server=?",
                (path, plan_id, server),
            )

    # -- operations ----------------------------------------------------------------

    def operations(self, plan_id: str, server: str) -> list[OpRow]:
        """Every operation of the run, in plan order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT idx, action, contact_id, state, reason, new_id, baseline, attempts, "
                "sent_at, deliveries FROM operations WHERE plan_id=? AND server=? ORDER BY idx",
                (plan_id, server),
            ).fetchall()
        return [
            OpRow(i, a, c, s, r, n, tuple(json.loads(b)), t, sent, d)
            for i, a, c, s, r, n, b, t, sent, d in rows
        ]

    def set_state(
        self,
        plan_id: str,
        server: str,
        idx: int,
        state: str,
        reason: str = "",
        *,
        new_id: str | None = None,
        attempt: bool = False,
        sent_at: float | None = None,
        delivered: bool = False,
    ) -> None:
        """Record an operation's new state (committed before this returns).

        ``attempt`` counts a send about to leave; ``sent_at`` (when given) is the time of
        the latest send; ``delivered`` counts a send that may have been carried out.
        """
        with self._tx() as db:
            db.execute(
                "UPDATE operations SET state=?, reason=?, new_id=COALESCE(?, new_id), "
                "attempts=attempts+?, sent_at=COALESCE(?, sent_at), "
                "deliveries=deliveries+?, updated_at=? "
                "WHERE plan_id=? AND server=? AND idx=?",
                (
                    state,
                    reason,
                    new_id,
                    1 if attempt else 0,
                    sent_at,
                    1 if delivered else 0,
                    _now(),
                    plan_id,
                    server,
                    idx,
                ),
            )

    def set_baseline(
        self, plan_id: str, server: str, baselines: Sequence[tuple[int, Sequence[str]]]
    ) -> None:
        """Remember, per add, which identical contacts existed before anything was sent."""
        with self._tx() as db:
            self._set_baselines(db, plan_id, server, baselines)

    @staticmethod
    def _set_baselines(
        db: sqlite3.Connection,
        plan_id: str,
        server: str,
        baselines: Sequence[tuple[int, Sequence[str]]],
    ) -> None:
        db.executemany(
            "UPDATE operations SET baseline=? WHERE plan_id=? AND server=? AND idx=?",
            [(json.dumps(list(ids)), plan_id, server, idx) for idx, ids in baselines],
        )

    # -- ownership -------------------------------------------------------------------

    def record_owned(
        self, server: str, plan_id: str, created: Iterable[tuple[str, str | None]]
    ) -> None:
        """Remember contacts this tool created: (contact id, source key)."""
        now = _now()
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO owned (server, contact_id, plan_id, source_key, "
                "created_at) VALUES (?,?,?,?,?)",
                [(server, cid, plan_id, key, now) for cid, key in created],
            )

    def owned_ids(self, server: str) -> frozenset[str]:
        """Ids of the contacts this tool created on ``server``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT contact_id FROM owned WHERE server=?", (server,)
            ).fetchall()
        return frozenset(r[0] for r in rows)
