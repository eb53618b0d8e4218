"""Bad catalog input and the exact refusal each gets: shared by the API tests
(test_validation.py) and the service tests (test_service_errors.py)."""

from tests.products.helpers import ONETIME, SUBSCRIPTION

TAX = "digital_goods, saas, software, ebook, online_course, consulting, professional_service"
PERIODS = "Invalid billingPeriod: expected weekly, monthly, quarterly or yearly"
TRIAL_DAYS = "Invalid metadata.trialDays: expected a whole number of days from 1 to 730"
NOT_AN_AMOUNT = 'Invalid prices.USD.amount: {!r} is not an amount like "29.00"'


def usd(**price):
    return {"USD": {"amount": "9.99", "taxCategory": "saas", **price}}


# (kind, field named in the message, body overrides, message)
CASES = [
    (ONETIME, "name", {"name": "x" * 65}, "name must not exceed 64 characters"),
    (SUBSCRIPTION, "name", {"name": "é" * 65}, "name must not exceed 64 characters"),
    (ONETIME, "name", {"name": None}, "Missing required field: name"),
    (ONETIME, "name", {"name": "   "}, "Missing required field: name"),
    (SUBSCRIPTION, "name", {"name": ""}, "Missing required field: name"),
    # PostgreSQL text cannot hold NUL: refused up front instead of failing in the database.
    (ONETIME, "name", {"name": "E-\x00Book"}, "Invalid name: NUL characters are not allowed"),
    (
        SUBSCRIPTION,
        "description",
        {"description": "Fine\x00"},
        "Invalid description: NUL characters are not allowed",
    ),
    (ONETIME, "prices", {"prices": None}, "Missing required field: prices"),
    (SUBSCRIPTION, "prices", {"prices": None}, "Missing required field: prices"),
    (
        SUBSCRIPTION,
        "billingPeriod",
        {"billingPeriod": None},
        "Missing required field: billingPeriod",
    ),
    (SUBSCRIPTION, "billingPeriod", {"billingPeriod": "daily"}, PERIODS),
    (SUBSCRIPTION, "billingPeriod", {"billingPeriod": "Monthly"}, PERIODS),
    (SUBSCRIPTION, "billingPeriod", {"billingPeriod": 30}, PERIODS),
    (
        ONETIME,
        "prices",
        {"prices": {"XYZ": {"amount": "1.00", "taxCategory": "ebook"}}},
        "Invalid prices: 'XYZ' is not an ISO 4217 currency code",
    ),
    (
        ONETIME,
        "prices",
        {"prices": {"usd": {"amount": "1.00", "taxCategory": "ebook"}}},
        "Invalid prices: 'usd' is not an ISO 4217 currency code",
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": {"USD": {"amount": "29.999", "taxCategory": "ebook"}}},
        "Invalid prices.USD.amount: USD amounts have at most 2 decimal places",
    ),
    (
        ONETIME,
        "prices.JPY.amount",
        {"prices": {"JPY": {"amount": "1.5", "taxCategory": "ebook"}}},
        "Invalid prices.JPY.amount: JPY amounts have at most 0 decimal places",
    ),
    (
        SUBSCRIPTION,
        "prices.BHD.amount",
        {"prices": {"BHD": {"amount": "1.2345", "taxCategory": "saas"}}},
        "Invalid prices.BHD.amount: BHD amounts have at most 3 decimal places",
    ),
    (ONETIME, "prices.USD.amount", {"prices": usd(amount="-1")}, NOT_AN_AMOUNT.format("-1")),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount=-100)},
        "Invalid prices.USD.amount: amount must not be negative",
    ),
    (ONETIME, "prices.USD.amount", {"prices": usd(amount="1e3")}, NOT_AN_AMOUNT.format("1e3")),
    (ONETIME, "prices.USD.amount", {"prices": usd(amount="")}, NOT_AN_AMOUNT.format("")),
    (ONETIME, "prices.USD.amount", {"prices": usd(amount=".5")}, NOT_AN_AMOUNT.format(".5")),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount=" 29.00")},
        NOT_AN_AMOUNT.format(" 29.00"),
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount="1,000")},
        NOT_AN_AMOUNT.format("1,000"),
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount=29.5)},
        "Invalid prices.USD.amount: a numeric amount is in minor units and must be a whole number",
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount=True)},
        "Invalid prices.USD.amount: expected an amount",
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": {"USD": {"taxCategory": "ebook"}}},
        "Missing required field: prices.USD.amount",
    ),
    (
        ONETIME,
        "prices.USD.taxCategory",
        {"prices": usd(taxCategory="food")},
        f"Invalid prices.USD.taxCategory: expected one of {TAX}",
    ),
    (
        ONETIME,
        "prices.USD.taxCategory",
        {"prices": usd(taxCategory="SaaS")},
        f"Invalid prices.USD.taxCategory: expected one of {TAX}",
    ),
    (
        ONETIME,
        "prices.USD.taxCategory",
        {"prices": {"USD": {"amount": "1.00"}}},
        "Missing required field: prices.USD.taxCategory",
    ),
    (
        ONETIME,
        "prices.USD.taxIncluded",
        {"prices": usd(taxIncluded="false")},
        "Invalid prices.USD.taxIncluded: expected true or false",
    ),
    (
        ONETIME,
        "prices.USD.taxIncluded",
        {"prices": usd(taxIncluded=0)},
        "Invalid prices.USD.taxIncluded: expected true or false",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="1.00")},
        "Invalid prices.USD.trialAmount: a paid trial needs metadata.trialDays",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="9.99"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: must be lower than amount",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="10.00"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: must be lower than amount",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="1.005"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: USD amounts have at most 2 decimal places",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="-1"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: '-1' is not an amount like \"29.00\"",
    ),
    (
        ONETIME,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="1.00"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: only subscription products have trials",
    ),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": 0}}, TRIAL_DAYS),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": "7"}}, TRIAL_DAYS),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": True}}, TRIAL_DAYS),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": 7.5}}, TRIAL_DAYS),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": 731}}, TRIAL_DAYS),
    (
        ONETIME,
        "metadata",
        {"metadata": ["sku"]},
        "Invalid metadata: expected a JSON object",
    ),
    (
        ONETIME,
        "media[0].type",
        {"media": [{"type": "audio", "url": "https://example.com/a.mp3"}]},
        "Invalid media[0].type: expected image or video",
    ),
    (
        ONETIME,
        "media[1].url",
        {
            "media": [
                {"type": "image", "url": "https://example.com/a.png"},
                {"type": "image", "url": "javascript:alert(1)"},
            ]
        },
        "Invalid media[1].url: expected an http(s) URL",
    ),
    (
        ONETIME,
        "media[0].url",
        {"media": [{"type": "video", "url": "ftp://example.com/a.mp4"}]},
        "Invalid media[0].url: expected an http(s) URL",
    ),
    (
        ONETIME,
        "media[0].url",
        {"media": [{"type": "image"}]},
        "Missing required field: media[0].url",
    ),
    (
        ONETIME,
        "media[0].thumbnail",
        {"media": [{"type": "image", "url": "https://example.com/a.png", "thumbnail": "data:x"}]},
        "Invalid media[0].thumbnail: expected an http(s) URL",
    ),
    (
        ONETIME,
        "media",
        {"media": {"type": "image"}},
        "Invalid media: expected a list of {type, url, alt, thumbnail}",
    ),
    (
        ONETIME,
        "successUrl",
        {"successUrl": "ftp://example.com/thanks"},
        "Invalid successUrl: expected an http(s) URL",
    ),
    (
        SUBSCRIPTION,
        "successUrl",
        {"successUrl": "javascript:alert(1)"},
        "Invalid successUrl: expected an http(s) URL",
    ),
    (
        ONETIME,
        "successUrl",
        {"successUrl": "example.com/thanks"},
        "Invalid successUrl: expected an http(s) URL",
    ),
    (
        ONETIME,
        "prices",
        {"prices": {}},
        "Invalid prices: expected an object with at least one currency",
    ),
    (
        ONETIME,
        "prices",
        {"prices": "29.00"},
        "Invalid prices: expected an object with at least one currency",
    ),
    (
        SUBSCRIPTION,
        "prices",
        {"prices": [{"USD": {"amount": "1.00", "taxCategory": "saas"}}]},
        "Invalid prices: expected an object with at least one currency",
    ),
    (
        ONETIME,
        "prices.USD",
        {"prices": {"USD": "29.00"}},
        "Invalid prices.USD: expected an object with amount and taxCategory",
    ),
    (
        ONETIME,
        "description",
        {"description": ["not", "markdown"]},
        "Invalid description: expected a Markdown string or null",
    ),
]
