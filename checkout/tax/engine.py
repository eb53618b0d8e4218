"""Tax for one price and one buyer, by the lookup rules of docs/money-and-tax.md.

``calculate`` is a pure function over the versioned data file: it reads no database, no
settings and no clock except today's date when ``on`` is not given. Amounts are integers in the
currency's minor unit; rates are ``Decimal`` fractions; every rounding is half up to a whole
minor unit (so to the currency's exponent: JPY 0, USD 2, BHD 3). No floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from babel import Locale
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from checkout.tax import data as tax_data
from checkout.tax.data import Row, TaxData
from pancake.api.errors import Forbidden, InvalidInput
from pancake.money import check_currency

LAYER = "order"
# Babel's territories include regions and pseudo-codes that are not ISO 3166-1 countries.
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)
_TERRITORIES = Locale("en").territories
COUNTRIES = frozenset(
    c for c in _TERRITORIES if len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES
)
# ISO 3166-2 subdivisions of the US that have no state row (territories): 0%, not an error.
_US_TERRITORIES = frozenset({"AS", "GU", "MP", "PR", "UM", "VI"})

RULES = (
    "eu_vat",  # EU consumer: VAT of the buyer's member state
    "eu_reverse_charge",  # EU business, valid VAT number of another member state than the seller's
    "eu_same_country",  # EU business in the seller's own member state: charged
    "national",  # a non-EU country's national row
    "reverse_charge",  # non-EU reverse_charge country, business buyer with a tax ID: 0%
    "ca_gst",  # Canada, GST only (AB, NT, NU, YT, or a provincial tax not covering the category)
    "ca_hst",  # Canada, HST instead of GST (ON, NB, NL, NS, PE)
    "ca_gst_pst",  # Canada, GST plus a second line (QST, PST or RST)
    "us_state",  # US state row that lists the category
    "not_taxed_category",  # rows exist for the place, none taxes this category: 0%
    "no_rule",  # no row in force for the country (or US state/territory): 0%
)


@dataclass(frozen=True)
class TaxResult:
    subtotal: int
    tax_amount: int
    total: int
    rate: Decimal  # fraction, the sum of the lines' rates: Decimal("0.19"), Decimal("0.14975")
    tax_name: str  # "VAT", "GST + QST", "" when no tax applies
    lines: tuple[tuple[str, Decimal, int], ...]  # (name, rate, amount), amounts sum to tax_amount
    rule: str
    reverse_charge: bool
    evidence: dict = field(hash=False, compare=False)

    @property
    def tax_rate(self) -> str:
        """The API's taxRate: the fraction as a string ('0.19', '0.255')."""
        return format(self.rate.normalize(), "f")


def country_name(code: str, locale: str = "en") -> str:
    try:
        names = Locale.parse(locale).territories
    except (ValueError, LookupError):
        names = _TERRITORIES
    return names.get(code) or _TERRITORIES.get(code) or code


def _bad(message: str, field: str | None = None, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, layer=LAYER, field=field, code=code)


def _country(value: object, field_name: str = "country") -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in COUNTRIES:
        raise _bad(
            f"Invalid {field_name}: {value!r} is not an ISO 3166-1 alpha-2 country code",
            field_name,
        )
    return code


def _blocked(code: str, data: TaxData, field_name: str = "country") -> None:
    if code in data.blocked_countries:
        raise Forbidden(
            f"Purchases from {country_name(code)} are not supported",
            layer=LAYER,
            field=field_name,
            code="sanctioned",
        )


def check_country(country: object, *, field_name: str = "country") -> str:
    """The buyer's country, upper-cased: 400 unless ISO 3166-1 alpha-2, 403 (code
    ``sanctioned``) when sanctions block it, everywhere a buyer's country enters."""
    code = _country(country, field_name)
    _blocked(code, data=tax_data.load(), field_name=field_name)
    return code


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _split(
    amount: int, tax_included: bool, rated: list[tuple[str, Decimal]]
) -> tuple[int, int, int, tuple[tuple[str, Decimal, int], ...]]:
    """(subtotal, tax, total, lines) for the rated lines (README rule 10)."""
    with localcontext() as ctx:
        ctx.prec = 60  # exact for any amount the API takes
        if not rated:
            return amount, 0, amount, ()
        if not tax_included:
            amounts = [_round(Decimal(amount) * rate) for _, rate in rated]
            tax = sum(amounts)
            return (
                amount,
                tax,
                amount + tax,
                tuple((name, rate, a) for (name, rate), a in zip(rated, amounts, strict=True)),
            )
        total_rate = sum((rate for _, rate in rated), Decimal(0))
        subtotal = _round(Decimal(amount) / (1 + total_rate))
        tax = amount - subtotal
        amounts = [_round(Decimal(subtotal) * rate) for _, rate in rated]
        amounts[-1] += tax - sum(amounts)  # the remainder goes on the last line
        return (
            subtotal,
            tax,
            amount,
            tuple((name, rate, a) for (name, rate), a in zip(rated, amounts, strict=True)),
        )


