"""Every row of the committed tax data file, exclusive and inclusive, in currencies with 2, 0 and
3 decimals, against an independent Decimal computation in major units (lookup rule 10 of
docs/money-and-tax.md)."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from checkout.tax import calculate
from checkout.tax.data import data_file

DATA = json.loads(data_file().read_text(encoding="utf-8"))
ROWS = DATA["rows"]
EU = set(DATA["eu_member_states"])
CATEGORIES = DATA["categories"]
AMOUNT = 12345
CURRENCIES = {"USD": 2, "JPY": 0, "BHD": 3}
CA_GST = next(r for r in ROWS if r["country"] == "CA" and not r["region"])


def row_id(row: dict) -> str:
    applies = (
        row["applies_to"] if isinstance(row["applies_to"], str) else "+".join(row["applies_to"])
    )
    return f"{row['country']}-{row['region'] or 'national'}-{applies}-{row['effective_from']}"


def listed_elsewhere(row: dict) -> set[str]:
    """Categories that another row of the same place lists (they would beat an `all` row)."""
    return {
        c
        for other in ROWS
        if other is not row
        and (other["country"], other["region"]) == (row["country"], row["region"])
        and isinstance(other["applies_to"], list)
        for c in other["applies_to"]
    }


def matching_category(row: dict) -> str:
    if isinstance(row["applies_to"], list):
        return row["applies_to"][0]
    return next(c for c in CATEGORIES if c not in listed_elsewhere(row))


def excluded_category(row: dict) -> str | None:
    if row["applies_to"] == "all":
        return None
    listed = row["applies_to"] if isinstance(row["applies_to"], list) else []
    return next((c for c in CATEGORIES if c not in listed), None)


def rate(row: dict) -> Decimal:
    return Decimal(row["rate"]) / 100


def expected_lines(row: dict, category: str) -> tuple[list[tuple[str, Decimal]], str]:
    """(name, rate) lines and the rule code, worked out from the row alone."""
    covers = row["applies_to"] == "all" or (
        isinstance(row["applies_to"], list) and category in row["applies_to"]
    )
    country = row["country"]
    if country == "CA":
        gst = [(CA_GST["tax_name"], rate(CA_GST))]
        if not row["region"] or not covers:
            return gst, "ca_gst"
        if row["tax_name"] == "HST":
            return [(row["tax_name"], rate(row))], "ca_hst"
        return [*gst, (row["tax_name"], rate(row))], "ca_gst_pst"
    if not covers:
        return [], "not_taxed_category"
    if country == "US":
        return [(row["tax_name"], rate(row))], "us_state"
    return [(row["tax_name"], rate(row))], "eu_vat" if country in EU else "national"


def half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def independent(amount: int, places: int, included: bool, lines: list[tuple[str, Decimal]]):
    """(subtotal, tax, total, line amounts) in minor units, computed in major units."""
    major = Decimal(amount).scaleb(-places)
    if not included:
        amounts = [half_up(major * r, places) for _, r in lines]
        subtotal, total = major, major + sum(amounts, Decimal(0))
    else:
        total = major
        subtotal = half_up(major / (1 + sum((r for _, r in lines), Decimal(0))), places)
        amounts = [half_up(subtotal * r, places) for _, r in lines]
        if amounts:
            amounts[-1] += (total - subtotal) - sum(amounts, Decimal(0))
    minor = [int(a.scaleb(places)) for a in amounts]
    return int(subtotal.scaleb(places)), sum(minor), int(total.scaleb(places)), minor


def run(row: dict, currency: str, category: str, included: bool):
    return calculate(
        amount=AMOUNT,
        currency=currency,
        tax_included=included,
        tax_category=category,
        country=row["country"],
        state=row["region"] or ("AB" if row["country"] == "CA" else None),
        on=date.fromisoformat(row["effective_from"]),
    )


def test_the_table_covers_every_row_of_the_data_file():
    assert len(ROWS) == 154
    assert len({row_id(r) for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("currency", sorted(CURRENCIES))
@pytest.mark.parametrize("row", ROWS, ids=row_id)
def test_row_with_a_matching_category(row, currency):
    category = matching_category(row)
    lines, rule = expected_lines(row, category)
    for included in (False, True):
        r = run(row, currency, category, included)
        subtotal, tax, total, amounts = independent(AMOUNT, CURRENCIES[currency], included, lines)
        assert (r.subtotal, r.tax_amount, r.total) == (subtotal, tax, total), included
        assert r.total == r.subtotal + r.tax_amount
        assert [(name, rt) for name, rt, _ in r.lines] == lines
        assert [a for _, _, a in r.lines] == amounts
        assert r.rate == sum((rt for _, rt in lines), Decimal(0))
        assert r.rule == rule
        assert not r.reverse_charge
        if lines:
            assert row["rate"] in [x["rate_percent"] for x in r.evidence["rates"]]


@pytest.mark.parametrize("currency", sorted(CURRENCIES))
@pytest.mark.parametrize(
    "row",
    [r for r in ROWS if excluded_category(r) and r["country"] in ("US", "CA", "IL")],
    ids=row_id,
)
def test_row_whose_applies_to_excludes_the_category(row, currency):
    category = excluded_category(row)
    lines, rule = expected_lines(row, category)
    for included in (False, True):
        r = run(row, currency, category, included)
        subtotal, tax, total, _ = independent(AMOUNT, CURRENCIES[currency], included, lines)
        assert (r.subtotal, r.tax_amount, r.total, r.rule) == (subtotal, tax, total, rule)
        if row["country"] != "CA":
            assert (r.tax_amount, r.subtotal, r.total, r.lines) == (0, AMOUNT, AMOUNT, ())


@pytest.mark.parametrize(
    "row", [r for r in ROWS if isinstance(r["applies_to"], list) and r["region"] == ""], ids=row_id
)
def test_national_category_row_is_not_used_for_other_categories(row):
    category = excluded_category(row)
    r = run(row, "USD", category, False)
    used = [
        x
        for x in r.evidence["rates"]
        if x["applies_to"] == row["applies_to"] and x["effective_from"] == row["effective_from"]
    ]
    assert not any(x["charged"] for x in used)
