"""Values that are not phone numbers (amounts, percentages, dates, times, decimals): what a
careful person would never dial is never written as a number.

The classification is :func:`connector.phonetext.not_a_phone_reason` (one rule, core);
the normaliser rejects such a value with that reason instead of reading its digits.
"""

from __future__ import annotations

from datetime import date, time

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_phones import VALID_UK
from test_phonetext import PLAUSIBLE_NUMBERS, SEPARATORS, SINGLE_NUMBERS

from connector.model import RawPhone
from connector.phonetext import not_a_phone_reason, remove_not_dialled, split_numbers
from connector.reconcile.phones import PhoneNormaliser, PhoneResult

GB = PhoneNormaliser("GB")
REGIONS = {region: PhoneNormaliser(region) for region in ("GB", "US", "CA", "DE", "FR", "IE")}


def only(text: str, normaliser: PhoneNormaliser = GB) -> PhoneResult:
    (result,) = normaliser.parse_value(text)
    return result


def numbers(text: str, normaliser: PhoneNormaliser = GB) -> list[str]:
    return [result.number for result in normaliser.parse_value(text) if result.usable]


def assert_rejected(text: str, looks_like: str) -> None:
    result = only(text)
    assert result.kind == "rejected"
    assert not result.usable
    assert result.error == f"{text} looks like {looks_like}, not a phone number"


# -- the cases, one test each ------------------------------------------------------


def test_decimal_value_is_rejected_not_extension_125() -> None:
    assert_rejected("12.5", "a decimal number")


def test_price_value_is_rejected_not_extension_2500() -> None:
    assert_rejected("£25.00", "an amount of money")


def test_time_value_is_rejected_not_extension_1030() -> None:
    assert_rejected("10:30", "a time")


def test_xlsx_decimal_cell_is_rejected_not_extension_15() -> None:
    # The Excel adapter writes a float cell 1.5 as the text "1.5".
    assert_rejected("1.5", "a decimal number")


def test_thousands_comma_is_rejected_not_split_into_1_and_234() -> None:
    assert split_numbers("1,234") == ["1,234"]
    assert_rejected("1,234", "a number with thousands separators")


def test_decimal_comma_is_rejected_not_split_into_extension_12() -> None:
    assert split_numbers("12,5") == ["12,5"]
    assert_rejected("12,5", "a decimal number")


@pytest.mark.parametrize("text", ["$5", "€12", "12,50 €", "€", "GBP 25", "25 USD", "£1,234.56"])
def test_currency_sign_or_code_is_rejected_not_read_as_digits(text: str) -> None:
    assert_rejected(text, "an amount of money")


@pytest.mark.parametrize("text", ["10:30:00", "9.30am", "9 pm", "9:00-17:00", "23:59"])
def test_time_is_rejected_not_read_as_an_extension(text: str) -> None:
    assert_rejected(text, "a time")


@pytest.mark.parametrize(
    "text",
    ["01/02/2024", "2024-02-01", "1 Feb 2024", "1-Feb-2024", "Feb 1st, 2024", "31.12.24",
     "2024-02-01 00:00:00"],
)  # fmt: skip
def test_date_is_rejected_not_read_as_a_number(text: str) -> None:
    assert_rejected(text, "a date")


def test_a_time_of_day_written_by_excel_is_rejected() -> None:
    assert_rejected(str(time(10, 30)), "a time")  # openpyxl gives a time cell as 10:30:00


def test_percentage_is_rejected_not_extension_12() -> None:
    assert_rejected("12%", "a percentage")


def test_scientific_notation_is_rejected_not_extension_1505() -> None:
    assert_rejected("1.5e-05", "a number in scientific notation")


# -- real phone formats are not taken for any of those --------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("020 7946 0123", ["02079460123"]),
        ("+44 (0)20 7946 0123", ["02079460123"]),
        ("07700-900-123", ["07700900123"]),
        ("020.7946.0123", ["02079460123"]),
        ("01491.833.000", ["01491833000"]),
        ("07700.900123", ["07700900123"]),
        ("01234 567890 ext. 12", ["01234567890"]),
        ("x1234", ["1234"]),
        ("1009", ["1009"]),
        ("1009,1010", ["1009", "1010"]),
        ("1009, 10100", ["1009", "10100"]),
        ("07700 900123 / 0161 496 0000", ["07700900123", "01614960000"]),
        ("+1 212 555 1234,,204", ["+12125551234"]),
        ("tel:+44-20-7946-0123;ext=204", ["02079460123"]),
    ],
)
def test_real_phone_formats_are_still_read(text: str, expected: list[str]) -> None:
    assert not_a_phone_reason(text) is None
    assert numbers(text) == expected


@pytest.mark.parametrize("text", ["01.23.45.67.89", "01-23-45-67-89", "07-12-34-56-78",
                                  "01/02/03/04/05", "+33 6-12-34-56-78"])  # fmt: skip
