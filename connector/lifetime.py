"""Working data a command leaves to the end of the process instead of freeing it.

A large plan's working data (normalised records, parties, indexes, outcomes) is millions
of small objects. Freed one by one as the functions holding them return, they cost a
third of a second at 100k contacts, for nothing when the process is about to end: the
console script ends with ``os._exit`` (:func:`connector.cli.app.main`), which frees
nothing. So code that builds such data hands it to :func:`keep` when done with it.

Only the console script turns this on (:func:`keep_until_exit`), as it is the one that
ends the process right after the command. Anywhere else (a library caller, a test's
in-process runner, a long-lived process) :func:`keep` does nothing and memory is freed as
usual.
"""

from __future__ import annotations

__all__ = ["keep", "keep_until_exit"]

_kept: list[object] | None = None


def keep(*objects: object) -> None:
    """Hold ``objects`` until the process ends, when :func:`keep_until_exit` was called;
    otherwise do nothing."""
    if _kept is not None:
        _kept.append(objects)


def keep_until_exit() -> None:
    """From now on, :func:`keep` holds what it is given until the process ends.

    For an entry point that ends the process with ``os._exit`` once its command is done.
    """
    global _kept
    if _kept is None:
        _kept = []
