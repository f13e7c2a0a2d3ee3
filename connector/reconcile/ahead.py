"""The phonebook's side of a large plan, worked out in a second process meanwhile.

Planning a file against a large phonebook has two halves that need nothing of each other
until matching: the source's records (normalised, checked for repeats) and the
phonebook's contacts (each one's numbers in Sipalto form, its name words, the
fingerprint). The second half is about a tenth of a 100,000-contact plan, on one core
while the other sits idle. So, where the operating system can fork, a child process
works it out (:func:`~connector.reconcile.remotes.prepare_phonebook`) while the parent
goes on with the records, and sends the result back through a pipe in msgpack, which
decodes straight into the planner's named tuples.

Nothing depends on it: the planner asks for the result when matching starts, and when
the child failed, was killed or sent something else, it works the phonebook out itself
(the plan is the same either way; the tests compare both). Small phonebooks are not worth
a process.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import msgspec

from connector.model import Contact
from connector.reconcile.evidence import Party
from connector.reconcile.remotes import PreparedPhonebook, prepare_phonebook

__all__ = ["MIN_CONTACTS", "phonebook_ahead"]

#: Below this many contacts the phonebook's side takes less time than starting a process
#: and reading its answer (about 0.1 s at 20,000 contacts).
MIN_CONTACTS = 20_000

# What goes through the pipe: ids, parties, each contact's slot numbers (None when they
# are its party's numbers, as for most contacts), fingerprint.
_Wire = tuple[list[str], list[Party], list[tuple[str, ...] | None], str]


@contextmanager
def phonebook_ahead(
    contacts: Sequence[Contact], region: str, *, min_contacts: int | None = None
) -> Iterator[Callable[[], PreparedPhonebook | None] | None]:
    """Start working out the phonebook's side in a child process, for ``make_plan``'s
    ``ahead``; gives None (nothing started) for fewer than ``min_contacts`` contacts
    (default :data:`MIN_CONTACTS`) or
    where processes are not forked (only Linux: elsewhere forking a process that has
    loaded system frameworks is unsafe). The child is waited for on leaving."""
    least = MIN_CONTACTS if min_contacts is None else min_contacts
    if len(contacts) < least or not sys.platform.startswith("linux"):
        yield None
        return
    worker = _Worker.start(contacts, region)
    if worker is None:
        yield None
        return
    try:
        yield worker.result
    finally:
        worker.close()


class _Worker:
    """One forked child preparing the phonebook, and the thread reading its answer."""

    def __init__(self, pid: int, read_fd: int) -> None:
        self._pid = pid
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._drain, args=(read_fd,), daemon=True)
        self._reader.start()
        self._status: int | None = None

    @classmethod
    def start(cls, contacts: Sequence[Contact], region: str) -> _Worker | None:
        """Fork the child; None when the system would not."""
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # out of processes or memory: the parent does it all
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:  # pragma: no cover - the child's lines run in the child
            _child(contacts, region, read_fd, write_fd)
        os.close(write_fd)
        return cls(pid, read_fd)

    def result(self) -> PreparedPhonebook | None:
        """Wait for the child; its prepared phonebook, or None if it has none to give."""
        self.close()
        if self._status != 0 or not self._chunks:
            return None
        try:
            ids, parties, stored, fingerprint = msgspec.msgpack.decode(
                b"".join(self._chunks), type=_Wire
            )
        except msgspec.DecodeError:
            return None
        finally:
            self._chunks = []
        slots = [p.numbers if s is None else s for p, s in zip(parties, stored, strict=True)]
        return PreparedPhonebook(ids, parties, slots, fingerprint)

    def close(self) -> None:
        """Wait for the child to end and its answer to be read (once)."""
        if self._status is not None:
            return
        self._reader.join()
        _, status = os.waitpid(self._pid, 0)
        self._status = os.waitstatus_to_exitcode(status)

    def _drain(self, fd: int) -> None:
        # Reading the pipe as the child writes lets the child end (and free its memory)
        # without waiting for the parent to ask; the reads release the GIL.
        with open(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(1 << 20):
                self._chunks.append(chunk)


def _child(contacts: Sequence[Contact], region: str, read_fd: int, write_fd: int) -> None:
    """The child's whole life: prepare, write, and leave without the parent's exit
    handlers, buffered output or tear-down (``os._exit``), whatever happens."""
    code = 1
    try:
        os.close(read_fd)
        prepared = prepare_phonebook(contacts, region)
        stored = [
            None if s == p.numbers else s
            for p, s in zip(prepared.parties, prepared.stored, strict=True)
        ]
        data = msgspec.msgpack.encode(
            (prepared.ids, prepared.parties, stored, prepared.fingerprint)
        )
        with open(write_fd, "wb", buffering=0) as pipe:
            view = memoryview(data)
            while view:
                view = view[pipe.write(view) or 0 :]
        code = 0
    finally:
        os._exit(code)
