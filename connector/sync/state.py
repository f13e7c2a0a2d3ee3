"""The sync state of one job, and the registry of which job owns which contact.

A scheduled job runs every night against a phonebook that people also edit by hand. To
tell "removed from the source" from "never there", "edited in the phonebook" from
"changed in the source", and its own contacts from everyone else's, it must remember
between runs what it did. :class:`SyncState` is that memory: one SQLite file per job
(:func:`default_state_path`, or wherever the job file's ``state:`` says)::

    meta      schema_version, job, server, created_at: whose state this is
    bindings  source key ─▶ contact id, owned or not, the contact as last written or confirmed
    held      source keys held back for review, why and since when
    runs      one row per run: started, finished, dry run, result, counts, failure, pid, host
    kv        small values a later run needs (a CRM source's incremental cursor)
    resets    each time the bindings were dropped because the file belonged elsewhere

Bindings. A bound record is the same contact from run to run whatever changes, so a
binding is by source key and contact id alone: one contact per key and one key per
contact (both columns unique; :class:`BindingConflict` says which key already has the
contact). Beside it the store keeps the contact's fields *exactly* as the job last wrote
or confirmed them, never normalised: a phonebook copy that differs from it was edited
outside the job. ``owned`` is true for a contact the job added (or adopted); only those
may ever be deleted by the job.

Identity. Contact ids mean nothing on another server, and another job's bindings are
not this job's. :meth:`SyncState.open` therefore compares the file's job and server with
the caller's; on a difference it still opens, says why in :attr:`SyncState.mismatch`
("made for server X", "made for job Y"), and refuses to use bindings, holds and values
until :meth:`SyncState.reset` drops them (the run history stays, and the reset is
recorded). The runner then rebuilds bindings by matching and owns nothing, so it deletes
nothing it cannot prove it owns. A file that is not a state at all, or that a newer
version wrote, is a :class:`~connector.errors.ConfigError` naming it.

Secrets have no place here: no column holds a password or a token, and the server is
kept as given minus anything that could carry one (userinfo, query, fragment), in case
the caller forgot to strip a ``user:password@``.

Durability, as in :mod:`connector.apply.journal`: every method is one transaction,
committed before it returns; ``with state.transaction():`` groups several (all the
bindings of an apply) so a process killed at any moment leaves the state as it was after
the last commit, never half a step. WAL with ``synchronous=FULL``. SQLite's locks do not
hold on network filesystems (NFS, SMB): keep state files on a local disk.

Ownership across jobs. Two jobs may write to one phonebook, but each must own a disjoint
set and never update or delete the other's. A job cannot find the other jobs' state
files (each may live anywhere its job file says), so ownership is also recorded in one
:class:`OwnershipRegistry` per machine, ``data_dir()/owners.db``, where every job looks:
a claim on a contact another job holds is refused (:class:`OwnershipConflict`). Jobs on
other machines, or run with another data directory, are not in it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from connector import paths
from connector.config import clean_server
from connector.errors import ConfigError, SipaltoSyncError
from connector.model import ContactFields

#: The state file layout this version writes; a file with a higher number is refused.
SCHEMA_VERSION = 1
#: The ownership registry's layout.
REGISTRY_SCHEMA_VERSION = 1

#: Results of a run. ``unfinished`` is the result of a run begun and never finished:
#: running now, or killed (the job's lock tells which).
OK = "ok"
VALVE = "valve"
ERROR = "error"
UNFINISHED = "unfinished"
#: What :meth:`SyncState.finish_run` accepts.
FINISHED_RESULTS = frozenset({OK, VALVE, ERROR})

Clock = Callable[[], datetime]

_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

_STATE_TABLES = (
    """CREATE TABLE IF NOT EXISTS meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS bindings (
        source_key   TEXT PRIMARY KEY,
        contact_id   TEXT NOT NULL UNIQUE,
        owned        INTEGER NOT NULL CHECK (owned IN (0, 1)),
        name         TEXT NOT NULL,
        phone1       TEXT NOT NULL,
        phone2       TEXT NOT NULL,
        phone3       TEXT NOT NULL,
        bound_at     TEXT NOT NULL,
        confirmed_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS held (
        source_key TEXT PRIMARY KEY,
        reason     TEXT NOT NULL,
        since      TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        dry_run     INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
        result      TEXT NOT NULL,
        counts      TEXT NOT NULL DEFAULT '{}',
        error       TEXT,
        pid         INTEGER NOT NULL,
        host        TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS kv (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS resets (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        at              TEXT NOT NULL,
        job             TEXT NOT NULL,
        server          TEXT NOT NULL,
        previous_job    TEXT NOT NULL,
        previous_server TEXT NOT NULL,
        bindings        INTEGER NOT NULL,
        owned           INTEGER NOT NULL
    )""",
)

_REGISTRY_TABLES = (
    """CREATE TABLE IF NOT EXISTS meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS claims (
        server     TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        job        TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        PRIMARY KEY (server, contact_id)
    )""",
    "CREATE INDEX IF NOT EXISTS claims_by_job ON claims (server, job)",
)

#: Columns added since the first state files: (table, column, declaration). A file
#: written by an older version lacks them; its rows stay valid.
_STATE_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # The job's own version of a contact whose outside edit it kept (JSON), else NULL.
    ("bindings", "own", "TEXT"),
)


class StateError(SipaltoSyncError):
    """The sync state was used in a way it refuses (a caller's mistake, not bad data)."""


class BindingConflict(StateError):
    """A contact is already bound to another source key (one key per contact).

    ``key`` and ``contact_id`` are the binding asked for; ``other_key`` already has it.
    """

    def __init__(self, message: str, *, key: str, contact_id: str, other_key: str):
        self.key = key
        self.contact_id = contact_id
        self.other_key = other_key
        super().__init__(message)


class StateMismatch(StateError):
    """The state file belongs to another job or server; :meth:`SyncState.reset` first."""


class OwnershipConflict(SipaltoSyncError):
    """A job claimed contacts that another job on this machine owns.

    ``taken`` maps each refused contact id to the job that owns it; nothing of the
    refused claim was recorded.
    """

    def __init__(self, message: str, *, server: str, job: str, taken: dict[str, str]):
        self.server = server
        self.job = job
        self.taken = taken
        super().__init__(message)


# -- names, servers, times ----------------------------------------------------------


def check_job_name(name: str) -> str:
    """``name`` if it is usable as a job name (and so as a file name), else ConfigError.

    1 to 64 letters, digits, ``.``, ``_`` or ``-``, starting with a letter or digit: no
    path separator, no ``..``, nothing a shell or another system reads differently.
    """
    if not _JOB_NAME.fullmatch(name):
        raise ConfigError(
            f"job name {name!r} is not usable: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def default_state_path(job: str) -> Path:
    """Where job ``job`` keeps its state unless its job file says otherwise."""
    return paths.data_dir() / "jobs" / f"{check_job_name(job)}.db"


def default_registry_path() -> Path:
    """The ownership registry shared by every job run with this data directory."""
    return paths.data_dir() / "owners.db"


def server_key(url: str) -> str:
    """The server ``url`` names, as one comparable string: scheme, host and port.

    Two URLs have the same key exactly when :func:`connector.apply.target.same_server`
    calls them the same server (case, a default port, a trailing slash, userinfo and the
    path make no difference), so a state, a plan and a backup agree on what "the same
    server" is.
    """
    parts = urlsplit(clean_server(url))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port or {"http": 80, "https": 443}[scheme]
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- opening a database ---------------------------------------------------------------


def _connect(path: Path, what: str) -> sqlite3.Connection:
    try:
        # Owner-only before SQLite opens it: its -wal/-shm/-journal copy the mode.
        paths.private_database(path)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"{path}: cannot open the {what}: {exc}") from exc
    try:
        db.execute("PRAGMA busy_timeout=10000")
        _use_wal(db)
        # FULL: a binding recorded after a write must survive a power cut, or the next
        # run would not know it owns the contact it added.
        db.execute("PRAGMA synchronous=FULL")
    except sqlite3.OperationalError as exc:
        db.close()
        raise ConfigError(f"{path}: cannot open the {what}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        db.close()
        raise ConfigError(f"{path}: is not a {what} (not an SQLite database: {exc})") from exc
    return db


def _use_wal(db: sqlite3.Connection, patience: float = 10.0) -> None:
    """Switch to WAL. Another connection switching at the same moment makes SQLite answer
    "database is locked" at once, without waiting the busy timeout (two jobs, or a job and
    ``sync status``, opening a new file together): try again for a while."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _add_new_columns(db: sqlite3.Connection, added: Sequence[tuple[str, str, str]]) -> None:
    for table, column, declaration in added:
        names = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in names:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def _prepare(
    db: sqlite3.Connection,
    path: Path,
    *,
    what: str,
    tables: Sequence[str],
    version: int,
    added: Sequence[tuple[str, str, str]],
    first_meta: Mapping[str, str],
) -> tuple[dict[str, str], bool]:
    """Create or upgrade the schema in one transaction; the meta values and whether new.

    ``first_meta`` is written only into a database that had no tables (a new file, or
    one a killed process created empty), so two processes creating it at once agree.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        new = not names
        if not new and "meta" not in names:
            raise ConfigError(f"{path}: is an SQLite database but not a {what}")
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall()) if not new else {}
        if not new:
            _check_version(path, what, meta, version, first_meta)
        for statement in tables:
            db.execute(statement)
        _add_new_columns(db, added)
        if new:
            meta = {"schema_version": str(version), **first_meta}
            db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
        elif int(meta["schema_version"]) < version:
            meta["schema_version"] = str(version)
            db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return meta, new


def _check_version(
    path: Path, what: str, meta: Mapping[str, str], version: int, expected: Mapping[str, str]
) -> None:
    found = meta.get("schema_version", "")
    if not found.isdigit() or any(key not in meta for key in expected):
        raise ConfigError(f"{path}: is an SQLite database but not a {what}")
    if int(found) > version:
        raise ConfigError(
            f"{path}: this {what} was written by a newer sipalto-sync (schema {found}; "
            f"this version reads up to {version}): upgrade sipalto-sync"
        )


class _Database:
    """One connection, one lock, and transactions that nest (as savepoints)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        # Re-entrant: a method called inside ``transaction()`` takes it again.
        self._lock = threading.RLock()
        self._depth = 0

    def close(self) -> None:
        """Close the database (a transaction still open is rolled back)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Group the writes inside into one transaction: all of them, or (on an exception
        or a killed process) none.

        Nested, the inner block is a savepoint: its failure undoes only its own writes,
        and nothing is committed until the outermost block ends.
        """
        with self._lock:
            depth = self._depth
            savepoint = f"step{depth}"
            self._db.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {savepoint}")
            self._depth += 1
            try:
                yield self._db
            except BaseException:
                self._depth = depth
                if depth == 0:
                    self._db.execute("ROLLBACK")
                else:
                    self._db.execute(f"ROLLBACK TO {savepoint}")
                    self._db.execute(f"RELEASE {savepoint}")
                raise
            self._depth = depth
            try:
                self._db.execute("COMMIT" if depth == 0 else f"RELEASE {savepoint}")
            except BaseException:
                if depth == 0 and self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()


# -- the state of one job ---------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """A source record bound to a phonebook contact."""

    key: str
    contact_id: str
    #: The job added the contact, or adopted it: only then may it delete it.
    owned: bool
    #: The contact exactly as the job last wrote or confirmed it.
    fields: ContactFields
    #: When the key was bound to this contact.
    bound_at: datetime
    #: When ``fields`` were last written or confirmed.
    confirmed_at: datetime
    #: The job's own version of the contact (what the source made of it) when that is not
    #: ``fields``: the contact was edited outside the job and the edit kept
    #: (``on_phonebook_edit: keep``). ``None`` when the contact is the job's own version.
    own: ContactFields | None = None

    @property
    def base(self) -> ContactFields:
        """The job's own version of the contact (:attr:`own`, or else :attr:`fields`)."""
        return self.own if self.own is not None else self.fields


@dataclass(frozen=True)
class Hold:
    """A source record held back for review, reported on every run until released."""

    key: str
    reason: str
    since: datetime


@dataclass(frozen=True)
class RunRecord:
    """One run of the job as the state recorded it."""

    id: int
    started_at: datetime
    #: ``None`` while :attr:`result` is ``unfinished``.
    finished_at: datetime | None
    dry_run: bool
    #: ``ok``, ``valve``, ``error``, or ``unfinished`` (running, or killed).
    result: str
    #: What the run did or found, by kind (``add``, ``delete``, ``review``, ...).
    counts: Mapping[str, int]
    #: Why it failed (``valve`` or ``error``), as a user would read it.
    error: str | None
    pid: int
    host: str


@dataclass(frozen=True)
class Reset:
    """A time the state's bindings were dropped to make it another job's or server's."""

    at: datetime
    job: str
    server: str
    previous_job: str
    previous_server: str
    #: How many bindings, and of them owned ones, were dropped.
    bindings: int
    owned: int


class SyncState:
    """The SQLite state of one sync job (see the module docstring).

    Open it with :meth:`open`. Thread-safe; every method commits before it returns,
    except inside :meth:`transaction`.
    """

    def __init__(
        self,
        database: _Database,
        path: Path,
        *,
        meta: Mapping[str, str],
        job: str,
        server: str,
        new: bool,
        clock: Clock,
    ) -> None:
        self._database = database
        self._clock = clock
        self._wanted = (job, server)
        #: The state file.
        self.path = path
        #: True when this open created the state: a first run, or a lost state file.
        self.new = new
        #: When the state file was created (UTC).
        self.created_at = _moment(meta["created_at"])
        self.schema_version = int(meta["schema_version"])
        self.job = meta["job"]
        #: The server the state belongs to, as given (without userinfo).
        self.server = meta["server"]
        #: Why the state is not the opener's ("made for server X"), or ``None``.
        self.mismatch = _mismatch(self.job, self.server, job, server)

    @classmethod
    def open(cls, path: str | Path, *, job: str, server: str, clock: Clock = _utcnow) -> SyncState:
        """Open (creating if need be) the state at ``path`` for ``job`` on ``server``.

        ``server`` is the base URL (userinfo is dropped, never stored). A file made for
        another job or server opens with :attr:`mismatch` set. Raises
        :class:`ConfigError` naming the file when it is not a sync state, was written by
        a newer version, or cannot be opened.
        """
        job = check_job_name(job)
        server = clean_server(server)
        path = Path(path)
        db = _connect(path, "sync state file")
        try:
            meta, new = _prepare(
                db,
                path,
                what="sync state file",
                tables=_STATE_TABLES,
                version=SCHEMA_VERSION,
                added=_STATE_ADDED_COLUMNS,
                first_meta={"job": job, "server": server, "created_at": _stamp(clock())},
            )
        except sqlite3.DatabaseError as exc:
            db.close()
            raise ConfigError(f"{path}: is not a usable sync state file: {exc}") from exc
        except BaseException:
            db.close()
            raise
        return cls(_Database(db), path, meta=meta, job=job, server=server, new=new, clock=clock)

    def close(self) -> None:
        """Close the database."""
        self._database.close()

    def __enter__(self) -> SyncState:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several steps into one transaction: all are recorded, or none.

        Nested blocks are savepoints: an exception leaving an inner block undoes only it.
        """
        with self._database.transaction():
            yield

    def _usable(self) -> None:
        if self.mismatch:
            raise StateMismatch(
                f"{self.path}: this sync state was {self.mismatch}; "
                "reset it before using its bindings"
            )

    def _now(self) -> str:
        return _stamp(self._clock())

    # -- identity ------------------------------------------------------------------

    def reset(self) -> Reset:
        """Make the state the opener's: drop every binding, hold and value, keep the runs.

        For a state made for another server or job (:attr:`mismatch`), or a job whose
        bindings should be rebuilt. The next run binds by matching and owns nothing, so
        it deletes nothing; the event is kept (:meth:`resets`). It takes no job or server:
        it can only make the state the one :meth:`open` was asked for.
        """
        job, server = self._wanted
        now = self._now()
        with self._database.transaction() as db:
            (bound, owned), *_ = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(owned), 0) FROM bindings"
            ).fetchall()
            for table in ("bindings", "held", "kv"):
                db.execute(f"DELETE FROM {table}")
            db.executemany(
                "UPDATE meta SET value=? WHERE key=?", [(job, "job"), (server, "server")]
            )
            db.execute(
                "INSERT INTO resets (at, job, server, previous_job, previous_server, "
                "bindings, owned) VALUES (?,?,?,?,?,?,?)",
                (now, job, server, self.job, self.server, bound, owned),
            )
        reset = Reset(_moment(now), job, server, self.job, self.server, bound, owned)
        self.job, self.server, self.mismatch = job, server, None
        return reset

    def resets(self) -> list[Reset]:
        """Every reset of this state, oldest first."""
        rows = self._database.read(
            "SELECT at, job, server, previous_job, previous_server, bindings, owned "
            "FROM resets ORDER BY id"
        )
        return [_reset(row) for row in rows]

    # -- bindings -------------------------------------------------------------------

    def bindings(self) -> dict[str, Binding]:
        """Every binding, by source key."""
        self._usable()
        rows = self._database.read(_BINDING_SELECT)
        return {str(row[0]): _binding(row) for row in rows}

    def bound_ids(self) -> frozenset[str]:
        """The ids of every bound contact."""
        self._usable()
        return frozenset(str(r[0]) for r in self._database.read("SELECT contact_id FROM bindings"))

    def owned_ids(self) -> frozenset[str]:
        """The ids of the contacts this job owns (a subset of :meth:`bound_ids`)."""
        self._usable()
        rows = self._database.read("SELECT contact_id FROM bindings WHERE owned=1")
        return frozenset(str(r[0]) for r in rows)

    def bind(
        self,
        key: str,
        contact_id: str,
        fields: ContactFields,
        *,
        owned: bool,
        own: ContactFields | None = None,
    ) -> Binding:
        """Bind ``key`` to ``contact_id`` with ``fields`` as its baseline.

        Replaces the key's binding if it had one (``owned`` replaces too: pass the old
        value to keep it). ``own`` is the job's version of the contact when it is not
        ``fields`` (a kept outside edit; see :attr:`Binding.own`). Raises
        :class:`BindingConflict`, changing nothing, when the contact is bound to another
        key: unbind that one first.
        """
        self._usable()
        if not key or not contact_id:
            raise StateError("a binding needs a source key and a contact id")
        now = self._now()
        with self._database.transaction() as db:
            other = db.execute(
                "SELECT source_key FROM bindings WHERE contact_id=? AND source_key<>?",
                (contact_id, key),
            ).fetchone()
            if other:
                raise BindingConflict(
                    f"contact {contact_id} is already bound to source key {other[0]!r}; "
                    f"it cannot also be bound to {key!r}",
                    key=key,
                    contact_id=contact_id,
                    other_key=other[0],
                )
            # The same contact again keeps when it was bound; a new one starts afresh.
            db.execute(
                "INSERT INTO bindings (source_key, contact_id, owned, name, phone1, phone2, "
                "phone3, bound_at, confirmed_at, own) VALUES (?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (source_key) DO UPDATE SET "
                "bound_at=CASE WHEN contact_id=excluded.contact_id THEN bound_at "
                "ELSE excluded.bound_at END, "
                "contact_id=excluded.contact_id, owned=excluded.owned, name=excluded.name, "
                "phone1=excluded.phone1, phone2=excluded.phone2, phone3=excluded.phone3, "
                "confirmed_at=excluded.confirmed_at, own=excluded.own",
                (key, contact_id, int(owned), *_columns(fields), now, now, _own(own, fields)),
            )
            row = db.execute(_BINDING_BY_KEY, (key,)).fetchone()
        return _binding(row)

    def confirm(
        self, key: str, fields: ContactFields, *, own: ContactFields | None = None
    ) -> Binding:
        """Make ``fields`` the baseline of ``key``'s binding.

        ``own`` is the job's own version of the contact when an edit made outside the job
        is accepted as it is (:attr:`Binding.own`): a later change in the source is then
        made on top of the edit rather than written over it. Without it, the phonebook
        came to say what the source says, and ``fields`` is the job's version too.
        Raises :class:`StateError` when ``key`` is not bound.
        """
        self._usable()
        with self._database.transaction() as db:
            db.execute(
                "UPDATE bindings SET name=?, phone1=?, phone2=?, phone3=?, confirmed_at=?, "
                "own=? WHERE source_key=?",
                (*_columns(fields), self._now(), _own(own, fields), key),
            )
            row = db.execute(_BINDING_BY_KEY, (key,)).fetchone()
        if row is None:
            raise StateError(f"source key {key!r} is not bound: nothing to confirm")
        return _binding(row)

    def unbind(self, key: str) -> Binding | None:
        """Drop ``key``'s binding (its record left the source); the binding, or ``None``.

        A hold on the key stays until :meth:`release`.
        """
        self._usable()
        with self._database.transaction() as db:
            row = db.execute(_BINDING_BY_KEY, (key,)).fetchone()
            db.execute("DELETE FROM bindings WHERE source_key=?", (key,))
        return _binding(row) if row else None

    def forget_contact(self, contact_id: str) -> Binding | None:
        """Drop the binding of a contact that was deleted; the binding, or ``None``.

        For a delete the job made. A bound contact deleted by hand is better kept bound
        and held (:meth:`hold`): the binding remembers which record it was and its
        baseline says what it held, for the report and for a re-add.
        """
        self._usable()
        with self._database.transaction() as db:
            row = db.execute(_BINDING_SELECT + " WHERE contact_id=?", (contact_id,)).fetchone()
            db.execute("DELETE FROM bindings WHERE contact_id=?", (contact_id,))
        return _binding(row) if row else None

    # -- held back for review ----------------------------------------------------------

    def hold(self, key: str, reason: str) -> Hold:
        """Hold ``key`` back for review, for ``reason``; reported until :meth:`release`.

        Holding it again for the same reason keeps when it was first held; for another
        reason it is a new hold. Holds are by source key, independent of bindings.
        """
        self._usable()
        if not reason:
            raise StateError("a hold needs a reason")
        with self._database.transaction() as db:
            db.execute(
                "INSERT INTO held (source_key, reason, since) VALUES (?,?,?) "
                "ON CONFLICT (source_key) DO UPDATE SET "
                "since=CASE WHEN reason=excluded.reason THEN since ELSE excluded.since END, "
                "reason=excluded.reason",
                (key, reason, self._now()),
            )
            (since,) = db.execute("SELECT since FROM held WHERE source_key=?", (key,)).fetchone()
        return Hold(key, reason, _moment(since))

    def release(self, key: str) -> bool:
        """Stop holding ``key`` back; whether it was held."""
        self._usable()
        with self._database.transaction() as db:
            return db.execute("DELETE FROM held WHERE source_key=?", (key,)).rowcount > 0

    def held(self) -> list[Hold]:
        """Every record held back for review, longest held first."""
        self._usable()
        rows = self._database.read("SELECT source_key, reason, since FROM held ORDER BY since, 1")
        return [Hold(str(k), str(r), _moment(str(s))) for k, r, s in rows]

    # -- runs ---------------------------------------------------------------------------

    def begin_run(self, *, dry_run: bool, pid: int | None = None, host: str | None = None) -> int:
        """Record a run as begun (``unfinished``); its id, for :meth:`finish_run`.

        ``pid`` and ``host`` default to this process's. Runs are recorded even in a
        state with a :attr:`mismatch`: they are the file's history, not its bindings.
        """
        with self._database.transaction() as db:
            db.execute(
                "INSERT INTO runs (started_at, dry_run, result, pid, host) VALUES (?,?,?,?,?)",
                (
                    self._now(),
                    int(dry_run),
                    UNFINISHED,
                    os.getpid() if pid is None else pid,
                    socket.gethostname() if host is None else host,
                ),
            )
            (run_id,) = db.execute("SELECT last_insert_rowid()").fetchone()
        return int(run_id)

    def finish_run(
        self,
        run_id: int,
        result: str,
        counts: Mapping[str, int] | None = None,
        error: str | None = None,
    ) -> RunRecord:
        """Record how run ``run_id`` ended: ``ok``, ``valve`` or ``error``.

        ``counts`` says what it did or found by kind; ``error`` why it failed, as a user
        reads it (the caller keeps secrets out of it). A run finishes once.
        """
        if result not in FINISHED_RESULTS:
            raise StateError(f"a run ends {', '.join(sorted(FINISHED_RESULTS))}, not {result!r}")
        tallies = dict(counts or {})
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in tallies.values()):
            raise StateError(f"run counts must be whole numbers: {tallies!r}")
        with self._database.transaction() as db:
            updated = db.execute(
                "UPDATE runs SET finished_at=?, result=?, counts=?, error=? "
                "WHERE id=? AND result=?",
                (
                    self._now(),
                    result,
                    json.dumps(tallies, sort_keys=True),
                    error,
                    run_id,
                    UNFINISHED,
                ),
            ).rowcount
            row = db.execute(_RUN_SELECT + " WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise StateError(f"no run {run_id} in {self.path}")
        if not updated:
            raise StateError(f"run {run_id} has already finished ({row[4]})")
        return _run(row)

    def last_run(self) -> RunRecord | None:
        """The latest run, finished or not (``unfinished``: running now, or killed)."""
        rows = self._database.read(_RUN_SELECT + " ORDER BY id DESC LIMIT 1")
        return _run(rows[0]) if rows else None

    def last_failure(self) -> RunRecord | None:
        """The latest run that failed: ended ``error`` or ``valve``, or was left
        ``unfinished`` with a later run after it (runs of a job hold its lock, so one
        begun later means the earlier process had died)."""
        rows = self._database.read(
            _RUN_SELECT + " WHERE result IN (?, ?) OR (result=? AND EXISTS "
            "(SELECT 1 FROM runs AS later WHERE later.id > runs.id)) ORDER BY id DESC LIMIT 1",
            (ERROR, VALVE, UNFINISHED),
        )
        return _run(rows[0]) if rows else None

    def runs(self, limit: int | None = 20) -> list[RunRecord]:
        """The latest ``limit`` runs (all with ``None``), newest first."""
        rows = self._database.read(
            _RUN_SELECT + " ORDER BY id DESC LIMIT ?", (-1 if limit is None else limit,)
        )
        return [_run(row) for row in rows]

    # -- values kept for later runs ------------------------------------------------------

    def get_value(self, name: str) -> str | None:
        """The value stored under ``name``, or ``None``."""
        self._usable()
        rows = self._database.read("SELECT value FROM kv WHERE name=?", (name,))
        return str(rows[0][0]) if rows else None

    def set_value(self, name: str, value: str | None) -> None:
        """Store ``value`` under ``name`` (``None`` removes it). Never a secret."""
        self._usable()
        with self._database.transaction() as db:
            if value is None:
                db.execute("DELETE FROM kv WHERE name=?", (name,))
            else:
                db.execute(
                    "INSERT INTO kv (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value=excluded.value",
                    (name, value),
                )


_BINDING_SELECT = (
    "SELECT source_key, contact_id, owned, name, phone1, phone2, phone3, bound_at, "
    "confirmed_at, own FROM bindings"
)
_BINDING_BY_KEY = _BINDING_SELECT + " WHERE source_key=?"
_RUN_SELECT = (
    "SELECT id, started_at, finished_at, dry_run, result, counts, error, pid, host FROM runs"
)


def _mismatch(job: str, server: str, wanted_job: str, wanted_server: str) -> str | None:
    other_job = job != wanted_job
    other_server = server_key(server) != server_key(wanted_server)
    if other_job and other_server:
        return f"made for job {job!r} on server {server}"
    if other_job:
        return f"made for job {job!r}"
    if other_server:
        return f"made for server {server}"
    return None


def _columns(fields: ContactFields) -> tuple[str, str, str, str]:
    return (fields.name, fields.phone1, fields.phone2, fields.phone3)


def _own(own: ContactFields | None, fields: ContactFields) -> str | None:
    """The ``own`` column: NULL when the job's version is the baseline itself."""
    return None if own is None or own == fields else json.dumps(list(_columns(own)))


def _binding(row: Sequence[object]) -> Binding:
    key, cid, owned, name, p1, p2, p3, bound_at, confirmed_at = (str(v) for v in row[:9])
    own = row[9]
    return Binding(
        key,
        cid,
        owned == "1",
        ContactFields(name, p1, p2, p3),
        _moment(bound_at),
        _moment(confirmed_at),
        ContactFields(*json.loads(str(own))) if own is not None else None,
    )


def _reset(row: Sequence[object]) -> Reset:
    at, job, server, old_job, old_server, bound, owned = (str(v) for v in row)
    return Reset(_moment(at), job, server, old_job, old_server, int(bound), int(owned))


def _run(row: Sequence[object]) -> RunRecord:
    run_id, started, finished, dry_run, result, counts, error, pid, host = row
    return RunRecord(
        id=int(str(run_id)),
        started_at=_moment(str(started)),
        finished_at=_moment(str(finished)) if finished is not None else None,
        dry_run=bool(dry_run),
        result=str(result),
        counts=json.loads(str(counts)),
        error=None if error is None else str(error),
        pid=int(str(pid)),
        host=str(host),
    )


# -- ownership across jobs ------------------------------------------------------------------


class OwnershipRegistry:
    """Which job owns which contact, per server, for every job on this machine.

    One SQLite file (:func:`default_registry_path`, owner-only) with one row per owned
    contact: (server, contact id, job). A contact has one owner at most: a claim on one
    another job owns is refused whole. The job's state keeps the bindings; this keeps
    only what every other job must respect. Servers are compared as
    :func:`server_key` does and stored as that key (scheme, host, port: no userinfo).
    """

    def __init__(self, path: str | Path | None = None, *, clock: Clock = _utcnow) -> None:
        self.path = Path(path) if path is not None else default_registry_path()
        self._clock = clock
        db = _connect(self.path, "job ownership registry")
        try:
            _prepare(
                db,
                self.path,
                what="job ownership registry",
                tables=_REGISTRY_TABLES,
                version=REGISTRY_SCHEMA_VERSION,
                added=(),
                first_meta={"created_at": _stamp(clock())},
            )
        except sqlite3.DatabaseError as exc:
            db.close()
            raise ConfigError(
                f"{self.path}: is not a usable job ownership registry: {exc}"
            ) from exc
        except BaseException:
            db.close()
            raise
        self._database = _Database(db)

    def close(self) -> None:
        """Close the database."""
        self._database.close()

    def __enter__(self) -> OwnershipRegistry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def claim(self, server: str, job: str, ids: Iterable[str]) -> None:
        """Record that ``job`` owns the contacts ``ids`` on ``server``.

        Claiming again what the job owns already is harmless. Raises
        :class:`OwnershipConflict`, recording nothing, when another job owns any of them.
        """
        job = check_job_name(job)
        key = server_key(server)
        wanted = sorted(set(ids))
        now = _stamp(self._clock())
        with self._database.transaction() as db:
            taken = {
                cid: other for cid, other in _owners_of(db, key, wanted).items() if other != job
            }
            if taken:
                raise OwnershipConflict(
                    _conflict_message(key, job, taken), server=key, job=job, taken=taken
                )
            db.executemany(
                "INSERT OR IGNORE INTO claims (server, contact_id, job, claimed_at) "
                "VALUES (?,?,?,?)",
                [(key, cid, job, now) for cid in wanted],
            )

    def release(self, server: str, job: str, ids: Iterable[str]) -> int:
        """Drop ``job``'s claims on ``ids`` (deleted, or no longer its); how many it had.

        Another job's claims are left alone.
        """
        job = check_job_name(job)
        key = server_key(server)
        with self._database.transaction() as db:
            return sum(
                db.execute(
                    "DELETE FROM claims WHERE server=? AND contact_id=? AND job=?",
                    (key, cid, job),
                ).rowcount
                for cid in set(ids)
            )

    def owners(self, server: str) -> dict[str, str]:
        """Every owned contact on ``server``: contact id to the job that owns it."""
        rows = self._database.read(
            "SELECT contact_id, job FROM claims WHERE server=?", (server_key(server),)
        )
        return {str(cid): str(job) for cid, job in rows}

    def claimed(self, server: str, job: str) -> frozenset[str]:
        """The contacts ``job`` owns on ``server``."""
        rows = self._database.read(
            "SELECT contact_id FROM claims WHERE server=? AND job=?",
            (server_key(server), check_job_name(job)),
        )
        return frozenset(str(r[0]) for r in rows)


def _owners_of(db: sqlite3.Connection, server: str, ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    # SQLite limits the parameters of one statement; 500 stays well inside every build.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(
            db.execute(
                f"SELECT contact_id, job FROM claims WHERE server=? AND contact_id IN ({marks})",
                (server, *chunk),
            ).fetchall()
        )
    return found


def _conflict_message(server: str, job: str, taken: Mapping[str, str]) -> str:
    shown = sorted(taken.items())
    listed = ", ".join(f"{cid} (job {other!r})" for cid, other in shown[:5])
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    return (
        f"job {job!r} cannot own contacts on {server} that another job owns: {listed}{more}; "
        "a job never updates or deletes another job's contacts"
    )
