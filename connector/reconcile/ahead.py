"""Parts of a large plan worked out in a second process meanwhile.

Planning a file against a large phonebook has two halves that need nothing of each other
until matching: the source's records (their numbers normalised, checked for repeats) and
the phonebook's contacts (each one's numbers in Sipalto form, its name words, the
fingerprint). On one core, the other sits idle. So, where the operating system can fork,
a child process works out the numbers of the last records and then the phonebook's side
(:func:`~connector.reconcile.remotes.prepare_phonebook`), while the parent normalises the
first records and looks for repeats. Each part comes back in msgpack, in a file in
memory, which decodes straight into the planner's named tuples.

Nothing depends on it: the planner asks for each part when it needs it, and when the child
failed, was killed or sent something else, it works that part out itself (the plan is the
same either way; the tests compare both). A small phonebook, or a file much smaller than
the phonebook, is not worth a process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import msgspec

from connector.model import Contact, SourceRecord
from connector.reconcile.evidence import Party
from connector.reconcile.phones import NormalisedPhones, PhoneNormaliser
from connector.reconcile.remotes import Ahead, PreparedPhonebook, prepare_phonebook

__all__ = ["MIN_CONTACTS", "phonebook_ahead", "records_share"]

#: Below this many contacts the phonebook's side takes less time than starting a process
#: and reading its answer (about 0.1 s at 20,000 contacts).
MIN_CONTACTS = 20_000

# The two parts the child sends, in msgpack: the last records' numbers; then the
# phonebook's ids, parties, each contact's slot numbers (None when they are its party's
# numbers, as for most contacts) and fingerprint.
_Phones = list[NormalisedPhones]
_Phonebook = tuple[list[str], list[Party], list[tuple[str, ...] | None], str]


def records_share(records: int, contacts: int) -> int:
    """How many of the last records the child normalises, for the parent and the child
    to be done at about the same time, with room to spare (the child's answers must not
    keep the parent waiting).

    Measured per 100,000 on a 2-core machine: a record's numbers 0.9 s, the parent's other
    work before matching (the rest of preparing, finding repeats) 1.2 s, the phonebook's
    side 1.0 s. The child takes records up to where both would finish together, less a
    fifth of the records for slack, and at most 40 % (it sends its records' numbers back
    before the parent is done with its own).
    """
    balanced = (2.1 * records - 1.0 * contacts) / 1.8 - 0.2 * records
    return max(0, min(int(0.4 * records), int(balanced)))


@contextmanager
def phonebook_ahead(
    contacts: Sequence[Contact],
    region: str,
    records: Sequence[SourceRecord] = (),
    *,
    min_contacts: int | None = None,
) -> Iterator[Ahead | None]:
    """Start working out the last records' numbers and the phonebook's side in a child
    process, for ``make_plan``'s ``ahead``; gives None (nothing started) for fewer than
    ``min_contacts`` contacts (default :data:`MIN_CONTACTS`), for a file of fewer records
    than a fifth of the contacts (the parent would only wait), or where processes are not
    forked (only Linux: elsewhere forking a process that has loaded system frameworks is
    unsafe). The child is waited for on leaving."""
    least = MIN_CONTACTS if min_contacts is None else min_contacts
    if (
        len(contacts) < least
        or len(records) * 5 < len(contacts)
        or not sys.platform.startswith("linux")
    ):
        yield None
        return
    split = len(records) - records_share(len(records), len(contacts))
    worker = _Worker.start(contacts, records, split, region)
    if worker is None:
        yield None
        return
    try:
        yield worker
    finally:
        worker.close()


class _Worker:
    """One forked child working ahead: a file in memory for each part it sends, and a
    pipe on which it says, one byte a part, that the part is written.

    The parts are not sent through the pipe itself: a thread would have to read it as
    the child writes (else the child blocks on a full pipe), and that thread took the
    interpreter lock from the planner for every 64 KB, a quarter of a second in all at
    100,000 contacts. Waiting for one byte and reading a whole file costs nothing.
    """

    def __init__(self, pid: int, ready_fd: int, parts: list[int], records_from: int) -> None:
        self._pid = pid
        self._ready = ready_fd
        self._parts = parts
        self._received = 0  # parts the child has said are written
        self.records_from = records_from
        self._status: int | None = None

    @classmethod
    def start(
        cls, contacts: Sequence[Contact], records: Sequence[SourceRecord], split: int, region: str
    ) -> _Worker | None:
        """Fork the child; None when the system would not."""
        parts: list[int] = []
        try:
            parts = [_memory_file(name) for name in ("records", "phonebook")]
            ready_fd, done_fd = os.pipe()
        except OSError:  # out of file descriptors: the parent does it all
            _close(parts)
            return None
        try:
            pid = os.fork()
        except OSError:  # out of processes or memory
            _close([*parts, ready_fd, done_fd])
            return None
        if pid == 0:  # pragma: no cover - the child's lines run in the child
            _child(contacts, records[split:], region, parts, ready_fd, done_fd)
        os.close(done_fd)
        return cls(pid, ready_fd, parts, split)

    def record_phones(self) -> list[NormalisedPhones] | None:
        """The numbers of the records from ``records_from`` on, once the child sent them."""
        return cast("list[NormalisedPhones] | None", self._part(0, _Phones))

    def phonebook(self) -> PreparedPhonebook | None:
        """The prepared phonebook, once the child sent it; None if it has none to give."""
        wire = cast("_Phonebook | None", self._part(1, _Phonebook))
        self.close()
        if wire is None or self._status != 0:
            return None
        ids, parties, stored, fingerprint = wire
        slots = [p.numbers if s is None else s for p, s in zip(parties, stored, strict=True)]
        return PreparedPhonebook(ids, parties, slots, fingerprint)

    def close(self) -> None:
        """Wait for the child to end, and let go of the files (once)."""
        if self._status is not None:
            return
        _, status = os.waitpid(self._pid, 0)
        self._status = os.waitstatus_to_exitcode(status)
        _close([*self._parts, self._ready])

    def _part(self, number: int, kind: Any) -> Any:
        """Part ``number`` decoded as ``kind``, once written; None if the child ended
        without writing it, or wrote something else."""
        while self._received <= number and self._status is None:
            if not os.read(self._ready, 1):
                break  # the child ended: no more parts
            self._received += 1
        if self._received <= number or self._status is not None:
            return None
        fd = self._parts[number]
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        try:
            return msgspec.msgpack.decode(data, type=kind)
        except msgspec.DecodeError:
            return None


def _memory_file(name: str) -> int:
    """A file descriptor of an anonymous file (in memory where the system has such)."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create(f"sipalto-sync-{name}")
    with tempfile.TemporaryFile() as file:  # pragma: no cover - Linux has memfd_create
        return os.dup(file.fileno())


def _close(fds: Sequence[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _child(
    contacts: Sequence[Contact],
    records: Sequence[SourceRecord],
    region: str,
    parts: Sequence[int],
    ready_fd: int,
    done_fd: int,
) -> None:
    """The child's whole life: work out each part, write it and say so, and leave
    without the parent's exit handlers, buffered output or tear-down (``os._exit``),
    whatever happens."""
    code = 1
    try:
        os.close(ready_fd)
        normalise = PhoneNormaliser(region).normalise_record_phones
        _send(parts[0], [normalise(record.phones) for record in records], done_fd)
        del normalise  # its cache: the parent's memory and the child's are counted together
        prepared = prepare_phonebook(contacts, region)
        stored = [
            None if s == p.numbers else s
            for p, s in zip(prepared.parties, prepared.stored, strict=True)
        ]
        wire = (prepared.ids, prepared.parties, stored, prepared.fingerprint)
        _send(parts[1], wire, done_fd)
        code = 0
    finally:
        os._exit(code)


def _send(fd: int, value: object, done_fd: int) -> None:
    """Write one part to its file, then say so on the pipe."""
    data = memoryview(msgspec.msgpack.encode(value))
    while data:
        data = data[os.write(fd, data) :]
    os.write(done_fd, b"1")
