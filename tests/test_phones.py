"""Phone numbers: the forms real data holds, and Sipalto's form out."""

from __future__ import annotations

from unittest import mock

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_phonetext import SPLIT_CASES

from connector.model import RawPhone
from connector.reconcile.phone_metadata import FICTIONAL_RANGES
from connector.reconcile.phones import PhoneNormaliser

GB = PhoneNormaliser("GB")


def numbers(text: str) -> list[str]:
    return [result.number for result in GB.parse_value(text) if result.usable]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01491 833000", "01491833000"),
        ("+44 (0)1491 833000", "01491833000"),
        ("+44 1491 833000", "01491833000"),
        ("0044 1491 833000", "01491833000"),
        ("441491833000", "01491833000"),
        ("(01491) 833-000", "01491833000"),
        ("01491.833.000", "01491833000"),
        ("tel:+44-1491-833000", "01491833000"),
        ("7852902011", "07852902011"),  # a lost leading zero
        ("07852 902011", "07852902011"),
        ("+353 1 234 5678", "+35312345678"),
        ("00353 1 234 5678", "+35312345678"),
        ("+1 (212) 555-1234", "+12125551234"),
        ("07730 885627 (mobile)", "07730885627"),
        ("Mum 07730 885627", "07730885627"),
        ("mob: 07730885627", "07730885627"),
        ("07730885627 MOB", "07730885627"),
        ("0800 FLOWERS", "08003569377"),
        ("０７８５２ ９０２０１１", "07852902011"),  # fullwidth, as typed with an IME
        ("＋４４ ７８５２ ９０２０１１", "07852902011"),
    ],
)
def test_common_forms_normalise_to_sipalto_form(text: str, expected: str) -> None:
    assert numbers(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1009", "1009"), ("999", "999"), ("10 09", "1009"), ("１００９", "1009")],
)
def test_extensions_and_short_codes_are_kept_verbatim(text: str, expected: str) -> None:
    (result,) = GB.parse_value(text)
    assert result.kind == "short"
    assert result.number == expected
    assert not result.warnings


@pytest.mark.parametrize("text", ["", "n/a", "tbc", "-", "  ", "none", "ask reception"])
def test_values_without_digits_are_no_number(text: str) -> None:
    assert GB.parse_value(text) == []


@pytest.mark.parametrize(
    ("text", "extension"),
    [
        ("020 7946 0123 ext 204", "204"),
        ("020 7946 0123 x204", "204"),
        ("020 7946 0123, ext. 204", "204"),
        ("020 7946 0123 (extension 204)", "204"),
        ("tel:+44-20-7946-0123;ext=204", "204"),
    ],
)
def test_an_extension_is_dropped_with_a_warning(text: str, extension: str) -> None:
    (result,) = GB.parse_value(text)
    assert result.number == "02079460123"
    assert any(f"extension {extension} dropped from" in w for w in result.warnings)


def test_extension_warning_quotes_the_value_as_written() -> None:
    (result,) = GB.parse_value("020 7946 0123 ext 204")
    assert result.warnings == ("extension 204 dropped from 020 7946 0123 ext 204",)


@pytest.mark.parametrize(
    ("text", "number", "sequence"),
    [
        ("01491833000p123", "01491833000", "p123"),
        ("+1 212 555 1234,,204", "+12125551234", ",,204"),
    ],
)
def test_pause_dialling_is_dropped_with_a_warning(text: str, number: str, sequence: str) -> None:
    (result,) = GB.parse_value(text)
    assert result.number == number
    assert result.warnings == (f"dial sequence {sequence} dropped from {text}",)


@pytest.mark.parametrize(("value", "pieces"), SPLIT_CASES)
def test_a_value_is_read_piece_by_piece_as_the_one_splitting_rule_cuts_it(
    value: str, pieces: list[str]
) -> None:
    assert GB.parse_value(value) == [r for piece in pieces for r in GB.parse_value(piece)]


