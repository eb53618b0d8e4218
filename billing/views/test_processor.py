"""The test processor's hosted pages: the card page and the 3-D Secure step.

``/test-processor/pay/<id>/`` shows the card form (GET) and submits it to ``submit_card`` (POST);
``/test-processor/3ds/<id>/`` asks the buyer to complete or fail authentication (``confirm_3ds``).
A final outcome (succeeded, or failed at the 3-D Secure step) delivers the signed notification
and sends the buyer to the payment's ``return_url`` with ``?payment=<id>&status=<status>``; a
declined card stays on the card page with the reason, so the buyer can try another card.

The card number and CVC exist only in the POST body of one request: they are never logged,
stored, put in a URL or rendered back into the page (the buyer retypes them after an error).

A payment opened by the hosted checkout carries the store's branding in its ``display`` (as a
real provider takes a merchant's colours and logo): both pages then wear that theme, as CSS
variables in one <style> element whose hash is in the page's Content-Security-Policy, with the
store's logo and name on the card. Without it (older rows) they look like any Pancake page.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from billing.models import TestProcessorPayment
from billing.providers import test_processor as tp
from checkout.languages import CHECKOUT_LANGUAGES, to_django
from stores import branding
from stores.dashboard import page

Status = TestProcessorPayment.Status
PAYMENT_PREFIX = "tp_"
CARD_FIELDS = ("number", "expiry", "cvc", "name")

# What each documented test card does, for the collapsible list on the card page.
TEST_CARD_LIST = [
    ("4242 4242 4242 4242", _("Succeeds (Visa)")),
    ("5555 5555 5555 4444", _("Succeeds (Mastercard)")),
    ("3782 822463 10005", _("Succeeds (American Express, 4-digit CVC)")),
    ("4000 0000 0000 0002", _("Declined: card declined")),
    ("4000 0000 0000 9995", _("Declined: insufficient funds")),
    ("4000 0000 0000 0069", _("Declined: expired card")),
    ("4000 0027 6000 3184", _("Asks for 3-D Secure: complete it to succeed, fail it to fail")),
    ("4000 0000 0000 3220", _("Asks for 3-D Secure and fails whatever you do")),
    ("4000 0000 0000 0341", _("Saves for a trial, but every later charge is declined")),
]


def _payment_or_404(provider_payment_id: str) -> TestProcessorPayment:
    """The hosted (not off-session) payment with this id; 404 for anything else."""
    if not provider_payment_id.startswith(PAYMENT_PREFIX):
        raise Http404("Payment not found")
    try:
        pk = uuid.UUID(provider_payment_id[len(PAYMENT_PREFIX) :])
    except ValueError:
        raise Http404("Payment not found") from None
    payment = TestProcessorPayment.objects.filter(pk=pk, off_session=False).first()
    if payment is None:
        raise Http404("Payment not found")
    return payment


def deliver_notification(notification: tp.SignedNotification | None) -> None:
    """Hand an outcome's signed notification to its receiver: the callable named by the
    ``TEST_PROCESSOR_NOTIFICATION_HANDLER`` setting, called with ``headers`` and ``body`` (as a
    real provider's webhook would arrive). Without one, nothing is sent: the notification stays
    available from ``test_processor.redeliver`` (same event id, same body)."""
    handler_path = getattr(settings, "TEST_PROCESSOR_NOTIFICATION_HANDLER", None)
    if notification is None or not handler_path:
        return
    import_string(handler_path)(headers=dict(notification.headers), body=notification.body)


def _return_redirect(payment_ref: str, return_url: str, status: str):
    """Back to the merchant's return URL with the outcome; our own result page without one."""
    if not return_url:
        return redirect("billing:test-processor-pay", provider_payment_id=payment_ref)
    parts = urlsplit(return_url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("payment", "status")
    ]
    query += [("payment", payment_ref), ("status", status)]
    return HttpResponseRedirect(urlunsplit(parts._replace(query=urlencode(query))))


def _split_expiry(text: str) -> tuple[str, str]:
    """'MM/YY' (or 'MM / YYYY', 'MMYY') -> (month, year) as typed; validate_card judges them."""
    text = (text or "").strip()
    if "/" in text:
        month, _, year = text.partition("/")
        return month.strip(), year.strip()
    digits = text.replace(" ", "")
    if len(digits) in (4, 6) and digits.isdigit():
        return digits[:2], digits[2:]
    return text, ""


def _in_payment_language(payment, render_page):
    """The hosted pages speak the language the checkout asked for (create_payment's locale)."""
    if payment.locale in CHECKOUT_LANGUAGES:
        with translation.override(to_django(payment.locale)):
            return render_page()
    return render_page()


# --- the store's branding (display["branding"], written by the checkout) --------------------------


def _brand(payment) -> dict | None:
    """The store's look for this payment's pages, or None to look as Pancake does. The stored
    values are checked again (``theme_css`` falls back to the default for anything that is not a
    colour or a radius): they go into a <style> element verbatim."""
    look = (payment.display or {}).get("branding")
    if not isinstance(look, dict):
        return None
    name = "dark" if look.get("theme") == "dark" else "light"
    css = branding.theme_css(look, name, "body.tp-page")
    logo = branding.logo_url(look.get("logo"))
    store_name = look.get("storeName") or (payment.display or {}).get("title") or ""
    return {
        "theme": name,
        "css": css,
        "css_hash": branding.css_hash(css),
        "logo": logo,
        "store_name": str(store_name)[:200],
    }


def _csp(brand: dict) -> str:
    """The dashboard pages' policy (stores.dashboard), plus this page's one hashed <style> and,
    with a logo, images from any http(s) host (as on the checkout's step 1, which shows the
    same logo)."""
    images = "'self' data: https: http:" if brand["logo"] else "'self' data:"
    return (
        f"default-src 'self'; img-src {images}; style-src 'self' 'sha256-{brand['css_hash']}'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )


def _tp_page(request, payment, template: str, context: dict, *, status: int = 200):
    """A hosted page in the payment's language and, when it has one, the store's branding."""
    brand = _brand(payment)
    headers = {"Cache-Control": "no-store"}
    if brand is not None:
        headers["Content-Security-Policy"] = _csp(brand)
    context = {**context, "brand": brand}
    return _in_payment_language(
        payment, lambda: page(request, template, context, status=status, headers=headers)
    )


# --- the pages ------------------------------------------------------------------------------------


def _declined(payment) -> str:
    """The decline's headline in the payment's language (the stored failure message is in the
    language the card was submitted in, which is not the page's)."""
    if not payment.failure_code:
        return payment.failure_message or str(_("Your payment failed."))
    return _in_payment_language(payment, lambda: tp.failure_message(payment.failure_code))


def _card_page(request, payment, *, errors=None, values=None, declined="", status=200):
    errors = errors or {}
    context = {
        "payment": payment,
        "payment_ref": f"{PAYMENT_PREFIX}{payment.pk}",
        "errors": errors,
        "has_errors": bool(errors),
        # Only what is safe to show again: never the card number or the CVC.
        "values": values or {},
        "declined": declined,
        "test_cards": TEST_CARD_LIST,
        "complete": payment.status == Status.SUCCEEDED,
        "display": payment.display or {},
    }
    return _tp_page(request, payment, "billing/test_processor_pay.html", context, status=status)


@never_cache
@sensitive_post_parameters("number", "cvc")
@require_http_methods(["GET", "POST"])
def pay(request, provider_payment_id: str):
    payment = _payment_or_404(provider_payment_id)
    ref = f"{PAYMENT_PREFIX}{payment.pk}"
    if payment.status == Status.REQUIRES_ACTION:
        return redirect("billing:test-processor-3ds", provider_payment_id=ref)
    if request.method == "GET" or payment.status == Status.SUCCEEDED:
        declined = _declined(payment) if payment.status == Status.FAILED else ""
        return _card_page(request, payment, declined=declined)

    exp_month, exp_year = _split_expiry(request.POST.get("expiry", ""))
    outcome = tp.submit_card(
        provider_payment_id=ref,
        number=request.POST.get("number", ""),
        exp_month=exp_month,
        exp_year=exp_year,
        cvc=request.POST.get("cvc", ""),
        name=request.POST.get("name", ""),
    )
    if outcome.status == "invalid":
        values = {
            "expiry": request.POST.get("expiry", "")[:20],
            "name": request.POST.get("name", "")[:200],
        }
        return _card_page(request, payment, errors=outcome.errors, values=values, status=400)
    if outcome.status == Status.REQUIRES_ACTION:
        return redirect("billing:test-processor-3ds", provider_payment_id=ref)
    deliver_notification(outcome.notification)
    if outcome.status == Status.FAILED:
        payment.refresh_from_db()
        values = {"name": request.POST.get("name", "")[:200]}
        return _card_page(request, payment, values=values, declined=_declined(payment), status=402)
    return _return_redirect(ref, outcome.return_url, outcome.status)


@never_cache
@require_http_methods(["GET", "POST"])
def three_ds(request, provider_payment_id: str):
    payment = _payment_or_404(provider_payment_id)
    ref = f"{PAYMENT_PREFIX}{payment.pk}"
    if payment.status != Status.REQUIRES_ACTION:
        return redirect("billing:test-processor-pay", provider_payment_id=ref)
    if request.method == "GET":
        context = {"payment": payment, "payment_ref": ref, "display": payment.display or {}}
        return _tp_page(request, payment, "billing/test_processor_3ds.html", context)
    outcome = tp.confirm_3ds(
        provider_payment_id=ref, approve=request.POST.get("decision") == "complete"
    )
    deliver_notification(outcome.notification)
    return _return_redirect(ref, outcome.return_url, outcome.status)
