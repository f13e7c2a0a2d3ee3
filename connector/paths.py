"""Where sipalto-sync finds its files: the shipped presets and samples, the journal, backups.

Shipped resources (:func:`resource_dir`): the mapping presets and the sample data live
at the top of the repository (``mappings/``, ``sample_data/``) and are installed as the
packages ``connector.mappings`` and ``connector.sample_data`` (``package-dir`` in
``pyproject.toml``). One lookup serves both layouts, so a source checkout run without
installing behaves like an install.

The per-user data directory comes from platformdirs (``~/.local/share/sipalto-sync`` on
Linux, ``~/Library/Application Support/sipalto-sync`` on macOS, ``%LOCALAPPDATA%`` on
Windows); ``SIPALTO_SYNC_HOME`` moves everything elsewhere (tests, containers, cron).

What the tool keeps there (the journal, backups, restore plans, lock files) is personal
data: a phonebook. This module is the one place that decides who may read it: the owner
only. :func:`private_dir` makes directories ``0700`` and :func:`private_file` files
``0600``; inside the data directory an existing directory or file with looser bits is
tightened, elsewhere (a ``--backup-dir`` of the user's choosing) only what the tool
creates is made private. Files written whole go through
:func:`connector.files.atomic_write`, whose default mode is :data:`PRIVATE_FILE`.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import platformdirs

from connector.errors import ConfigError

APP_NAME = "sipalto-sync"

#: Mode of every directory the tool keeps data in: the owner only.
PRIVATE_DIR = 0o700
#: Mode of every file the tool keeps data in: the owner only.
PRIVATE_FILE = 0o600
#: The files SQLite keeps beside a database, which hold its data too.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

#: The folders of files shipped with the package.
RESOURCES = ("mappings", "sample_data")

#: The ``connector`` package's folder: in site-packages when installed, in the repository
#: when run from a checkout (plain or editable install).
PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str, *, package_dir: Path = PACKAGE_DIR) -> Path:
    """The folder of shipped files ``name`` (``"mappings"`` or ``"sample_data"``).

    Installed, it is ``connector/<name>`` inside ``package_dir``; in a source checkout
    (``package_dir`` beside a ``pyproject.toml``), the repository's ``<name>/`` folder.
    Raises :class:`ConfigError` naming the places looked in when the folder is in
    neither: a broken install is reported, never papered over.
    """
    if name not in RESOURCES:
        raise ValueError(f"unknown resource {name!r}; shipped resources: {', '.join(RESOURCES)}")
    places = [package_dir / name]
    checkout = package_dir.parent
    # Only a folder beside ``connector/`` in its own repository: installed, the parent is
    # site-packages, where a folder of that name would belong to another project.
    if (checkout / "pyproject.toml").is_file():
        places.append(checkout / name)
    for place in places:
        if place.is_dir():
            return place
    looked = " and ".join(str(place) for place in places)
    raise ConfigError(
        f"the shipped {name} folder is missing (looked in {looked}): "
        "reinstall sipalto-sync, or run it from a complete source checkout"
    )


def data_dir() -> Path:
    """The directory holding the journal and backups."""
    override = os.environ.get("SIPALTO_SYNC_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def journal_path() -> Path:
    """The SQLite journal of applies and of the contacts the tool created."""
    return data_dir() / "journal.sqlite"


def backup_dir() -> Path:
    """Where phonebook backups are written before any change."""
    return data_dir() / "backups"


def plans_dir() -> Path:
    """Where restore plans are kept, so an interrupted restore resumes."""
    return data_dir() / "plans"


def _in_data_dir(path: Path) -> bool:
    home = data_dir().absolute()
    return path == home or home in path.parents


def _tighten(path: Path, mode: int) -> None:
    """Give ``path`` exactly ``mode`` if its permission bits are looser or different."""
    if stat.S_IMODE(path.stat().st_mode) != mode:
        os.chmod(path, mode)


def private_dir(path: str | Path) -> Path:
    """The directory ``path``, made owner-only (``0700``); returns it.

    Missing directories on the way are created ``0700`` (never looser, whatever the
    umask). Existing ones are tightened only inside the data directory, which is the
    tool's own; a directory the user chose elsewhere keeps its mode.
    """
    path = Path(path).absolute()
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        try:
            directory.mkdir(PRIVATE_DIR)
        except FileExistsError:  # made meanwhile by another process: theirs, not ours
            continue
        _tighten(directory, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    for directory in (path, *path.parents):
        if not _in_data_dir(directory):
            break
        _tighten(directory, PRIVATE_DIR)
    return path


def private_file(path: str | Path) -> Path:
    """The file ``path``, created empty if missing, made owner-only (``0600``).

    For files the tool opens rather than writes whole (the SQLite journal, a lock
    file): created ``0600`` before anything is in it, so there is no moment when it is
    readable by others. Its directory is made with :func:`private_dir`.
    """
    path = Path(path).absolute()
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    _tighten(path, PRIVATE_FILE)
    return path


def private_database(path: str | Path) -> Path:
    """The SQLite database ``path`` made owner-only, and its side files too.

    SQLite creates its ``-wal``, ``-shm`` and ``-journal`` files with the database's
    mode, so a ``0600`` database keeps them private; ones left behind by an older
    version (or a crash) are tightened here.
    """
    path = private_file(path)
    for suffix in SQLITE_SIDE_FILES:
        with contextlib.suppress(FileNotFoundError):
            _tighten(path.with_name(path.name + suffix), PRIVATE_FILE)
    return path