def test_two_numbers_with_only_spaces_between_are_both_found() -> None:
    assert numbers("01491 833000 07852 902011") == ["01491833000", "07852902011"]


def test_several_numbers_with_labels_are_all_found() -> None:
    text = "home: 01491 833000, mobile: 07852 902011 or 1009"
    assert numbers(text) == ["01491833000", "07852902011", "1009"]


def test_possible_but_not_valid_number_is_kept_with_a_warning() -> None:
    (result,) = GB.parse_value("07700 901999")  # beside Ofcom's drama range, unassigned
    assert result.number == "07700901999"
    assert result.warnings == ("07700 901999 kept though not a valid UK number",)


@pytest.mark.parametrize("text", ["0123", "0800 flowers", "01491 833000/833001", "+44 12"])
def test_impossible_number_is_reported_and_dropped(text: str) -> None:
    (result,) = GB.parse_value(text)
    assert not result.usable
    assert result.kind == "dropped"
    assert result.error is not None and result.error.startswith("not a possible phone number")


def test_record_numbers_dedupe_and_report_overflow_in_priority_order() -> None:
    got = GB.normalise_record_phones(
        [
            RawPhone("01491 833000"),
            RawPhone("+44 1491 833000"),  # the same number again
            RawPhone("07852 902011"),
            RawPhone("n/a"),
            RawPhone("0161 496 0000"),
            RawPhone("0161 496 0001"),
            RawPhone("0123"),
        ]
    )
    assert got.numbers == ("01491833000", "07852902011", "01614960000")
    assert got.warnings == ("4th number 0161 496 0001 did not fit (Sipalto holds 3)",)
    assert got.errors == ("0123: not a possible phone number (too short), dropped",)
    assert got.ignored == ("n/a",)


def test_preferred_number_comes_first() -> None:
    got = GB.normalise_record_phones(
        [RawPhone("01491 833000"), RawPhone("07852 902011", preferred=True)]
    )
    assert got.numbers == ("07852902011", "01491833000")


def test_canonical_compares_numbers_from_both_sides() -> None:
    assert GB.canonical("07852 902011") == GB.canonical("+447852902011") == "07852902011"
    assert GB.canonical(" ask reception ") == "ask reception"


def test_region_decides_what_is_home() -> None:
    ireland = PhoneNormaliser("IE")
    assert [r.number for r in ireland.parse_value("01 234 5678")] == ["012345678"]
    assert [r.number for r in ireland.parse_value("+44 1491 833000")] == ["+441491833000"]


def test_unknown_region_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown region"):
        PhoneNormaliser("XX")


def test_one_number_written_several_ways_is_parsed_once() -> None:
    normaliser = PhoneNormaliser("GB")
    spellings = ["+353 1 234 5678", "00353 1 234 5678", "+353-1-234-5678", "+353 (0)1 234 5678"]
    with mock.patch("phonenumbers.parse", wraps=phonenumbers.parse) as parse:
        results = [normaliser.parse_value(s) for s in spellings + spellings]
    assert {r[0].number for r in results} == {"+35312345678"}
    assert parse.call_count == 1


def test_home_numbers_in_canonical_form_need_no_parse_call() -> None:
    normaliser = PhoneNormaliser("GB")
    with mock.patch("phonenumbers.parse", wraps=phonenumbers.parse) as parse:
        normaliser.parse_value("01491 833000")
        normaliser.parse_value("+44 1491 833000")
    assert parse.call_count == 0


# -- properties ----------------------------------------------------------------------------

VALID_UK = [
    phonenumbers.national_significant_number(example)
    for kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.UAN,
    )
    if (example := phonenumbers.example_number_for_type("GB", kind)) is not None
] + ["1491833000", "7852902011", "2079460123", "1614960000", "1134960000"]

FORMATS = [
    "0{n}",
    "+44{n}",
    "+44 {n}",
    "+44 (0){n}",
    "0044 {n}",
    "44{n}",
    "{n}",
    "tel:+44{n}",
    "0{a} {b}",
    "0{a}-{b}",
    "(0{a}) {b}",
    "0{a}.{b}",
    "+44 (0) {a} {b}",
    "0{n} (work)",
    "Office: 0{n}",
]


