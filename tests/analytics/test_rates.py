"""Exchange rates: the shipped snapshot, the daily refresh from a file:// source, conversions by
hand (minor units, half up, through the euro), a failing source keeps the old rates, and the
admin edits a rate."""

import logging
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from billing import rates, tasks
from billing.models import ExchangeRate
from pancake.money import exponent

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "eurofxref-test.xml"
URL = FIXTURE.as_uri()
NOW = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fixture_rates(settings):
    settings.EXCHANGE_RATES_URL = URL
    with time_machine.travel(NOW, tick=False):
        assert tasks.refresh_exchange_rates() == 4  # USD JPY GBP BHD; ZZZ and SEK -1 left out


def test_the_snapshot_is_loaded_so_a_first_run_converts_offline():
    usd = ExchangeRate.objects.get(currency="USD")
    assert usd.per_eur == Decimal("1.0979")
    assert usd.rate_date == date(2019, 10, 4)
    # 100.00 USD = 100 / 1.0979 * 117.23 JPY = 10677.657... -> 10678 JPY
    assert rates.convert(10000, "USD", "JPY") == 10678


def test_refresh_replaces_the_snapshot_and_skips_junk(fixture_rates):
    assert ExchangeRate.objects.get(currency="USD").per_eur == Decimal("1.25")
    assert ExchangeRate.objects.get(currency="USD").rate_date == date(2026, 12, 4)
    assert not ExchangeRate.objects.filter(currency="ZZZ").exists()
    # SEK's fixture rate is negative: the snapshot's stays.
    assert ExchangeRate.objects.get(currency="SEK").rate_date == date(2019, 10, 4)


@pytest.mark.parametrize(
    ("amount", "source", "target", "expected"),
    [
        (1000, "USD", "EUR", 800),  # 10.00 / 1.25 = 8.00
        (100, "USD", "JPY", 120),  # 1.00 USD = 0.80 EUR = 120 JPY (exponent 2 -> 0)
        (2, "EUR", "USD", 3),  # 0.02 * 1.25 = 0.025 -> 3 cents: half up, not half even
        (6, "EUR", "USD", 8),  # 0.075 -> 8 cents
        (1000, "JPY", "BHD", 3333),  # 1000/150*0.5 = 3.3333 BHD = 3333.3 fils (exponent 3)
        (3333, "BHD", "GBP", 533),  # 3.333/0.5*0.8 = 5.3328 GBP -> 533 pence
        (12345, "GBP", "GBP", 12345),
        (0, "USD", "JPY", 0),
    ],
)
def test_convert_by_hand(fixture_rates, amount, source, target, expected):
    assert rates.convert(amount, source, target) == expected
    assert rates.convert(amount, source, target, rates=rates.table()) == expected


def test_a_missing_rate_is_none(fixture_rates):
    ExchangeRate.objects.filter(currency="CHF").delete()
    assert rates.convert(100, "USD", "CHF") is None
    assert rates.convert(100, "CHF", "EUR") is None
    assert rates.rate("CHF", "USD") is None


def test_rate_quote(fixture_rates):
    quote = rates.rate("USD", "JPY")
    assert quote.rate == Decimal(120)
    assert (quote.from_currency, quote.to_currency) == ("USD", "JPY")
    assert quote.ref_id == "EUR-2026-12-04:USD/JPY"
    assert quote.expires_at == NOW + timedelta(hours=48)
    assert rates.rate("EUR", "GBP").rate == Decimal("0.8")
    assert rates.rate("GBP", "EUR").rate == Decimal("1.25")


@pytest.mark.parametrize("url", ["missing.xml", "not-xml"])
def test_a_failing_source_keeps_the_old_rates_and_logs(fixture_rates, tmp_path, caplog, url):
    path = tmp_path / url
    if url == "not-xml":
        path.write_text("<html>maintenance</html>")
    with caplog.at_level(logging.WARNING, logger="billing.rates"):
        assert rates.refresh(path.as_uri()) == 0
    assert "exchange rates not refreshed" in caplog.text
    assert ExchangeRate.objects.get(currency="USD").per_eur == Decimal("1.25")


def test_an_older_document_does_not_replace_newer_rates(fixture_rates, tmp_path):
    older = tmp_path / "older.xml"
    older.write_text(
        "<Envelope><Cube><Cube time='2026-12-01'><Cube currency='USD' rate='9'/>"
        "</Cube></Cube></Envelope>"
    )
    assert rates.refresh(older.as_uri()) == 0
    assert ExchangeRate.objects.get(currency="USD").per_eur == Decimal("1.25")


def test_only_web_and_file_urls_are_fetched():
    with pytest.raises(rates.RatesUnavailable):
        rates.fetch("ftp://example.com/rates.xml")


def test_the_daily_task_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-exchange-rates"]
    assert entry["task"] == "billing.tasks.refresh_exchange_rates"
    assert entry["schedule"] == 86400.0


def test_staff_edit_a_rate_in_the_admin(admin_client, fixture_rates):
    row = ExchangeRate.objects.get(currency="JPY")
    url = f"/admin/billing/exchangerate/{row.pk}/change/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {"currency": "JPY", "per_eur": "160", "rate_date": "2026-12-04", "source": "support"},
    )
    assert response.status_code == 302
    assert rates.convert(125, "USD", "JPY") == 160  # 1.25 USD = 1 EUR = 160 JPY


def test_a_document_with_entities_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Cube time="2026-12-04">&a;</Cube>'
    )
    with pytest.raises(rates.RatesUnavailable):
        rates.parse_ecb(bomb)


@given(
    amount=st.integers(min_value=-(10**13), max_value=10**13),
    rate=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(100000), places=12),
    pair=st.sampled_from([("JPY", "USD"), ("USD", "JPY"), ("USD", "BHD"), ("EUR", "USD")]),
)
def test_apply_is_the_exact_product_rounded_half_away_from_zero(amount, rate, pair):
    """``apply`` against exact rational arithmetic: amount × rate × 10^(exponent difference),
    rounded half away from zero (12-digit rates and 13-digit amounts stay within the
    precision, so nothing is rounded before the end)."""
    source, target = pair
    quote = rates.RateQuote(source, target, rate, "test", datetime.now(UTC))
    exact = (
        Fraction(amount) * Fraction(rate) * Fraction(10) ** (exponent(target) - exponent(source))
    )
    whole = math.floor(abs(exact) + Fraction(1, 2))
    assert rates.apply(amount, quote) == (whole if exact >= 0 else -whole)
