"""Names: shown as the source says, compared forgivingly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.reconcile.names import containment, core_words, display_name, name_key, name_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  John   Smith ", "John Smith"),
        ("John\tSmith\n", "John Smith"),
        ("Smith, John", "Smith, John"),
        ("ACME LTD", "ACME LTD"),
        ("Jose\u0301 A\u0301lvarez", "José Álvarez"),  # decomposed accents are composed
        ("", ""),
    ],
)
def test_display_name_tidies_only_what_nobody_sees(text: str, expected: str) -> None:
    assert display_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("John Smith", "john smith"),
        ("JOHN  SMITH", "john smith"),
        ("Smith, John", "john smith"),
        ("Smith, Dr John", "john smith"),
        ("Smith, John, MBE", "john smith"),
        ("Dr. J. Smith", "j smith"),
        ("Mrs Jane O'Brien", "jane obrien"),
        ("Mr & Mrs Smith", "smith"),
        ("José Álvarez", "jose alvarez"),
        ("Álvarez, José", "jose alvarez"),
        ("Søren Kierkegaard", "soren kierkegaard"),
        ("Zoë Ó'Súilleabháin", "zoe osuilleabhain"),
        ("Straße GmbH", "strasse"),
        ("Jean-Pierre Dupont", "jean pierre dupont"),
        ("Acme Ltd", "acme"),
        ("ACME Limited", "acme"),
        ("Acme, Inc.", "acme"),
        ("Acme Holdings Pty Ltd", "acme holdings"),
        ("Walmids Veterinary L.L.P.", "walmids veterinary"),
        ("Marks & Spencer PLC", "marks and spencer"),
        ("Smith & Co", "smith"),
        ("J.R.R. Tolkien", "j r r tolkien"),
        ("Unit 4, Acme", "unit 4 acme"),
        ("Ltd", "ltd"),  # never every word
        ("Dr", "dr"),
    ],
)
def test_name_key_forgives_case_accents_order_titles_and_suffixes(text: str, expected: str) -> None:
    assert name_key(text) == expected


def test_name_tokens_are_the_key_words() -> None:
    assert name_tokens("Smith, Dr John") == ("john", "smith")


def test_titles_and_suffixes_are_ignored_for_comparison_only() -> None:
    assert display_name("Dr John Smith Ltd") == "Dr John Smith Ltd"


NAME_TEXT = st.text(
    alphabet=st.characters(
        whitelist_categories=("Lu", "Ll", "Zs", "Nd"),
        whitelist_characters=",.'’&-",
    ),
    max_size=30,
)


@given(NAME_TEXT)
def test_name_key_is_idempotent(text: str) -> None:
    assert name_key(name_key(text)) == name_key(text)


@given(NAME_TEXT)
def test_display_name_is_idempotent(text: str) -> None:
    assert display_name(display_name(text)) == display_name(text)


@given(NAME_TEXT)
def test_case_and_spacing_never_change_the_key(text: str) -> None:
    assert name_key(text.upper()) == name_key(text.lower()) == name_key(f"  {text}  ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Crown (Wells)", ("crown", "wells")),
        ("Palm, The (Los Angeles)", ("palm", "los", "angeles")),
        ("Harbour Dental Ltd (Leeds)", ("harbour", "dental", "leeds")),
        ("Steak House The", ("steak", "house")),
        ("The", ("the",)),  # never every word
    ],
)
def test_core_words_set_qualifiers_last_and_drop_end_articles(
    text: str, expected: tuple[str, ...]
) -> None:
    assert core_words(text) == expected


@pytest.mark.parametrize(
    ("a", "b", "how"),
    [
        ("Kestrel", "Kestrel Joinery Ltd", "contained"),
        ("Kestrel Joinery Ltd", "Kestrel", "contained"),  # either side may be the shorter
        ("Katsu", "Restaurant Katsu", "contained"),  # after generic words only
        ("Mill Race Deli", "Mill Race Delicatessen", "abbreviated"),
        ("High St Dental", "High Street Dental", "abbreviated"),
        ("Smith & Co Builders", "Smith and Company Builders", "abbreviated"),
        ("Steak House", "The Steak House", "article"),
        ("Reception", "Harbour Dental Reception", None),  # nothing distinctive
        ("Smith", "John Smith", None),  # a surname ends a name after a forename
        ("John Smith", "John Smith Jr", None),
        ("Rajesh Patel", "Rajesh Kumar Patel", None),
        ("Saint Annes", "Street Annes", None),
    ],
)
def test_containment_knows_which_name_holds_the_other(a: str, b: str, how: str | None) -> None:
    held = containment(a, b)
    assert (held.how if held else None) == how
    if held:
        assert len(core_words(held.shorter)) <= len(core_words(held.longer))
