"""The emulated server's data: the phonebook, users and tokens, and how a sandbox is seeded.

Also the misbehaviour settings (:class:`Faults`) and the examples of the API
documentation (:data:`DOC_CONTACTS`, :data:`DOC_CALLS`) that the sandbox answers with.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.errors import ConfigError
from connector.files import atomic_write
from connector.paths import resource_dir
from connector.sandbox.limits import RateLimit

#: The contacts shown in the API documentation's example answer.
DOC_CONTACTS = [
    {
        "id": "11111",
        "name": "Domino's Pizza",
        "phone1": "01491833000",
        "phone2": "07591524881",
        "phone3": "07591524882",
    },
    {"id": "22222", "name": "McDonald's", "phone1": "01491835522", "phone2": "", "phone3": ""},
]

#: The answered calls shown in the API documentation, for number 1009 on 2025-10-08.
DOC_CALLS = [
    (
        "SIPALTO-THE-ANL-ND2-1759926851.58197",
        "07086202666",
        "1009",
        "IN",
        "2025-10-08 13:34:11",
        41,
    ),
    (
        "SIPALTO-THE-ANL-ND2-1759927614.60572",
        "1009",
        "07086202666",
        "OUT",
        "2025-10-08 13:46:54",
        10,
    ),
    ("SIPALTO-THE-ANL-ND2-1759927635.60659", "1009", "1007", "LOCAL", "2025-10-08 13:47:15", 14),
]


def default_seed() -> list[dict[str, str]]:
    """The docs' example contacts plus the realistic phonebook in ``sample_data/``.

    Raises :class:`ConfigError` when the sample phonebook cannot be found or read.
    """
    contacts = [dict(c) for c in DOC_CONTACTS]
    contacts.extend(load_seed(resource_dir("sample_data") / "phonebook.json"))
    return contacts


def load_seed(path: str | Path) -> list[dict[str, str]]:
    """Read a seed file: a JSON list of ``{id, name, phone1, phone2, phone3}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the seed file: {exc}") from exc
    if isinstance(data, dict) and "response" in data:  # a saved API answer works too
        data = data["response"]
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise ConfigError(f"{path}: a seed file is a JSON list of contacts")
    return [_clean_contact(c) for c in data]


def _clean_contact(data: dict[str, Any]) -> dict[str, str]:
    def text(key: str) -> str:
        value = data.get(key)
        return "" if value is None else str(value)

    return {k: text(k) for k in ("id", "name", "phone1", "phone2", "phone3")}


@dataclass
class Faults:
    """How the sandbox misbehaves. All default to a well-behaved server.

    ``rate_limit`` is (requests, window seconds) per user; ``rate_headers`` and
    ``rate_window`` say how it is announced and counted (see :mod:`connector.sandbox.limits`).
    With probability ``latency_spike_rate`` an answer takes ``latency_spike`` seconds more.
    ``slow_write_rate`` is the chance that a write is carried out only
    ``slow_write_delay`` seconds after it arrived (then answered, if anyone still
    listens): past the client's timeout, the write happens all the same. ``drop_rate`` is
    the chance that a connection is closed without an answer; for a write, half the time
    after the write was done.
    """

    latency: float = 0.0
    rate_limit: tuple[int, float] | None = None
    rate_headers: str = "full"
    rate_window: str = "fixed"
    latency_spike_rate: float = 0.0
    latency_spike: float = 0.0
    fail_rate: float = 0.0
    lose_rate: float = 0.0
    token_ttl: float = 3600.0
    slow_write_rate: float = 0.0
    slow_write_delay: float = 5.0
    drop_rate: float = 0.0

    def rate(self) -> RateLimit | None:
        """The rate limit as a :class:`RateLimit` (``None``: no limit)."""
        if self.rate_limit is None:
            return None
        requests, window = self.rate_limit
        return RateLimit(requests, window, headers=self.rate_headers, kind=self.rate_window)


@dataclass
class SandboxState:
    """The emulated server's data. Thread-safe; persisted to ``state_path`` if given."""

    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=lambda: {"demo": "demo"})
    read_only_users: set[str] = field(default_factory=set)
    state_path: Path | None = None
    next_id: int = 30001

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[str, tuple[str, float]] = {}
        #: Every request seen, as (method, path, status); tests read it.
        self.requests: list[tuple[str, str, int]] = []

    @classmethod
    def from_contacts(cls, contacts: list[dict[str, str]], **kwargs: Any) -> SandboxState:
        """A state holding ``contacts``; new ids continue after the highest numeric id."""
        state = cls(**kwargs)
        state.replace_contacts(contacts)
        return state

    def replace_contacts(self, contacts: list[dict[str, str]]) -> None:
        """Replace the whole phonebook (tests use it to set a scene)."""
        with self.lock:
            self.contacts = {c["id"]: _clean_contact(c) for c in contacts}
            numeric = [int(i) for i in self.contacts if i.isdigit()]
            self.next_id = max([self.next_id - 1, *numeric]) + 1 if numeric else self.next_id
            self._save()

    def snapshot(self) -> list[dict[str, str]]:
        """The phonebook as a list, in id order (numeric ids numerically)."""
        with self.lock:
            return sorted(
                (dict(c) for c in self.contacts.values()),
                key=lambda c: (len(c["id"]), c["id"]),
            )

    def _save(self) -> None:
        if self.state_path is None:
            return
        # A crash never leaves half a phonebook behind.
        atomic_write(
            self.state_path, json.dumps(list(self.contacts.values()), indent=1, ensure_ascii=False)
        )


def build_state(
    *,
    seed: str | Path | None = None,
    state_path: str | Path | None = None,
    users: tuple[str, ...] | list[str] = (),
) -> SandboxState:
    """A sandbox state from the command line's choices.

    An existing ``state_path`` wins over the seed (it is the phonebook as last left);
    ``users`` are ``NAME:PASSWORD`` pairs (default ``demo:demo``).
    """
    accounts: dict[str, str] = {}
    for pair in users:
        name, sep, password = pair.partition(":")
        if not sep or not name or not password:
            raise ConfigError(f"--user {pair!r}: write NAME:PASSWORD")
        accounts[name] = password
    path = Path(state_path) if state_path is not None else None
    if path is not None and path.exists():
        contacts = load_seed(path)
    elif seed is not None:
        contacts = load_seed(seed)
    else:
        contacts = default_seed()
    return SandboxState.from_contacts(contacts, users=accounts or {"demo": "demo"}, state_path=path)
