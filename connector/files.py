"""Writing files whole or not at all: the one atomic-write rule of the project.

Every file the tool writes that a crash must not leave half-written (plan files, backups,
call recordings, the sandbox's saved phonebook) goes through :func:`atomic_write`: the data
goes to a temporary file in the same directory (so the final rename never crosses file
systems), is flushed to disk with ``fsync``, and is then renamed over the target with
``os.replace``. If anything fails the temporary file is removed, and the target is either
the old file or the new one, never a mixture.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from connector.paths import PRIVATE_FILE

__all__ = ["atomic_write"]


def _umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(
    path: str | Path,
    data: str | bytes | Iterable[str] | Iterable[bytes],
    *,
    mode: int | None = PRIVATE_FILE,
    overwrite: bool = True,
) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` atomically and durably; return the path.

    ``data`` may also be text (or bytes) in pieces, written as they come, so a large file
    need not be held in memory whole.

    ``mode`` is the new file's permission bits, by default the owner's only
    (:data:`connector.paths.PRIVATE_FILE`: what the tool writes is personal data);
    ``None`` means what ``open()`` would give (``0o666`` less the umask). With
    ``overwrite=False`` an existing ``path`` raises :class:`FileExistsError`, even one
    created by someone else while this was writing.
    """
    path = Path(path)
    chunks = [data] if isinstance(data, (str, bytes)) else data
    directory = path.parent if str(path.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode if mode is not None else 0o666 & ~_umask())
        if overwrite:
            os.replace(temporary, path)
        else:
            # A hard link fails if the name is taken, where a rename would clobber it.
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _sync_directory(directory)
    return path


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
