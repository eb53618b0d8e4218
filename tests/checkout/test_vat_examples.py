"""Every VAT/GST number of checkout/tax/reference/vat_examples.csv is accepted or refused as its
`valid` column says: by the python-stdnum module the row names, and by the tax engine for a
business buyer from the row's country (with the two exceptions lookup rule 6 asks for, see
docs/money-and-tax.md). A missing file is a failure, not a skip."""

from __future__ import annotations

import csv
import importlib
import re

import pytest

from checkout.tax import calculate
from checkout.tax.data import REFERENCE_DIR
from checkout.tax.engine import COUNTRIES
from pancake.api.errors import InvalidInput

EXAMPLES = REFERENCE_DIR / "vat_examples.csv"


def rows() -> list[dict]:
    # Read at collection: a missing file must fail the run, not parametrize zero tests.
    with EXAMPLES.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_examples_are_in_the_repository():
    assert len(rows()) == 75


def row_id(row: dict) -> str:
    return f"{row['country']}-{row['number']}-{row['valid']}"


# Where the engine must differ from the bare stdnum verdict (lookup rule 6):
ENGINE_OVERRIDES = {
    # non-Union OSS number: stdnum.eu.vat accepts it, it is not a buyer's VAT number
    ("EU", "EU372022452"): False,
    # a UK number refused by the EU validator; a GB buyer's number is checked with stdnum.gb.vat
    ("GB", "GB980780684"): True,
}


def stdnum_module(row: dict):
    name = re.search(r"\[(stdnum\.[a-z_.]+):", row["why"]).group(1)
    return importlib.import_module(name)


@pytest.mark.parametrize("row", rows(), ids=row_id)
def test_stdnum_verdict_is_the_valid_column(row):
    assert stdnum_module(row).is_valid(row["number"]) is (row["valid"] == "true")


@pytest.mark.parametrize("row", rows(), ids=row_id)
def test_engine_accepts_or_refuses_the_number_as_the_valid_column_says(row):
    expected = ENGINE_OVERRIDES.get((row["country"], row["number"]), row["valid"] == "true")
    # EU (OSS) and XX are not countries: the number is entered by a German business buyer.
    country = row["country"] if row["country"] in COUNTRIES else "DE"
    try:
        result = calculate(
            amount=10000,
            currency="EUR",
            tax_included=False,
            tax_category="saas",
            country=country,
            state=None,
            is_business=True,
            business_name="Example Ltd",
            tax_id=row["number"],
        )
    except InvalidInput as exc:
        assert "taxId" in str(exc)
        accepted = False
    else:
        # CH taxes business buyers like consumers, so it records the check instead of a 400.
        accepted = result.evidence["tax_id_valid"] is True
        if accepted and country != "CH":
            assert result.reverse_charge
            assert result.tax_amount == 0
    assert accepted is expected