def _compact(tax_id: str) -> str:
    return "".join(ch for ch in tax_id.upper() if ch.isalnum())


def _eu_vat_number(tax_id: str, country: str, data: TaxData) -> str:
    """The buyer's EU VAT number, normalised (``GR…`` -> ``EL…``), or a 400 naming taxId."""
    name = country_name(country)
    number = _compact(tax_id)
    prefix = data.vat_prefix(country)
    if number[:1].isdigit():  # written without its prefix
        number = prefix + number
    if number.startswith("EU"):
        raise _bad(
            "Invalid taxId: EU… numbers identify non-Union OSS sellers, not buyers; "
            f"enter the buyer's VAT number from {name}",
            "taxId",
        )
    if number.startswith("XI"):
        raise _bad(
            "Invalid taxId: XI (Northern Ireland) numbers cover goods only; "
            "for digital services choose the United Kingdom as the country",
            "taxId",
        )
    if number.startswith("GR"):
        number = "EL" + number[2:]
    if not number.startswith(prefix):
        raise _bad(f"Invalid taxId: {tax_id!r} is not a VAT number from {name}", "taxId")
    try:
        return eu_vat.validate(number)
    except ValidationError:
        raise _bad(
            f"Invalid taxId: {tax_id!r} is not a valid VAT number for {name}", "taxId"
        ) from None


def _national_tax_id(tax_id: str, country: str) -> tuple[str, bool | None]:
    """(normalised number, valid) for a non-EU country; valid is None when stdnum has no
    module for it. ``XI…`` numbers are UK numbers for digital services."""
    number = _compact(tax_id)
    if country == "GB" and number.startswith("XI"):
        number = "GB" + number[2:]
    module = get_cc_module(country.lower(), "vat")
    if module is None:
        return number, None
    try:
        number = module.compact(module.validate(number))
    except ValidationError:
        return number, False
    if country == "GB" and number[:1].isdigit():  # stdnum drops the prefix invoices show
        number = "GB" + number
    return number, True


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class _Buyer:
    """Who is taxed, checked: country (and region for US/CA), business status and number."""

    country: str
    region: str
    state: str | None
    postcode: str | None
    is_business: bool
    tax_id: str | None
    business_name: str | None
    ip_country: str | None
    seller_country: str | None


@dataclass(frozen=True)
class _Match:
    """Which rule applied: the rows in force for the place, those charged, reverse charge."""

    rule: str
    rows: tuple[Row, ...] = ()
    charged: tuple[Row, ...] = ()
    reverse_charge: bool = False


def calculate(
    *,
    amount: int,
    currency: str,
    tax_included: bool,
    tax_category: str,
    country: str,
    state: str | None = None,
    postcode: str | None = None,
    is_business: bool = False,
    tax_id: str | None = None,
    business_name: str | None = None,
    seller_country: str | None = None,
    ip_country: str | None = None,
    on: date | None = None,
) -> TaxResult:
    """Tax one price for one buyer. Raises Forbidden (403, code ``sanctioned``) for blocked
    countries and InvalidInput (400) for bad input, both with layer "order" and the billing
    detail's key as ``field`` (``country``, ``state``, ``taxId``, ``businessName``).

    ``seller_country`` is the seller's EU state of establishment: an EU business buyer from that
    state is charged its VAT. None means the seller is established outside the EU (every valid
    EU VAT number is reverse-charged).
    """
    data = tax_data.load()
    on = on or _today()
    _check_price(amount, currency, tax_category, data)
    buyer = _buyer(
        data,
        country=country,
        state=state,
        postcode=postcode,
        is_business=is_business,
        tax_id=tax_id,
        business_name=business_name,
        ip_country=ip_country,
        seller_country=seller_country,
    )
    evidence = _evidence(data, on, buyer, tax_category)
    match = _lookup(data, buyer, tax_category, on, evidence)
    return _result(amount, tax_included, match, evidence)