def test_french_pairs_are_a_phone_number_not_a_date(text: str) -> None:
    # Each run of three pairs looks like a date; a date never has more pairs around it.
    assert not_a_phone_reason(text) is None
    assert remove_not_dialled(text) == (text, ())
    assert len(numbers(text, REGIONS["FR"])) == 1


@pytest.mark.parametrize(
    ("text", "looks_like"),
    [("9:00-17:00", "a time"), ("9am-5pm", "a time"), ("£10-£20", "an amount of money"),
     ("10-20%", "a percentage"), ("12.5-13.5", "a decimal number")],
)  # fmt: skip
def test_a_range_is_rejected_whole_not_read_as_digits(text: str, looks_like: str) -> None:
    assert_rejected(text, looks_like)


def test_a_phone_number_beside_a_percentage_keeps_its_last_group() -> None:
    assert numbers("0161 496 0000 - 20%") == ["01614960000"]


@pytest.mark.parametrize(
    ("text", "decimal"),
    [
        ("020.7946.0123", False),  # two dots: they group the digits
        ("07700.900123", False),  # one dot, a full-length number, six digits after it
        ("4960.101", False),  # seven digits, three after the dot: digits, not a decimal
        ("123.456", True),  # six digits at most: too short to dial, a decimal
        ("1009.5", True),
        ("45.50", True),  # one or two digits after the dot: a decimal, however long
        ("7852902011.25", True),
        ("0.333333333", True),  # 0 before the dot
    ],
)
def test_a_dot_is_a_decimal_point_by_digit_count_and_grouping(text: str, decimal: bool) -> None:
    """The documented rule: one dot is a decimal point when one or two digits follow it,
    when 0 is before it, or when the whole has at most six digits; two or more group."""
    reason = not_a_phone_reason(text)
    assert (reason == f"{text} looks like a decimal number, not a phone number") == decimal


def test_a_remark_beside_a_number_is_left_out_of_it_with_a_warning() -> None:
    (result,) = GB.parse_value("020 7946 0123 (9:00-17:00)")
    assert result.number == "02079460123"
    assert result.warnings == (
        "9:00-17:00 ignored in 020 7946 0123 (9:00-17:00): not part of a phone number",
    )


def test_a_date_beside_a_number_is_not_read_as_extension_12024() -> None:
    assert numbers("07700 900123 from 1 Feb 2024") == ["07700900123"]
    assert numbers("0906 123 4567 (£1.50/min)") == ["09061234567"]


def test_record_whose_only_value_is_not_a_number_carries_the_reason() -> None:
    got = GB.normalise_record_phones([RawPhone("12.5")])
    assert got.numbers == ()
    assert got.errors == ("12.5 looks like a decimal number, not a phone number",)


def test_record_with_another_good_number_keeps_it_and_reports_the_bad_one() -> None:
    got = GB.normalise_record_phones([RawPhone("£25.00"), RawPhone("01491 833000")])
    assert got.numbers == ("01491833000",)
    assert got.errors == ("£25.00 looks like an amount of money, not a phone number",)


def test_one_cell_with_a_number_and_an_amount_keeps_the_number() -> None:
    results = GB.parse_value("01491 833000, 12%")
    assert [r.number for r in results] == ["01491833000", ""]
    assert results[1].error == "12% looks like a percentage, not a phone number"


# -- properties -----------------------------------------------------------------------------

AMOUNTS = st.one_of(
    st.integers(0, 99_999).map(str),
    st.tuples(st.integers(0, 99_999), st.integers(0, 99)).map(lambda p: f"{p[0]}.{p[1]:02d}"),
    st.tuples(st.integers(0, 9999), st.integers(0, 9)).map(lambda p: f"{p[0]},{p[1]}"),
    st.integers(1_000, 9_999_999).map(lambda n: f"{n:,}"),
)
CURRENCY = st.sampled_from(["£", "$", "€", "¥", "₹", "GBP", "USD", "EUR", "CHF"])
SPACE = st.sampled_from(["", " "])
MONEY = st.one_of(
    st.tuples(CURRENCY, SPACE, AMOUNTS).map("".join),
    st.tuples(AMOUNTS, SPACE, CURRENCY).map("".join),
)
PERCENTAGES = st.tuples(AMOUNTS, SPACE).map(lambda p: f"{p[0]}{p[1]}%")
TWELVE_HOUR = ["{h}:{m:02d}{s}{ap}", "{h}.{m:02d}{s}{ap}", "{h}{s}{ap}"]


def twelve_hour(t: time, form: str, space: str, am_pm: str) -> str:
    return form.format(h=(t.hour % 12) or 12, m=t.minute, s=space, ap=am_pm)


AM_PM = st.sampled_from(["am", "pm", "AM", "p.m."])
TIMES = st.one_of(
    st.times().map(lambda t: t.strftime("%H:%M")),
    st.times().map(lambda t: t.strftime("%H:%M:%S")),
    st.builds(twelve_hour, st.times(), st.sampled_from(TWELVE_HOUR), SPACE, AM_PM),
)
DATE_FORMATS = ["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%y", "%d %b %Y",
                "%d-%b-%Y", "%B %d, %Y", "%b %Y", "%Y-%m-%d 00:00:00"]  # fmt: skip