@given(st.sampled_from(VALID_UK), st.sampled_from(FORMATS), st.integers(1, 5))
def test_a_number_written_in_any_common_format_normalises_the_same(
    nsn: str, fmt: str, cut: int
) -> None:
    text = fmt.format(n=nsn, a=nsn[:cut], b=nsn[cut:])
    assert numbers(text) == ["0" + nsn]


@given(st.text(alphabet="0123456789 +-()./x,;tel:abcMOB", max_size=30))
@settings(max_examples=300)
def test_normalising_is_idempotent(text: str) -> None:
    for result in GB.parse_value(text):
        if result.usable:
            again = GB.parse_value(result.number)
            assert [r.number for r in again] == [result.number]


@given(
    st.sampled_from(["+44", "+353", "+1", "+33", "+49", "+61", "+800"]),
    st.text(alphabet="0123456789", min_size=1, max_size=17),
)
@settings(max_examples=600)
def test_international_input_agrees_with_libphonenumber(country: str, digits: str) -> None:
    """Every verdict on a ``+<country>...`` value is libphonenumber's: usable exactly when
    possible, flagged exactly when not valid, and in Sipalto's form."""
    text = country + digits
    results = PhoneNormaliser("GB").parse_value(text)
    try:
        expected = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        assert [r.usable for r in results] == [False]
        return
    reason = phonenumbers.is_possible_number_with_reason(expected)
    (result,) = results
    assert result.usable == (reason == phonenumbers.ValidationResult.IS_POSSIBLE)
    if not result.usable:
        return
    if expected.country_code == 44:
        assert result.number == "0" + phonenumbers.national_significant_number(expected)
    else:
        assert result.number == phonenumbers.format_number(
            expected, phonenumbers.PhoneNumberFormat.E164
        )
    flagged = any("not a valid" in w for w in result.warnings)
    nsn = phonenumbers.national_significant_number(expected)
    fictional = FICTIONAL_RANGES.get(expected.country_code)
    if fictional is not None and fictional.fullmatch(nsn):
        assert not flagged  # Ofcom's drama numbers are valid here, whatever libphonenumber says
        return
    assert flagged == (not phonenumbers.is_valid_number(expected))


@pytest.mark.parametrize(
    "text",
    ["07700 900123", "+44 7700 900999", "01632 960000", "0115 496 0123", "020 7946 0999",
     "029 2018 0000", "08081 570123", "03069 990123"],
)  # fmt: skip
def test_ofcoms_drama_numbers_are_valid(text: str) -> None:
    (result,) = PhoneNormaliser("GB").parse_value(text)
    assert result.usable and result.warnings == ()


@pytest.mark.parametrize("text", ["07700 901123", "01632 961000"])
def test_numbers_next_to_the_drama_ranges_are_still_checked(text: str) -> None:
    (result,) = PhoneNormaliser("GB").parse_value(text)
    assert any("not a valid UK number" in w for w in result.warnings)


class _ParseEveryKey(PhoneNormaliser):
    """The normaliser with its shortcuts for home numbers off: every key is parsed by
    ``phonenumbers.parse`` and judged by the library's own calls."""

    def _home_nsn(self, key: str) -> str | None:
        return None

    def _valid_home_number(self, digits: str, international: bool) -> str | None:
        return None


class _EveryStep(PhoneNormaliser):
    """The normaliser without its shortcut for plain valid home numbers only: the key
    steps and the cached verdicts as for any other value."""

    def _valid_home_number(self, digits: str, international: bool) -> str | None:
        return None


@given(
    st.sampled_from(["GB", "US", "DE", "IE", "FR"]),
    st.text(alphabet="0123456789 +()-.", max_size=22),
)
@settings(max_examples=1000)
def test_the_shortcut_for_plain_home_numbers_gives_what_every_step_gives(
    region: str, text: str
) -> None:
    assert PhoneNormaliser(region).parse_value(text) == _EveryStep(region).parse_value(text)


