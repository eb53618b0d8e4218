"""Money: minor units inside; a JSON number is minor units, a string a display amount."""

import pytest

from pancake import money
from pancake.api.errors import InvalidInput


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("29.00", "USD", 2900),
        ("29", "USD", 2900),
        ("29.5", "USD", 2950),
        ("0.01", "USD", 1),
        ("0", "USD", 0),
        ("4500", "JPY", 4500),
        ("1.5", "BHD", 1500),
        ("1.500", "BHD", 1500),
        ("0.001", "KWD", 1),
        (2900, "USD", 2900),
        (4500, "JPY", 4500),
        (1500, "BHD", 1500),
        (0, "USD", 0),
        (2900.0, "USD", 2900),
    ],
)
def test_to_minor(value, currency, minor):
    result = money.to_minor(value, currency)
    assert result == minor
    assert type(result) is int


@pytest.mark.parametrize(
    ("minor", "currency", "display"),
    [
        (2900, "USD", "29.00"),
        (2950, "USD", "29.50"),
        (1, "USD", "0.01"),
        (0, "USD", "0.00"),
        (4500, "JPY", "4500"),
        (1500, "BHD", "1.500"),
        (1, "BHD", "0.001"),
        (123456789, "USD", "1234567.89"),
    ],
)
def test_to_display(minor, currency, display):
    assert money.to_display(minor, currency) == display


@pytest.mark.parametrize("currency", ["USD", "JPY", "BHD", "EUR", "KWD"])
@pytest.mark.parametrize("minor", [0, 1, 99, 100, 2900, 1500, 10**12 + 7])
def test_display_and_minor_round_trip(minor, currency):
    assert money.to_minor(money.to_display(minor, currency), currency) == minor


def test_bhd_display_string_round_trips_with_three_decimals():
    assert money.to_display(money.to_minor("1.5", "BHD"), "BHD") == "1.500"


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("29.999", "USD"),  # more decimals than USD has
        ("29.990", "USD"),
        ("4500.5", "JPY"),
        ("4500.0", "JPY"),
        ("1.5000", "BHD"),
    ],
)
def test_more_decimals_than_the_currency_has_is_refused(value, currency):
    with pytest.raises(InvalidInput, match="decimal places"):
        money.to_minor(value, currency)


@pytest.mark.parametrize(
    "value",
    [
        "-1",
        "-29.00",
        -1,
        -2900,
        -0.5,
        "1e3",
        "1E3",
        "29.",
        ".5",
        "29,00",
        "$29",
        " 29.00",
        "29.00 ",
        "29.00\n",
        "+29",
        "",
        "NaN",
        "Infinity",
        "２９",  # full-width digits
        "٢٩",  # Arabic-Indic digits
        "29.5\u0660",
        29.5,
        True,
        None,
        [29],
        {"amount": 29},
    ],
)
def test_anything_but_digits_with_an_optional_fraction_is_refused(value):
    with pytest.raises(InvalidInput, match="Invalid amount"):
        money.to_minor(value, "USD")


def test_the_error_names_the_field():
    with pytest.raises(InvalidInput, match=r"Invalid prices\.USD\.amount"):
        money.to_minor("29.999", "USD", field="prices.USD.amount")


@pytest.mark.parametrize("currency", ["usd", "XYZ", "", None, "US"])
def test_unknown_currency_is_refused(currency):
    with pytest.raises(InvalidInput, match="currency"):
        money.to_minor("29.00", currency)


def test_large_display_amounts_are_converted_exactly():
    # 30 significant digits: more than the default decimal context carries.
    assert (
        money.to_minor("1234567890123456789012345678.99", "USD") == 123456789012345678901234567899
    )
    assert money.to_minor("99999999999999999999999999999", "JPY") == 99999999999999999999999999999


def test_absurdly_long_amount_is_a_400_not_a_crash():
    with pytest.raises(InvalidInput, match="Invalid amount"):
        money.to_minor("9" * 5000, "USD")


def test_large_and_negative_minor_amounts_display_exactly():
    assert money.to_display(123456789012345678901234567899, "USD") == (
        "1234567890123456789012345678.99"
    )
    assert money.to_display(-1500, "BHD") == "-1.500"
    assert money.to_display(-5, "USD") == "-0.05"
    assert money.to_display(-4500, "JPY") == "-4500"


@pytest.mark.parametrize("currency", ["USD", "JPY", "BHD", "CLF", "EUR"])
def test_display_strings_are_the_integer_arithmetic_ones(currency):
    places = money.exponent(currency)
    for minor in [*range(0, 2100, 7), 10**15 + 3, -1, -999, -(10**places), 10**30 + 1]:
        whole, fraction = divmod(abs(minor), 10**places)
        sign = "-" if minor < 0 else ""
        expected = f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"
        assert money.to_display(minor, currency) == expected
