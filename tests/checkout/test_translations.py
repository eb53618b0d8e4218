"""The buyer-facing pages in the seven checkout languages: every message that the hosted
checkout, the test processor's pages, the legal pages, the buyer emails and the shared layout use
is translated in each non-English catalog, with the same placeholders, and the page renders in the
language asked for."""

import re
from fnmatch import fnmatch

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client
from django.utils.html import escape

from checkout import languages
from checkout.models import CheckoutSession
from pancake.api import ids

# Checkout language -> locale/ directory, and the Plural-Forms each catalog must declare.
CATALOGS = {
    "de": ("de", "nplurals=2; plural=(n != 1);"),
    "fr": ("fr", "nplurals=2; plural=(n > 1);"),
    "es": ("es", "nplurals=2; plural=(n != 1);"),
    "ko": ("ko", "nplurals=1; plural=0;"),
    "ja": ("ja", "nplurals=1; plural=0;"),
    "zh": ("zh_Hans", "nplurals=1; plural=0;"),
}

# The sources whose messages a buyer sees.
BUYER_SOURCES = (
    "templates/checkout/*.html",
    "checkout/*.py",
    "templates/billing/*.html",
    "billing/views.py",
    "billing/providers/test_processor.py",
    "templates/legal/*.html",
    "templates/emails/order_confirmation.*",
    "templates/emails/subscription_*",
    "templates/emails/refund_*",
    "billing/refunds/emails.py",
    "billing/subscriptions/emails.py",
    "templates/products/unavailable.html",
    "templates/base.html",
    "templates/layouts/public.html",
    "templates/includes/language_switcher.html",
    "templates/portal/*.html",
    "templates/emails/portal_sign_in.*",
    "portal/emails.py",
    "portal/views/signin.py",
    "portal/views/pages.py",
    "billing/subscriptions/payment_methods.py",
)
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _buyer_facing(message) -> bool:
    for path, _line in message.locations:
        if any(fnmatch(path, pattern) for pattern in BUYER_SOURCES):
            return True
        # products/views.py is mostly the dashboard; its price labels are the buyer's.
        if path == "products/views.py" and "%(price)s" in _ids(message)[0]:
            return True
    return False


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _catalog(directory: str):
    with open(settings.BASE_DIR / "locale" / directory / "LC_MESSAGES" / "django.po", "rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def english_messages():
    """The buyer-facing messages, as the German catalog lists them (makemessages writes the same
    msgids into every catalog)."""
    catalog = _catalog("de")
    return [m for m in catalog if m.id and _buyer_facing(m)]


def test_the_buyer_facing_sources_have_messages(english_messages):
    ids_ = {_ids(m)[0] for m in english_messages}
    assert {
        "Your details",
        "Continue to payment",
        "Test Mode - No real charges will be made",
    } <= ids_
    assert "%(price)s / month" in ids_
    assert len(english_messages) > 150


@pytest.mark.parametrize("code", list(CATALOGS))
def test_the_catalog_header_is_usable(code):
    directory, plural_forms = CATALOGS[code]
    catalog = _catalog(directory)
    assert not catalog.fuzzy, "a fuzzy header makes compilemessages skip the catalog"
    assert catalog.mime_headers and dict(catalog.mime_headers)["Plural-Forms"] == plural_forms
    assert (settings.BASE_DIR / "locale" / directory / "LC_MESSAGES" / "django.mo").exists()


@pytest.mark.parametrize("code", list(CATALOGS))
def test_every_buyer_facing_message_is_translated(code, english_messages):
    directory, plural_forms = CATALOGS[code]
    nplurals = int(re.search(r"nplurals=(\d+)", plural_forms).group(1))
    catalog = _catalog(directory)
    problems = []
    for english in english_messages:
        message = catalog.get(english.id, english.context)
        where = f"{english.id!r} ({english.locations[0][0]}:{english.locations[0][1]})"
        if message is None:
            problems.append(f"missing {where}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy {where}")
        strings = _strings(message)
        if message.pluralizable and len(strings) != nplurals:
            problems.append(f"{len(strings)} plural forms, not {nplurals}: {where}")
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated {where}")
            continue
        expected = {name for text in _ids(message) for name in PLACEHOLDER.findall(text)}
        for text in strings:
            found = set(PLACEHOLDER.findall(text))
            if found != expected:
                problems.append(f"placeholders {sorted(found)} != {sorted(expected)}: {where}")
    assert not problems, f"{code}: " + "\n".join(problems)


# --- the page in each language -------------------------------------------------------------------


def _translation(code: str, msgid: str) -> str:
    return _catalog(CATALOGS[code][0]).get(msgid).string


@pytest.mark.django_db
@pytest.mark.parametrize("code", list(CATALOGS))
def test_the_details_page_is_in_the_language_chosen(api, book, code):
    data = api.call(
        "checkout/create-session",
        {"productId": ids.encode("PROD", book.pk), "currency": "USD"},
    )["data"]
    session = CheckoutSession.objects.get(pk=ids.parse_id(data["sessionId"], "CS"))
    path = f"/store/{session.store.slug}/checkout/{session.pk}?lang={code}"
    response = Client().get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{languages.to_django(code)}"' in html
    assert "Continue to payment" not in html
    assert "Your details" not in html
    assert escape(_translation(code, "Continue to payment")) in html
    assert escape(_translation(code, "Your details")) in html
