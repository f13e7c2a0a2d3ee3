"""Parts of a large plan worked out in a second process meanwhile.

Planning a file against a large phonebook has two halves that need nothing of each other
until matching: the source's records (their numbers normalised, checked for repeats) and
the phonebook's contacts (each one's numbers in Sipalto form, its name words, the
fingerprint). On one core, the other sits idle. So, where the operating system can fork,
a child process works out the numbers of the last records and then the phonebook's side
(:func:`~connector.reconcile.remotes.prepare_phonebook`), while the parent normalises the
first records and looks for repeats. Each part comes back through a pipe in msgpack, which
decodes straight into the planner's named tuples.

Nothing depends on it: the planner asks for each part when it needs it, and when the child
failed, was killed or sent something else, it works that part out itself (the plan is the
same either way; the tests compare both). A small phonebook, or a file much smaller than
the phonebook, is not worth a process.
"""

from __future__ import annotations

import os
import struct
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

import msgspec

from connector.model import Contact, SourceRecord
from connector.reconcile.evidence import Party
from connector.reconcile.phones import NormalisedPhones, PhoneNormaliser
from connector.reconcile.remotes import Ahead, PreparedPhonebook, prepare_phonebook

__all__ = ["MIN_CONTACTS", "phonebook_ahead", "records_share"]

#: Below this many contacts the phonebook's side takes less time than starting a process
#: and reading its answer (about 0.1 s at 20,000 contacts).
MIN_CONTACTS = 20_000

# What goes through the pipe, each part as a frame (its length, then the msgpack): the
# last records' numbers; then the phonebook's ids, parties, each contact's slot numbers
# (None when they are its party's numbers, as for most contacts) and fingerprint.
_Phones = list[NormalisedPhones]
_Phonebook = tuple[list[str], list[Party], list[tuple[str, ...] | None], str]
_LENGTH = struct.Struct(">Q")


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
    """One forked child working ahead, and the thread reading its answers."""

    def __init__(self, pid: int, read_fd: int, records_from: int) -> None:
        self._pid = pid
        self.records_from = records_from
        self._frames: list[bytes] = []
        self._first = threading.Event()  # the first frame is in, or there will be none
        self._reader = threading.Thread(target=self._read, args=(read_fd,), daemon=True)
        self._reader.start()
        self._status: int | None = None

    @classmethod
    def start(
        cls, contacts: Sequence[Contact], records: Sequence[SourceRecord], split: int, region: str
    ) -> _Worker | None:
        """Fork the child; None when the system would not."""
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # out of processes or memory: the parent does it all
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:  # pragma: no cover - the child's lines run in the child
            _child(contacts, records[split:], region, read_fd, write_fd)
        os.close(write_fd)
        return cls(pid, read_fd, split)

    def record_phones(self) -> list[NormalisedPhones] | None:
        """The numbers of the records from ``records_from`` on, once the child sent them."""
        self._first.wait()
        return _decode(self._frames[0], _Phones) if self._frames else None

    def phonebook(self) -> PreparedPhonebook | None:
        """Wait for the child; its prepared phonebook, or None if it has none to give."""
        self.close()
        if self._status != 0 or len(self._frames) != 2:
            return None
        wire = _decode(self._frames[1], _Phonebook)
        self._frames = []
        if wire is None:
            return None
        ids, parties, stored, fingerprint = wire
        slots = [p.numbers if s is None else s for p, s in zip(parties, stored, strict=True)]
        return PreparedPhonebook(ids, parties, slots, fingerprint)

    def close(self) -> None:
        """Wait for the child to end and its answers to be read (once)."""
        if self._status is not None:
            return
        self._reader.join()
        _, status = os.waitpid(self._pid, 0)
        self._status = os.waitstatus_to_exitcode(status)

    def _read(self, fd: int) -> None:
        # Reading the pipe as the child writes lets the child end (and free its memory)
        # without waiting for the parent to ask; the reads release the GIL.
        try:
            with open(fd, "rb") as pipe:
                while (head := pipe.read(_LENGTH.size)) and len(head) == _LENGTH.size:
                    (length,) = _LENGTH.unpack(head)
                    frame = pipe.read(length)
                    if len(frame) != length:
                        break  # cut short: the child died writing it
                    self._frames.append(frame)
                    self._first.set()
        finally:
            self._first.set()


def _decode(frame: bytes, kind: Any) -> Any:
    try:
        return msgspec.msgpack.decode(frame, type=kind)
    except msgspec.DecodeError:
        return None


def _child(
    contacts: Sequence[Contact],
    records: Sequence[SourceRecord],
    region: str,
    read_fd: int,
    write_fd: int,
) -> None:
    """The child's whole life: work out, write, and leave without the parent's exit
    handlers, buffered output or tear-down (``os._exit``), whatever happens."""
    code = 1
    try:
        os.close(read_fd)
        with open(write_fd, "wb") as pipe:
            normalise = PhoneNormaliser(region).normalise_record_phones
            _send(pipe, [normalise(record.phones) for record in records])
            pipe.flush()  # the parent is waiting for these
            prepared = prepare_phonebook(contacts, region)
            stored = [
                None if s == p.numbers else s
                for p, s in zip(prepared.parties, prepared.stored, strict=True)
            ]
            _send(pipe, (prepared.ids, prepared.parties, stored, prepared.fingerprint))
        code = 0
    finally:
        os._exit(code)


def _send(pipe: IO[bytes], value: object) -> None:
    data = msgspec.msgpack.encode(value)
    pipe.write(_LENGTH.pack(len(data)))
    pipe.write(data)
