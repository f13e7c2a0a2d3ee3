"""Counts in messages and views: "1 contact", never "1 contacts"."""

from __future__ import annotations

import io

from connector.model import Contact
from connector.ui.contacts_view import write_contacts
from connector.ui.words import count


def test_one_is_singular_and_every_other_number_plural() -> None:
    assert [count(n, "record") for n in (0, 1, 2)] == ["0 records", "1 record", "2 records"]


def test_a_phonebook_of_one_is_one_contact() -> None:
    out = io.StringIO()
    write_contacts([Contact("1", "Ann", "1009", "", "")], "table", out)
    assert out.getvalue().rstrip().endswith("\n1 contact")