DATES = st.builds(
    date.strftime, st.dates(date(1990, 1, 1), date(2099, 12, 31)), st.sampled_from(DATE_FORMATS)
)
DASH = st.sampled_from(["-", " - ", "\u2013"])
RANGES = st.one_of(
    st.tuples(TIMES, DASH, TIMES).map("".join),
    st.tuples(CURRENCY, AMOUNTS, DASH, CURRENCY, AMOUNTS).map("".join),
    st.tuples(AMOUNTS, st.just("-"), AMOUNTS, st.just("%")).map("".join),
)
NOT_NUMBERS = st.one_of(MONEY, PERCENTAGES, TIMES, DATES, RANGES)
BEFORE = st.sampled_from(["", "approx ", "Total: ", "(", "- "])
AFTER = st.sampled_from(["", " per month", " (est.)", " only", ")", "/month"])


@settings(max_examples=400)
@given(BEFORE, NOT_NUMBERS, AFTER)
def test_an_amount_time_date_or_percentage_is_never_a_number(
    before: str, value: str, after: str
) -> None:
    text = before + value + after
    assert not_a_phone_reason(text) is not None
    for region in ("GB", "US", "DE"):
        assert not any(result.usable for result in REGIONS[region].parse_value(text)), text


FORMATS_WITH_GROUPS = ["0{a} {b} {c}", "0{a}-{b}-{c}", "0{a}.{b}.{c}", "(0{a}) {b} {c}",
                       "+44 {a} {b} {c}", "+44.{a}.{b}.{c}", "0{a} {b}{c}", "0{a}.{b}{c}",
                       "+44 (0){a} {b}{c}", "0{a}{b}{c}", "{a}{b}{c}", "0{a} {b}-{c}"]  # fmt: skip


@st.composite
def written_uk_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A valid UK number in a common format, and its Sipalto form. Groups after the first
    have three digits or more, as people write them (never ``01491 8330.00``)."""
    nsn = draw(st.sampled_from(VALID_UK))
    first = draw(st.integers(1, min(5, len(nsn) - 6)))
    second = draw(st.integers(first + 3, len(nsn) - 3))
    a, b, c = nsn[:first], nsn[first:second], nsn[second:]
    return draw(st.sampled_from(FORMATS_WITH_GROUPS)).format(a=a, b=b, c=c), "0" + nsn


@settings(max_examples=400)
@given(written_uk_numbers())
def test_every_valid_uk_number_in_common_formats_is_still_read(written: tuple[str, str]) -> None:
    text, expected = written
    assert not_a_phone_reason(text) is None
    assert numbers(text) == [expected]


@settings(max_examples=300)
@given(written_uk_numbers(), NOT_NUMBERS, st.sampled_from([" ", " (", ", ", "; ", " / "]))
def test_no_digit_of_an_amount_time_or_date_beside_a_number_is_ever_read(
    written: tuple[str, str], remark: str, joint: str
) -> None:
    text, expected = written
    assert numbers(text + joint + remark) == [expected]


@settings(max_examples=300)
@given(st.lists(PLAUSIBLE_NUMBERS, min_size=1, max_size=3), SEPARATORS)
def test_well_formed_numbers_are_never_taken_for_an_amount_date_or_time(
    pieces: list[str], separator: str
) -> None:
    assert not_a_phone_reason(separator.join(pieces)) is None


@settings(max_examples=300)
@given(SINGLE_NUMBERS)
def test_numbers_with_separators_inside_keep_every_digit(number: str) -> None:
    assert not_a_phone_reason(number) is None
    assert remove_not_dialled(number) == (number, ())


def test_libphonenumber_examples_of_every_region_tested_are_not_rejected() -> None:
    for region, normaliser in REGIONS.items():
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            assert example is not None
            for style in (phonenumbers.PhoneNumberFormat.NATIONAL,
                          phonenumbers.PhoneNumberFormat.INTERNATIONAL):  # fmt: skip
                text = phonenumbers.format_number(example, style)
                assert not_a_phone_reason(text) is None, (region, text)
                assert numbers(text, normaliser), (region, text)


# Anything a phone cell may hold, amounts, dates and times included.
CELLS = st.text(alphabet="0123456789 +-().:/,;|\n#ext%£$€GBPFebamp", max_size=40)


@settings(max_examples=500)
@given(CELLS)
def test_splitting_a_cell_with_amounts_never_loses_a_digit(value: str) -> None:
    digits = [c for c in "".join(split_numbers(value)) if c.isdecimal()]
    assert digits == [c for c in value if c.isdecimal()]


@settings(max_examples=500)
@given(CELLS)
def test_a_piece_with_amounts_does_not_split_again(value: str) -> None:
    for piece in split_numbers(value):
        assert split_numbers(piece) == [piece]
