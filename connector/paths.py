"""Where sipalto-sync finds its files: the shipped presets and samples, the journal, backups.

Shipped resources (:func:`resource_dir`): the mapping presets and the sample data live
at the top of the repository (``mappings/``, ``sample_data/``) and are installed as the
packages ``connector.mappings`` and ``connector.sample_data`` (``package-dir`` in
``pyproject.toml``). One lookup serves both layouts, so a source checkout run without
installing behaves like an install.

The per-user data directory comes from platformdirs (``~/.local/share/sipalto-sync`` on
Linux, ``~/Library/Application Support/sipalto-sync`` on macOS, ``%LOCALAPPDATA%`` on
Windows); ``SIPALTO_SYNC_HOME`` moves everything elsewhere (tests, containers, cron).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from connector.errors import ConfigError

APP_NAME = "sipalto-sync"

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
