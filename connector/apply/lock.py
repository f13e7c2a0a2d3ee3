"""One writer per plan and server: an advisory file lock held for the whole apply.

Two runs of the same plan at once (an overlapping cron job, a second terminal) would
both send every pending add. :class:`PlanLock` takes an exclusive ``flock`` on a file
beside the journal, named for the plan and the server; a second run finds it taken and
stops at once, saying who holds it (pid, host and since when, written into the file).
The kernel drops the lock when its process ends, however it ends, so a killed run never
leaves a stale lock behind; the file itself is removed when the lock is released.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from connector.errors import AlreadyRunning

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _free(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBRLCK, 1)
        except OSError:
            return False
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _free(fd: int) -> bool:
        # A shared lock is refused while a run holds its exclusive one; taken, it is let
        # go at once.
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True


def lock_path(journal_path: Path, plan_id: str, server: str) -> Path:
    """The lock file of ``plan_id`` on ``server``, in the journal's folder."""
    digest = hashlib.sha256(f"{plan_id}\n{server}".encode()).hexdigest()[:16]
    return journal_path.parent / f"apply-{plan_id[:8]}-{digest}.lock"


class PlanLock:
    """An exclusive lock on applying one plan to one server, for the length of a ``with``.

    Entering raises :class:`AlreadyRunning` when another process holds it.
    """

    def __init__(self, path: Path, *, plan_id: str, server: str) -> None:
        self.path = path
        self.plan_id = plan_id
        self.server = server
        self._fd: int | None = None

    def __enter__(self) -> PlanLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise :class:`AlreadyRunning` naming its holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if not _try_lock(fd):
                holder = _read_holder(fd)
                os.close(fd)
                raise AlreadyRunning(self._taken_message(holder), path=self.path, holder=holder)
            # The previous holder removes the file as it lets go: if that happened between
            # our open and our lock, we hold a file nobody else will open. Start again.
            if _same_file(fd, self.path):
                break
            os.close(fd)
        self._fd = fd
        holder = {
            "pid": str(os.getpid()),
            "host": socket.gethostname(),
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "plan_id": self.plan_id,
            "server": self.server,
        }
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(holder).encode())

    def release(self) -> None:
        """Let go of the lock (and remove its file); nothing happens if it is not held."""
        if self._fd is None:
            return
        # Remove the file while still holding the lock, so no one can take a lock on a
        # file that is about to disappear (see ``acquire``).
        # Gone already, or (Windows) not removable while open: either way, let go.
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def _taken_message(self, holder: dict[str, str]) -> str:
        return (
            f"plan {self.plan_id[:8]} is already being applied to {self.server} by "
            f"{holder_text(holder)} (lock {self.path}); wait for that run to end"
        )


def holder_text(holder: dict[str, str]) -> str:
    """Who holds a lock, for a message: ``process 4242 on pbx-01 since ...``."""
    who = "another process"
    if holder.get("pid"):
        who = f"process {holder['pid']} on {holder.get('host') or 'an unknown host'}"
        if holder.get("since"):
            who += f" since {holder['since']}"
    return who


def lock_holder(path: Path) -> dict[str, str] | None:
    """Who holds the lock file ``path`` now (pid, host, since; empty if unknown), or
    ``None`` when nobody does. Looks without taking the lock for longer than a probe."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return None if _free(fd) else _read_holder(fd)
    finally:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _read_holder(fd: int) -> dict[str, str]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 4096).decode() or "{}")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}
