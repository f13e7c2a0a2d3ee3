"""The phonebook fingerprint a plan carries: apply compares it with the phonebook's."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from connector.model import Contact, phonebook_fingerprint

contacts = st.lists(
    st.builds(
        Contact,
        id=st.sampled_from(["1", "2", "10", "30001", "x"]),
        # Any text a phonebook may hold: controls, quotes, backslashes, astral characters.
        name=st.text(st.characters(codec="utf-8"), max_size=8),
        phone1=st.sampled_from(["", "07852902011", "+33123456789"]),
        phone2=st.sampled_from(["", "01491833000"]),
        phone3=st.text(alphabet="0123 ", max_size=4),
    ),
    max_size=8,
)


def _as_plans_have_always_written_it(book: list[Contact]) -> str:
    """The digest as earlier versions computed it: a plan saved by one of them must still
    find its phonebook unchanged."""
    rows = sorted((c.to_dict() for c in book), key=lambda c: (c["id"], c["name"]))
    raw = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()


@given(contacts)
def test_the_fingerprint_is_the_one_earlier_plans_carry(book: list[Contact]) -> None:
    assert phonebook_fingerprint(book) == _as_plans_have_always_written_it(book)


@given(contacts, st.randoms())
def test_the_fingerprint_does_not_depend_on_the_order_read(book: list[Contact], rng) -> None:
    shuffled = list(book)
    rng.shuffle(shuffled)
    if len({(c.id, c.name) for c in book}) == len(book):  # ties keep the order read
        assert phonebook_fingerprint(shuffled) == phonebook_fingerprint(book)


def test_a_changed_number_changes_the_fingerprint() -> None:
    before = [Contact("1", "Ann", "07852902011"), Contact("2", "Bob", "01491833000")]
    after = [Contact("1", "Ann", "07852902011"), Contact("2", "Bob", "01491833001")]
    assert phonebook_fingerprint(before) != phonebook_fingerprint(after)
