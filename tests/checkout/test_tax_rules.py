"""The tax engine, tests grouped by the lookup rules of docs/money-and-tax.md ("Tax lookup
rules"; the section comments below carry their numbers)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from checkout.tax import TaxResult, calculate
from checkout.tax.data import load
from pancake.api.errors import Forbidden, InvalidInput

ON = date(2026, 11, 23)


def tax(**kwargs) -> TaxResult:
    args = {
        "amount": 10000,
        "currency": "EUR",
        "tax_included": False,
        "tax_category": "saas",
        "on": ON,
    }
    args.update(kwargs)
    return calculate(**args)


def business(**kwargs) -> TaxResult:
    return tax(is_business=True, business_name="Acme GmbH", **kwargs)


def assert_adds_up(r: TaxResult) -> None:
    assert r.total == r.subtotal + r.tax_amount
    assert sum(amount for _, _, amount in r.lines) == r.tax_amount
    assert r.rate == sum((rate for _, rate, _ in r.lines), Decimal(0))


# --- Lookup rule 10: rounding --------------------------------------------------------------


def test_eur_100_including_19_percent_splits_into_84_03_and_15_97():
    r = tax(country="DE", amount=10000, tax_included=True)
    assert (r.subtotal, r.tax_amount, r.total) == (8403, 1597, 10000)


def test_usd_0_50_excluding_5_percent_rounds_half_up_to_3_cents():
    r = tax(country="CA", state="AB", currency="USD", amount=50)
    assert (r.subtotal, r.tax_amount, r.total) == (50, 3, 53)  # 2.5 -> 3, not banker's 2


def test_jpy_1000_excluding_10_percent_is_100_yen():
    r = tax(country="JP", currency="JPY", amount=1000)
    assert (r.subtotal, r.tax_amount, r.total) == (1000, 100, 1100)
    assert r.rule == "national"
    assert r.tax_name == "JCT"


def test_bhd_keeps_three_decimals():
    # 12.345 BHD incl. 10% VAT: 12345 / 1.1 = 11222.7 -> 11223 fils.
    r = tax(country="BH", currency="BHD", amount=12345, tax_included=True)
    assert (r.subtotal, r.tax_amount, r.total) == (11223, 1122, 12345)


# --- Lookup rules 1, 4: blocked countries, unknown codes, countries without rows ----------


@pytest.mark.parametrize("country", ["RU", "KP", "IR", "UA", "CU"])
def test_blocked_countries_are_refused_with_403(country):
    with pytest.raises(Forbidden) as exc:
        tax(country=country)
    assert exc.value.status == 403
    assert exc.value.layer == "order"


def test_blocked_country_message_names_the_country():
    with pytest.raises(Forbidden, match="^Purchases from Russia are not supported$"):
        tax(country="RU")


def test_blocked_ip_country_is_refused_too():
    with pytest.raises(Forbidden, match="Iran"):
        tax(country="DE", ip_country="IR")


@pytest.mark.parametrize("country", ["XY", "EU", "DEU", "", "1A", None])
def test_unknown_country_code_is_a_400(country):
    with pytest.raises(InvalidInput, match="Invalid country") as exc:
        tax(country=country)
    assert exc.value.status == 400
    assert exc.value.layer == "order"


def test_country_without_rows_is_0_percent_no_rule():
    r = tax(country="BR")
    assert (r.tax_amount, r.total, r.rate, r.rule, r.lines) == (0, 10000, 0, "no_rule", ())
    assert r.evidence["rule"] == "no_rule"


def test_lowercase_country_is_accepted():
    assert tax(country="de").rule == "eu_vat"


# --- Lookup rules 2, 3: effective dates and category match -----------------------------------


def test_rows_newer_than_the_order_date_are_ignored():
    # Manitoba's RST on SaaS starts 2026-01-01; Finland went to 25.5% on 2024-09-01.
    assert tax(country="CA", state="MB", on=date(2025, 12, 31)).rule == "ca_gst"
    assert tax(country="CA", state="MB", on=date(2026, 1, 1)).rule == "ca_gst_pst"
    assert tax(country="FI", on=date(2024, 8, 31)).rule == "no_rule"  # no older FI row kept
    assert tax(country="FI", on=date(2024, 9, 1)).rate == Decimal("0.255")


def test_the_newest_row_for_the_place_and_category_wins():
    from checkout.tax.data import Row

    data = load()
    older = Row("DE", "", "VAT", "16", "all", "reverse_charge", date(2020, 7, 1), "test")
    places = dict(data.by_place)
    places[("DE", "")] = (*places[("DE", "")], older)
    patched = type(data)(**{**data.__dict__, "by_place": places})
    assert patched.row_for("DE", "", "saas", date(2020, 12, 31)).rate_percent == "16"
    assert patched.row_for("DE", "", "saas", date(2021, 1, 1)).rate_percent == "19"


def test_eu_consumer_pays_the_member_state_vat():
    r = tax(country="DE")
    assert (r.tax_amount, r.rate, r.tax_name, r.rule) == (1900, Decimal("0.19"), "VAT", "eu_vat")
    assert r.lines == (("VAT", Decimal("0.19"), 1900),)
    assert not r.reverse_charge
    assert_adds_up(r)


def test_category_row_beats_the_all_row_de_ebook_7_percent():
    r = tax(country="DE", tax_category="ebook")
    assert (r.tax_amount, r.rate, r.rule) == (700, Decimal("0.07"), "eu_vat")


def test_category_not_listed_anywhere_is_0_percent():
    r = tax(country="IL")  # Israel: applies_to none
    assert (r.tax_amount, r.rule, r.tax_name) == (0, "not_taxed_category", "")


def test_unknown_tax_category_is_a_400():
    with pytest.raises(InvalidInput, match="taxCategory"):
        tax(country="DE", tax_category="hardware")


# --- Lookup rule 6: EU business buyers -----------------------------------------------------


def test_eu_business_with_a_valid_vat_number_is_reverse_charged():
    r = business(country="FR", tax_id="FR40303265045", seller_country="IE")
    assert (r.tax_amount, r.total, r.rate, r.rule) == (0, 10000, 0, "eu_reverse_charge")
    assert r.reverse_charge
    assert r.tax_name == "VAT"
    assert r.lines == ()
    assert r.evidence["tax_id"] == "FR40303265045"
    assert r.evidence["tax_id_valid"] is True
    assert r.evidence["reverse_charge"] is True


def test_eu_business_in_the_sellers_own_state_is_charged():
    r = business(country="IE", tax_id="IE6433435F", seller_country="IE")
    assert (r.tax_amount, r.rate, r.rule, r.reverse_charge) == (
        2300,
        Decimal("0.23"),
        "eu_same_country",
        False,
    )


def test_eu_business_with_an_invalid_vat_number_is_a_400_naming_tax_id():
    with pytest.raises(InvalidInput, match="taxId") as exc:
        business(country="DE", tax_id="DE136695978")
    assert exc.value.status == 400


def test_eu_vat_number_in_another_states_format_is_a_400():
    with pytest.raises(InvalidInput, match="taxId.*Germany"):
        business(country="DE", tax_id="FR40303265045")


def test_greek_gr_prefix_is_normalised_to_el():
    r = business(country="GR", tax_id="GR094259216")
    assert r.rule == "eu_reverse_charge"
    assert r.evidence["tax_id"] == "EL094259216"
    assert business(country="GR", tax_id="EL094259216").evidence["tax_id"] == "EL094259216"


def test_vat_number_without_prefix_gets_the_countrys_prefix():
    assert business(country="GR", tax_id="094259216").evidence["tax_id"] == "EL094259216"
    assert business(country="DE", tax_id="DE 136,695 976").evidence["tax_id"] == "DE136695976"


def test_eu_oss_numbers_are_not_buyer_vat_numbers():
    with pytest.raises(InvalidInput, match="taxId.*OSS"):
        business(country="DE", tax_id="EU372022452")


def test_xi_numbers_are_refused_for_eu_buyers_and_treated_as_uk():
    with pytest.raises(InvalidInput, match="taxId.*Northern Ireland"):
        business(country="IE", tax_id="XI980780684")
    r = business(country="GB", tax_id="XI980780684")
    assert (r.rule, r.tax_amount, r.reverse_charge) == ("reverse_charge", 0, True)
    assert r.evidence["tax_id"] == "GB980780684"


def test_eu_business_without_a_tax_id_is_a_400():
    with pytest.raises(InvalidInput, match="taxId is required"):
        business(country="DE")


def test_business_without_a_business_name_is_a_400():
    with pytest.raises(InvalidInput, match="businessName is required"):
        tax(country="DE", is_business=True, tax_id="DE136695976")
    with pytest.raises(InvalidInput, match="businessName is required"):
        tax(country="US", state="TX", is_business=True, business_name="  ")


def test_consumer_tax_id_is_ignored():
    r = tax(country="DE", tax_id="DE136695978")
    assert (r.rule, r.tax_amount) == ("eu_vat", 1900)


# --- Lookup rule 7: other countries --------------------------------------------------------


def test_gb_consumer_pays_20_percent_vat():
    r = tax(country="GB", currency="GBP")
    assert (r.tax_amount, r.rate, r.rule) == (2000, Decimal("0.2"), "national")


def test_gb_business_with_a_valid_vat_number_is_zero_rated():
    r = business(country="GB", tax_id="GB980780684")
    assert (r.tax_amount, r.rule, r.reverse_charge) == (0, "reverse_charge", True)


def test_gb_business_with_an_invalid_vat_number_is_a_400():
    with pytest.raises(InvalidInput, match="taxId"):
        business(country="GB", tax_id="GB802311781")


def test_non_eu_business_without_tax_id_is_charged_as_a_consumer():
    r = business(country="AU", currency="AUD")
    assert (r.tax_amount, r.rule) == (1000, "national")


def test_ch_charges_business_buyers_like_consumers():
    r = tax(country="CH", currency="CHF")
    assert (r.tax_amount, r.rate, r.rule) == (810, Decimal("0.081"), "national")
    b = business(country="CH", currency="CHF", tax_id="CHE-107.787.577 IVA")
    assert (b.tax_amount, b.rule, b.reverse_charge) == (810, "national", False)
    assert b.evidence["tax_id_valid"] is True


def test_jp_charges_10_percent_jct():
    r = tax(country="JP", currency="JPY", amount=4500)
    assert (r.tax_amount, r.tax_name, r.rule) == (450, "JCT", "national")


def test_au_gst_10_percent_and_abn_zero_rates():
    r = tax(country="AU", currency="AUD")
    assert (r.tax_amount, r.tax_name, r.rule) == (1000, "GST", "national")
    b = business(country="AU", currency="AUD", tax_id="83 914 571 673")
    assert (b.tax_amount, b.rule) == (0, "reverse_charge")
    with pytest.raises(InvalidInput, match="taxId"):
        business(country="AU", currency="AUD", tax_id="99999999999")


# --- Lookup rule 8: Canada -----------------------------------------------------------------


def test_ca_ontario_hst_13_percent_replaces_gst():
    r = tax(country="CA", state="ON", currency="CAD")
    assert (r.tax_amount, r.rate, r.tax_name, r.rule) == (1300, Decimal("0.13"), "HST", "ca_hst")
    assert r.lines == (("HST", Decimal("0.13"), 1300),)


def test_ca_quebec_gst_and_qst_are_two_lines_exclusive():
    r = tax(country="CA", state="QC", currency="CAD")
    assert r.rule == "ca_gst_pst"
    assert r.tax_name == "GST + QST"
    assert r.rate == Decimal("0.14975")
    assert r.lines == (("GST", Decimal("0.05"), 500), ("QST", Decimal("0.09975"), 998))
    assert (r.subtotal, r.tax_amount, r.total) == (10000, 1498, 11498)
    assert_adds_up(r)


def test_ca_quebec_inclusive_lines_sum_to_total_minus_subtotal():
    r = tax(country="CA", state="QC", currency="CAD", tax_included=True)
    # 10000 / 1.14975 = 8697.54 -> 8698; GST 434.9 -> 435; QST 867.6 -> 868, less the 1-cent
    # remainder -> 867 so that 435 + 867 = 10000 - 8698.
    assert (r.subtotal, r.tax_amount, r.total) == (8698, 1302, 10000)
    assert r.lines == (("GST", Decimal("0.05"), 435), ("QST", Decimal("0.09975"), 867))
    assert_adds_up(r)


@pytest.mark.parametrize("amount", [1, 99, 1000, 2999, 12345, 99999, 123457])
def test_ca_two_line_inclusive_always_adds_up(amount):
    for state in ("QC", "BC", "SK"):
        assert_adds_up(tax(country="CA", state=state, amount=amount, tax_included=True))


def test_ca_bc_pst_only_for_listed_categories():
    assert tax(country="CA", state="BC", tax_category="software").rule == "ca_gst_pst"
    r = tax(country="CA", state="BC", tax_category="ebook")
    assert (r.rule, r.tax_amount, r.tax_name) == ("ca_gst", 500, "GST")


def test_ca_alberta_is_gst_only():
    r = tax(country="CA", state="AB", currency="CAD")
    assert (r.tax_amount, r.rate, r.tax_name, r.rule) == (500, Decimal("0.05"), "GST", "ca_gst")


def test_ca_business_with_a_business_number_keeps_pst_only():
    r = business(country="CA", state="BC", tax_id="123456782")
    assert r.reverse_charge
    assert r.lines == (("PST", Decimal("0.07"), 700),)
    assert r.rule == "ca_gst_pst"
    hst = business(country="CA", state="ON", tax_id="123456782")
    assert (hst.rule, hst.tax_amount) == ("reverse_charge", 0)


# --- Lookup rule 9: United States ----------------------------------------------------------


def test_us_texas_taxes_saas_at_the_state_rate():
    r = tax(country="US", state="TX", currency="USD")
    assert (r.tax_amount, r.rate, r.tax_name, r.rule) == (
        625,
        Decimal("0.0625"),
        "Sales tax",
        "us_state",
    )


def test_us_texas_does_not_tax_an_unlisted_category():
    r = tax(country="US", state="TX", currency="USD", tax_category="consulting")
    assert (r.tax_amount, r.total, r.rule, r.lines) == (0, 10000, "not_taxed_category", ())


@pytest.mark.parametrize("country", ["US", "CA"])
@pytest.mark.parametrize("state", [None, "", "  "])
def test_us_and_ca_without_state_is_a_400(country, state):
    with pytest.raises(InvalidInput) as exc:
        tax(country=country, state=state)
    assert str(exc.value) == "State is required for US/CA"
    assert exc.value.status == 400
    assert exc.value.layer == "order"


def test_us_unknown_state_is_a_400_and_territories_are_0():
    with pytest.raises(InvalidInput, match="Invalid state"):
        tax(country="US", state="ZZ")
    assert tax(country="US", state="PR").rule == "no_rule"
    assert tax(country="US", state="us-tx").rule == "us_state"


# --- the evidence stored on the order ------------------------------------------------------


def test_evidence_records_place_tax_id_rule_rates_and_data_version():
    r = business(
        country="FR",
        tax_id="fr 40303265045",
        postcode=" 75001 ",
        ip_country="fr",
        seller_country="IE",
    )
    e = r.evidence
    assert e["country"] == "FR"
    assert e["postcode"] == "75001"
    assert e["ip_country"] == "FR"
    assert e["tax_id"] == "FR40303265045"
    assert e["tax_id_valid"] is True
    assert e["rule"] == "eu_reverse_charge"
    assert e["data_version"] == load().version
    assert e["rates"][0]["rate_percent"] == "20"
    assert e["rates"][0]["charged"] is False
    import json

    json.dumps(e)  # storable as JSON as it is


def test_money_is_never_a_float():
    r = tax(country="CA", state="QC", tax_included=True)
    for value in (r.subtotal, r.tax_amount, r.total):
        assert type(value) is int
    assert isinstance(r.rate, Decimal)
    with pytest.raises(InvalidInput):
        tax(country="DE", amount=100.0)


def test_state_outside_us_and_ca_is_kept_as_evidence():
    assert tax(country="AU", state="NSW", currency="AUD").evidence["state"] == "NSW"


def test_check_country_validates_and_blocks_for_other_entry_points():
    from checkout.tax import check_country

    assert check_country(" fr ") == "FR"
    with pytest.raises(Forbidden, match="^Purchases from Syria are not supported$"):
        check_country("SY")
    with pytest.raises(InvalidInput, match="Invalid billingDetail.country"):
        check_country("ZZ", field_name="billingDetail.country")