def _check_price(amount: int, currency: str, tax_category: str, data: TaxData) -> None:
    check_currency(currency)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise _bad("Invalid amount: expected a whole, non-negative number of minor units", "amount")
    if tax_category not in data.categories:
        raise _bad(f"Invalid taxCategory: {tax_category!r}", "taxCategory")


def _buyer(
    data: TaxData,
    *,
    country,
    state,
    postcode,
    is_business,
    tax_id,
    business_name,
    ip_country,
    seller_country,
) -> _Buyer:
    """The buyer's place and business status, checked: sanctions apply to the billing country
    and to the country of the buyer's IP address; US and CA need a known state or province;
    business buyers need a name, and in the EU a VAT number."""
    code = _country(country)
    _blocked(code, data)
    ip_code = (ip_country or "").strip().upper() or None
    if ip_code in COUNTRIES:
        _blocked(ip_code, data, "ipCountry")
    else:
        ip_code = None
    seller = _country(seller_country, "seller country") if seller_country else None
    region = _region(data, code, state)
    tax_id = (tax_id or "").strip() or None
    business_name = (business_name or "").strip() or None
    if is_business:
        if not business_name:
            raise _bad(
                "businessName is required for business purchases", "businessName", "required"
            )
        if code in data.eu_member_states and not tax_id:
            raise _bad(
                f"taxId is required for business buyers in the EU ({country_name(code)}): "
                "enter the company's VAT number",
                "taxId",
                "required",
            )
    return _Buyer(
        country=code,
        region=region,
        state=(state or "").strip() or None,
        postcode=(postcode or "").strip() or None,
        is_business=bool(is_business),
        tax_id=tax_id,
        business_name=business_name,
        ip_country=ip_code,
        seller_country=seller,
    )


def _region(data: TaxData, code: str, state: str | None) -> str:
    """The state or province code of a US or CA buyer (``US-TX`` or ``TX``); "" elsewhere."""
    if code not in ("US", "CA"):
        return ""
    region = (state or "").strip().upper()
    if region.startswith(f"{code}-"):
        region = region[3:]
    if not region:
        raise _bad("State is required for US/CA", "state", "required")
    known = data.has_region(code, region) or (code == "US" and region in _US_TERRITORIES)
    if not known:
        kind = "state" if code == "US" else "province or territory"
        raise _bad(f"Invalid state: {state!r} is not a {kind} of {country_name(code)}", "state")
    return region


def _evidence(data: TaxData, on: date, buyer: _Buyer, tax_category: str) -> dict:
    """What the tax was decided on, kept with the order (the rule and rates are added last)."""
    return {
        "data_version": data.version,
        "on": on.isoformat(),
        "country": buyer.country,
        "state": buyer.region or buyer.state,
        "postcode": buyer.postcode,
        "ip_country": buyer.ip_country,
        "is_business": buyer.is_business,
        "business_name": buyer.business_name if buyer.is_business else None,
        "tax_id": buyer.tax_id,
        "tax_id_valid": None,
        "seller_country": buyer.seller_country,
        "tax_category": tax_category,
    }


def _lookup(data: TaxData, buyer: _Buyer, category: str, on: date, evidence: dict) -> _Match:
    """The rule of the buyer's place (README rules 5 to 9)."""
    if not data.has_country(buyer.country):
        return _Match("no_rule")
    if buyer.country in data.eu_member_states:
        return _eu(data, buyer, category, on, evidence)
    if buyer.country == "CA":
        return _canada(data, buyer, category, on, evidence)
    if buyer.country == "US":
        return _united_states(data, buyer, category, on)
    return _national(data, buyer, category, on, evidence)


def _eu(data: TaxData, buyer: _Buyer, category: str, on: date, evidence: dict) -> _Match:
    """VAT of the buyer's member state; a business buyer with a valid VAT number of another
    state than the seller's is reverse-charged (README rules 5 and 6)."""
    code = buyer.country
    row = data.row_for(code, "", category, on)
    if row is None:
        return _Match("no_rule")
    if not row.covers(category):
        return _Match("not_taxed_category", (row,))
    if buyer.is_business and buyer.tax_id:
        evidence["tax_id"] = _eu_vat_number(buyer.tax_id, code, data)
        evidence["tax_id_valid"] = True
        if buyer.seller_country == code:
            return _Match("eu_same_country", (row,), (row,))
        if row.b2b_rule == "reverse_charge":
            return _Match("eu_reverse_charge", (row,), (), reverse_charge=True)
    return _Match("eu_vat", (row,), (row,))


