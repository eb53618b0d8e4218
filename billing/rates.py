"""Exchange rates for showing a merchant's figures in one currency (docs/analytics.md).

Rows of ``ExchangeRate`` hold how many units of a currency one euro buys, from the daily euro
reference rates (the ECB's XML by default, ``EXCHANGE_RATES_URL``; a ``file://`` URL works too).
Any pair converts through the euro. A daily task refreshes the rows; a failed fetch keeps the old
rates and logs. A snapshot shipped in ``billing/rates_data`` is loaded by a migration so that a
first run converts offline.

- ``convert(amount_minor, from_currency, to_currency)``: minor units to minor units (exponents
  from ``pancake.money``), rounded half up, ``None`` when a rate is missing.
- ``rate(from_currency, to_currency)``: a ``RateQuote`` (the rate, a reference naming the rates'
  dates, and when the quote stops being current), ``None`` when a rate is missing.
"""

from __future__ import annotations

import logging
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import ExchangeRate
from pancake.money import exponent, is_currency

logger = logging.getLogger(__name__)

BASE = "EUR"
SNAPSHOT = Path(__file__).resolve().parent / "rates_data" / "eurofxref-snapshot.xml"
FETCH_TIMEOUT = 20  # seconds
# Enough digits for any amount a bigint holds times any rate, without rounding before the end.
_PRECISION = 50
_CONTEXT = Context(prec=_PRECISION)


class RatesUnavailable(Exception):
    """The source did not answer or answered something that is not a list of rates."""


@dataclass(frozen=True)
class RateQuote:
    from_currency: str
    to_currency: str
    rate: Decimal  # units of to_currency (major) per unit of from_currency (major)
    ref_id: str  # e.g. "EUR-2026-12-04:USD/JPY": which day's rates the quote comes from
    expires_at: datetime


def parse_ecb(document: bytes | str) -> tuple[date, dict[str, Decimal]]:
    """The day and the rates (units per euro) of an ECB ``eurofxref`` document. Entries that are
    not an ISO 4217 currency or not a positive number are left out; a document without any rate
    raises ``RatesUnavailable``."""
    raw = document.encode() if isinstance(document, str) else document
    # The rates document never declares entities: refusing any DTD rules out entity expansion
    # attacks (the parser resolves no external entity anyway).
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise RatesUnavailable("a document type declaration is not accepted")
    try:
        root = ET.fromstring(raw)  # noqa: S314 (no DTD, checked above)
    except ET.ParseError as exc:
        raise RatesUnavailable(f"not XML: {exc}") from exc
    day: date | None = None
    rates: dict[str, Decimal] = {}
    for element in root.iter():
        if not element.tag.endswith("Cube"):
            continue
        if "time" in element.attrib:
            try:
                day = date.fromisoformat(element.attrib["time"])
            except ValueError as exc:
                raise RatesUnavailable(f"bad date {element.attrib['time']!r}") from exc
        currency, value = element.attrib.get("currency"), element.attrib.get("rate")
        if currency is None or value is None or not is_currency(currency) or currency == BASE:
            continue
        try:
            number = Decimal(value)
        except InvalidOperation:
            continue
        if number.is_finite() and number > 0:
            rates[currency] = number
    if day is None or not rates:
        raise RatesUnavailable("no dated rates in the document")
    return day, rates


def fetch(url: str) -> bytes:
    if not url.startswith(("https://", "http://", "file://")):
        raise RatesUnavailable(f"unsupported URL {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            return response.read()
    except (OSError, ValueError) as exc:
        raise RatesUnavailable(str(exc)) from exc


def store(day: date, rates: dict[str, Decimal], source: str) -> int:
    """Write the rates of ``day`` (upsert by currency); rates already of a later day are kept."""
    written = 0
    with transaction.atomic():
        existing = {r.currency: r for r in ExchangeRate.objects.select_for_update()}
        for currency, per_eur in rates.items():
            row = existing.get(currency)
            if row is None:
                ExchangeRate.objects.create(
                    currency=currency, per_eur=per_eur, rate_date=day, source=source
                )
            elif row.rate_date <= day:
                row.per_eur, row.rate_date, row.source = per_eur, day, source
                row.save(update_fields=["per_eur", "rate_date", "source", "updated_at"])
            else:
                continue
            written += 1
    return written


def refresh(url: str | None = None) -> int:
    """Fetch the configured source and store its rates: the number of rates written, 0 when the
    source failed (the old rates stay; the failure is logged)."""
    url = url or settings.EXCHANGE_RATES_URL
    try:
        day, rates = parse_ecb(fetch(url))
    except RatesUnavailable as exc:
        logger.warning("exchange rates not refreshed from %s: %s", url, exc)
        return 0
    return store(day, rates, url)


def _row(currency: str, table: dict[str, ExchangeRate] | None) -> ExchangeRate | None:
    if table is not None:
        return table.get(currency)
    return ExchangeRate.objects.filter(currency=currency).first()


def table() -> dict[str, ExchangeRate]:
    """Every rate, by currency: one statement, for code that converts many amounts."""
    return {r.currency: r for r in ExchangeRate.objects.all()}


def rate(
    from_currency: str, to_currency: str, *, rates: dict[str, ExchangeRate] | None = None
) -> RateQuote | None:
    """Units of ``to_currency`` per unit of ``from_currency`` (both major units), through the
    euro; ``None`` when either currency has no rate. ``rates`` (from ``table()``) saves the
    statements when many quotes are needed."""
    now = timezone.now()
    if from_currency == to_currency:
        return RateQuote(
            from_currency, to_currency, Decimal(1), f"{from_currency}/{to_currency}", now
        )
    legs, dates, stamps = [], [], []
    for currency in (from_currency, to_currency):
        if currency == BASE:
            legs.append(Decimal(1))
            continue
        row = _row(currency, rates)
        if row is None:
            return None
        legs.append(row.per_eur)
        dates.append(row.rate_date)
        stamps.append(row.updated_at)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        value = legs[1] / legs[0]
    day = min(dates)
    expires = min(stamps) + settings.EXCHANGE_RATES_MAX_AGE
    return RateQuote(
        from_currency,
        to_currency,
        value,
        f"{BASE}-{day.isoformat()}:{from_currency}/{to_currency}",
        expires,
    )


def convert(
    amount_minor: int,
    from_currency: str,
    to_currency: str,
    *,
    rates: dict[str, ExchangeRate] | None = None,
) -> int | None:
    """``amount_minor`` of ``from_currency`` in minor units of ``to_currency``, rounded half up
    (half away from zero for a negative amount); ``None`` when a rate is missing."""
    if from_currency == to_currency:
        return amount_minor
    quote = rate(from_currency, to_currency, rates=rates)
    return None if quote is None else apply(amount_minor, quote)


def apply(amount_minor: int, quote: RateQuote) -> int:
    """``amount_minor`` of the quote's currency in minor units of its target, rounded half up
    (half away from zero for a negative amount): ``convert`` with a quote already read, for code
    that converts many amounts between the same currencies."""
    # The rate per minor unit: scaling by a power of ten is exact, so this is the same product
    # as amount × rate × 10^(exponent difference).
    per_minor = quote.rate.scaleb(exponent(quote.to_currency) - exponent(quote.from_currency))
    value = _CONTEXT.multiply(Decimal(amount_minor), per_minor)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=_CONTEXT))