@given(st.sampled_from(VALID_UK), st.sampled_from(FORMATS), st.integers(1, 5))
def test_the_plain_shortcut_agrees_on_every_common_spelling(nsn: str, fmt: str, cut: int) -> None:
    text = fmt.format(n=nsn, a=nsn[:cut], b=nsn[cut:])
    assert PhoneNormaliser("GB").parse_value(text) == _EveryStep("GB").parse_value(text)


@given(st.text(alphabet="0123456789", min_size=1, max_size=18), st.sampled_from(FORMATS[:8]))
@settings(max_examples=600)
def test_the_shortcut_for_home_numbers_gives_what_parsing_gives(digits: str, form: str) -> None:
    text = form.format(n=digits, a=digits[:4], b=digits[4:])
    assert PhoneNormaliser("GB").parse_value(text) == _ParseEveryKey("GB").parse_value(text)


def test_the_shortcut_gives_what_parsing_gives_for_every_kind_of_uk_number() -> None:
    texts = [form.format(n=n, a=n[:4], b=n[4:]) for n in VALID_UK for form in FORMATS]
    quick, parsed = PhoneNormaliser("GB"), _ParseEveryKey("GB")
    assert [quick.parse_value(t) for t in texts] == [parsed.parse_value(t) for t in texts]
    with mock.patch("phonenumbers.parse", wraps=phonenumbers.parse) as parse:
        PhoneNormaliser("GB").parse_value("07852 902011")
    assert parse.call_count == 0


def _record_numbers_from_results(values: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a record's numbers and warnings are by the documented rules, from nothing but
    each value's full results (deduplicated, at most three, the rest said not to fit)."""
    normaliser = PhoneNormaliser("GB")
    numbers: list[str] = []
    warnings: list[str] = []
    for value in values:
        for result in normaliser.parse_value(value):
            if not result.number or result.number in numbers:
                continue
            if len(numbers) >= 3:
                warnings.append(
                    f"{len(numbers) + 1}th number {result.text} did not fit (Sipalto holds 3)"
                )
            else:
                warnings.extend(result.warnings)
            numbers.append(result.number)
    return tuple(numbers[:3]), tuple(dict.fromkeys(warnings))


VALUE_PARTS = st.sampled_from(
    [
        "07852 902011",
        "+44 7852 902011",
        "01491 833000",
        "07700 900123",
        "０７８５２ ９０２０１１",
        "(mobile)",
        "ext 12",
        "tel:+44-1491-833000",
        "n/a",
        "07700 901999",
        " ",
        "0800 FLOWERS",
    ]
)


@given(st.lists(st.lists(VALUE_PARTS, min_size=1, max_size=2).map(" ".join), max_size=5))
@settings(max_examples=300)
def test_the_short_form_of_a_clean_number_agrees_with_its_full_result(values: list[str]) -> None:
    """The cache keeps one clean number as its Sipalto form alone: every way of asking
    (in any order, so the short form is met first or second) gives what the full result
    gives."""
    normaliser = PhoneNormaliser("GB")
    record = normaliser.normalise_record_phones([RawPhone(v) for v in values])
    numbers, warnings = _record_numbers_from_results(values)
    assert record.numbers == numbers
    assert [w for w in record.warnings if "did not fit" not in w] == [
        w for w in warnings if "did not fit" not in w
    ]
    assert [w.split(" ", 1)[1] for w in record.warnings if "did not fit" in w] == [
        w.split(" ", 1)[1] for w in warnings if "did not fit" in w
    ]
    for value in values:
        results = normaliser.parse_value(value)
        usable = [r.number for r in results if r.number]
        assert normaliser.numbers_in(value) == tuple(dict.fromkeys(usable))
        assert normaliser.canonical(value) == (usable[0] if usable else value.strip())
        assert results == PhoneNormaliser("GB").parse_value(value)  # asked first or again