def _canada(data: TaxData, buyer: _Buyer, category: str, on: date, evidence: dict) -> _Match:
    """GST, or HST instead of it, or GST plus the province's QST/PST/RST (README rule 8)."""
    code = buyer.country
    national = data.row_for(code, "", category, on)
    provincial = data.row_for(code, buyer.region, category, on)
    rows = [r for r in (national, provincial) if r is not None]
    if not rows:
        return _Match("no_rule")
    applying = [r for r in rows if r.covers(category)]
    replaces = data.replaces_national.get(code, frozenset())
    if provincial is not None and provincial in applying and provincial.tax_name in replaces:
        applying = [provincial]
        rule = "ca_hst"
    elif len(applying) == 2:
        rule = "ca_gst_pst"
    elif national in applying:
        rule = "ca_gst"
    else:
        return _Match("not_taxed_category", tuple(rows))
    charged, reverse = _business_lines(applying, code, buyer.tax_id, buyer.is_business, evidence)
    if reverse and not charged:
        rule = "reverse_charge"
    return _Match(rule, tuple(rows), tuple(charged), reverse)


def _united_states(data: TaxData, buyer: _Buyer, category: str, on: date) -> _Match:
    """The state's base rate, where the state taxes the category (README rule 9)."""
    row = data.row_for(buyer.country, buyer.region, category, on)
    if row is None:
        return _Match("no_rule")
    if not row.covers(category):
        return _Match("not_taxed_category", (row,))
    return _Match("us_state", (row,), (row,))


def _national(data: TaxData, buyer: _Buyer, category: str, on: date, evidence: dict) -> _Match:
    """Any other country's national row; business buyers of reverse-charge countries with a
    valid tax number pay none (README rule 7)."""
    code = buyer.country
    row = data.row_for(code, "", category, on)
    if row is None:
        return _Match("no_rule")
    if not row.covers(category):
        return _Match("not_taxed_category", (row,))
    charged, reverse = _business_lines([row], code, buyer.tax_id, buyer.is_business, evidence)
    return _Match("reverse_charge" if reverse else "national", (row,), tuple(charged), reverse)


def _result(amount: int, tax_included: bool, match: _Match, evidence: dict) -> TaxResult:
    """The amounts of the charged rows (README rule 10), and the evidence completed."""
    rated = [(r.tax_name, r.rate) for r in match.charged]
    subtotal, tax, total, lines = _split(amount, tax_included, rated)
    rate = sum((rate for _, rate in rated), Decimal(0))
    named = match.charged or (match.rows if match.reverse_charge else ())
    evidence["rule"] = match.rule
    evidence["reverse_charge"] = match.reverse_charge
    evidence["rates"] = [
        {
            "country": r.country,
            "region": r.region or None,
            "tax_name": r.tax_name,
            "rate_percent": r.rate_percent,
            "applies_to": r.applies_to if isinstance(r.applies_to, str) else list(r.applies_to),
            "effective_from": r.effective_from.isoformat(),
            "charged": r in match.charged,
        }
        for r in match.rows
    ]
    evidence["rate"] = format(rate.normalize(), "f")
    return TaxResult(
        subtotal=subtotal,
        tax_amount=tax,
        total=total,
        rate=rate,
        tax_name=" + ".join(r.tax_name for r in named if r.tax_name != "none"),
        lines=lines,
        rule=match.rule,
        reverse_charge=match.reverse_charge,
        evidence=evidence,
    )


def _business_lines(
    rows: list[Row], country: str, tax_id: str | None, is_business: bool, evidence: dict
) -> tuple[list[Row], bool]:
    """The rows still charged and whether any was reverse-charged (README rule 7).

    A business buyer with a tax ID is not charged the ``reverse_charge`` rows; the ID is
    validated with python-stdnum where a module exists for the country (invalid -> 400).
    ``charge`` rows tax business buyers as consumers (the ID is still checked for the evidence).
    """
    if not (is_business and tax_id):
        return rows, False
    number, valid = _national_tax_id(tax_id, country)
    evidence["tax_id"] = number
    evidence["tax_id_valid"] = valid
    reversible = [r for r in rows if r.b2b_rule == "reverse_charge"]
    if not reversible:
        return rows, False
    if valid is False:
        raise _bad(
            f"Invalid taxId: {tax_id!r} is not a valid tax number for {country_name(country)}",
            "taxId",
        )
    return [r for r in rows if r.b2b_rule != "reverse_charge"], True
