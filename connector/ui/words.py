"""Words for people: counts with the right plural, so no message says "1 records"."""

from __future__ import annotations


def count(n: int, word: str) -> str:
    """``count(1, "call")`` -> ``"1 call"``, ``count(3, "call")`` -> ``"3 calls"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
