"""Checks for catalog input. Every failure is a 400, layer ``product``, whose message names the
field and whose ``field`` is that API field, dotted for nested input (``prices.USD.amount``,
``metadata.trialDays``, ``media[0].alt``); ``code`` tells missing (``required``), too long or too
many (``too_long``, ``too_many``) and control characters apart from the rest (``invalid``).

Amounts come in as a JSON number (minor units) or a display string ("29.00") and leave as
integers in minor units.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from pancake import money, text
from pancake.api.errors import InvalidInput
from products.models import BillingPeriod, ProductKind, TaxCategory

NAME_MAX = 64
DESCRIPTION_MAX = 20_000
MEDIA_MAX = 20
METADATA_MAX_BYTES = 16_384
PRICES_MAX = 50
AMOUNT_MAX = 10**12  # minor units; far above any real price, far below a BIGINT
TRIAL_DAYS_MAX = 730
_url = URLValidator(schemes=["http", "https"])


def bad(message: str, field: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, layer="product", field=field, code=code)


def missing(field: str) -> InvalidInput:
    return bad(f"Missing required field: {field}", field, "required")


def check_name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise missing("name")
    value = value.strip()
    if len(value) > NAME_MAX:
        raise bad(f"name must not exceed {NAME_MAX} characters", "name", "too_long")
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise bad("Invalid name: NUL characters are not allowed", "name")
    return text.check_no_control(value, layer="product")


def check_description(value) -> str | None:
    if value is None or value == "":
        return None  # an empty description is no description: not a new version
    if not isinstance(value, str):
        raise bad("Invalid description: expected a Markdown string or null", "description")
    if len(value) > DESCRIPTION_MAX:
        raise bad(
            f"description must not exceed {DESCRIPTION_MAX} characters", "description", "too_long"
        )
    if "\x00" in value:
        raise bad("Invalid description: NUL characters are not allowed", "description")
    return value


def check_url(value, field: str, *, nullable: bool = True) -> str | None:
    if value is None or value == "":
        if nullable:
            return None
        raise missing(field)
    if not isinstance(value, str) or len(value) > 2000 or "\x00" in value:
        raise bad(f"Invalid {field}: expected an http(s) URL", field)
    try:
        _url(value)
    except ValidationError:
        raise bad(f"Invalid {field}: expected an http(s) URL", field) from None
    return value


def check_metadata(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad("Invalid metadata: expected a JSON object", "metadata")
    encoded = json.dumps(value, ensure_ascii=False)
    if len(encoded.encode()) > METADATA_MAX_BYTES:
        raise bad(f"Invalid metadata: at most {METADATA_MAX_BYTES} bytes", "metadata", "too_long")
    if "\\u0000" in encoded:
        raise bad("Invalid metadata: NUL characters are not allowed", "metadata")
    if "trialDays" in value:
        days = value["trialDays"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= TRIAL_DAYS_MAX:
            raise bad(
                "Invalid metadata.trialDays: expected a whole number of days "
                f"from 1 to {TRIAL_DAYS_MAX}",
                "metadata.trialDays",
            )
    return value


def check_media(value) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad("Invalid media: expected a list of {type, url, alt, thumbnail}", "media")
    if len(value) > MEDIA_MAX:
        raise bad(f"Invalid media: at most {MEDIA_MAX} items", "media", "too_many")
    items = []
    for index, item in enumerate(value):
        field = f"media[{index}]"
        if not isinstance(item, dict):
            raise bad(f"Invalid {field}: expected an object", field)
        kind = item.get("type")
        if kind not in ("image", "video"):
            raise bad(f"Invalid {field}.type: expected image or video", f"{field}.type")
        clean = {"type": kind, "url": check_url(item.get("url"), f"{field}.url", nullable=False)}
        alt = item.get("alt")
        if alt is not None:
            if not isinstance(alt, str) or len(alt) > 300 or "\x00" in alt:
                raise bad(
                    f"Invalid {field}.alt: expected text of at most 300 characters", f"{field}.alt"
                )
            clean["alt"] = alt
        if item.get("thumbnail") is not None:
            clean["thumbnail"] = check_url(item["thumbnail"], f"{field}.thumbnail")
        items.append(clean)
    return items


def check_billing_period(value) -> str:
    if value not in BillingPeriod.values:
        raise bad(
            "Invalid billingPeriod: expected weekly, monthly, quarterly or yearly", "billingPeriod"
        )
    return value


def _amount(value, currency: str, field: str) -> int:
    try:
        minor = money.to_minor(value, currency, field=field)
    except InvalidInput as exc:
        raise bad(str(exc), field) from None
    if minor > AMOUNT_MAX:
        raise bad(f"Invalid {field}: amount is too large", field)
    return minor


def check_prices(value, *, kind: str, metadata: dict) -> dict:
    """``{"USD": {"amount": "29.00", "taxCategory": "saas", "taxIncluded": false}}`` → minor units.

    ``trialAmount`` (subscriptions only) makes the trial paid: it needs ``metadata.trialDays``
    and must be below ``amount``."""
    if not isinstance(value, dict) or not value:
        raise bad("Invalid prices: expected an object with at least one currency", "prices")
    if len(value) > PRICES_MAX:
        raise bad(f"Invalid prices: at most {PRICES_MAX} currencies", "prices", "too_many")
    prices = {}
    for currency, info in value.items():
        field = f"prices.{currency}"
        if not money.is_currency(currency):
            # The entry is named by its key: the code says the key itself is wrong.
            raise bad(
                f"Invalid prices: {currency!r} is not an ISO 4217 currency code",
                field,
                "unknown_currency",
            )
        if not isinstance(info, dict):
            raise bad(f"Invalid {field}: expected an object with amount and taxCategory", field)
        if info.get("amount") is None:
            raise missing(f"{field}.amount")
        amount = _amount(info["amount"], currency, f"{field}.amount")
        category = info.get("taxCategory")
        if category is None:
            raise missing(f"{field}.taxCategory")
        if category not in TaxCategory.values:
            raise bad(
                f"Invalid {field}.taxCategory: expected one of {', '.join(TaxCategory.values)}",
                f"{field}.taxCategory",
            )
        included = info.get("taxIncluded", False)
        if included is None:
            included = False
        if not isinstance(included, bool):
            raise bad(
                f"Invalid {field}.taxIncluded: expected true or false", f"{field}.taxIncluded"
            )
        price = {"amount": amount, "taxCategory": category, "taxIncluded": included}
        trial = info.get("trialAmount")
        if trial is not None:
            if kind != ProductKind.SUBSCRIPTION:
                raise bad(
                    f"Invalid {field}.trialAmount: only subscription products have trials",
                    f"{field}.trialAmount",
                )
            if "trialDays" not in (metadata or {}):
                raise bad(
                    f"Invalid {field}.trialAmount: a paid trial needs metadata.trialDays",
                    f"{field}.trialAmount",
                )
            trial_minor = _amount(trial, currency, f"{field}.trialAmount")
            if trial_minor >= amount:
                raise bad(
                    f"Invalid {field}.trialAmount: must be lower than amount",
                    f"{field}.trialAmount",
                )
            price["trialAmount"] = trial_minor
        prices[currency] = price
    return prices
