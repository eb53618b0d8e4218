"""The hosted checkout at ``/store/{slug}/checkout/{sessionId}``.

One URL walks the buyer through the session's life:

- open, no order yet: step 1 "Your details" (POST creates the order and sends the buyer to
  step 2, the provider's payment page);
- order unpaid: the summary and "Continue to payment" (after a decline or a failed 3-D Secure
  step: the failure page with the reason and "Try again");
- back from the provider before its notification arrived: "Processing" (refreshes itself);
- paid: the success page (order number, receipt, portal, the ``successUrl``);
- expired, or complete without being this buyer's return: a page that says so, with a way to
  start again.

The page is in the store's branding (light/dark, colours, radius as CSS variables in one
hashed <style>), in one of the seven checkout languages, and needs no script to work: its one
script binds an authenticated link's ``#token=``, shows the fields a country needs and keeps the
summary's tax current.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import PaymentStatus
from checkout import languages, presenters, services
from checkout.forms import (
    POSTCODE_COUNTRIES,
    STATE_COUNTRIES,
    DetailsForm,
    engine_error_field,
    eu_countries,
    state_groups,
)
from checkout.models import CheckoutSession, Order, OrderStatus, SessionStatus
from checkout.tax.engine import country_name
from pancake.api import auth, envelope
from pancake.api.errors import Conflict, Forbidden, InvalidInput, PancakeError, ProviderFailed
from pancake.api.ids import encode
from pancake.api.ratelimit import client_country, client_ip
from pancake.models import Environment
from stores import branding

LANGUAGE_COOKIE = "pancake_checkout_lang"
LANGUAGE_NAMES = {
    "en": "English",
    "zh": "简体中文",
    "ja": "日本語",
    "ko": "한국어",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
}
PAID = (OrderStatus.COMPLETED, OrderStatus.ACTIVE, OrderStatus.TRIALING)


# --- the session, its language and its look ------------------------------------------------------


def _session_or_404(store_slug: str, session_id: uuid.UUID) -> CheckoutSession:
    session = (
        CheckoutSession.objects.select_related("store", "version", "product")
        .filter(pk=session_id, store__slug=store_slug, store__deleted_at__isnull=True)
        .first()
    )
    if session is None:
        raise Http404("Checkout session not found")
    return session


def _accept_language(header: str) -> str | None:
    for tag in languages.accepted_tags(header):
        code = languages.nearest(tag)
        if code:
            return code
    return None


def page_language(request, session: CheckoutSession) -> tuple[str, bool]:
    """(checkout language, chosen on the page now). A choice on the page (``?lang=``, then
    remembered in a cookie for this session's URL) beats the session's ``language``, which
    beats the browser's Accept-Language."""
    chosen = request.GET.get("lang")
    if chosen in languages.CHECKOUT_LANGUAGES:
        return chosen, True
    remembered = request.COOKIES.get(LANGUAGE_COOKIE)
    if remembered in languages.CHECKOUT_LANGUAGES:
        return remembered, False
    if session.checkout_language:
        return session.checkout_language, False
    return _accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", "")) or "en", False


def _look(session: CheckoutSession) -> dict:
    name, values, logo = branding.store_look(session.store, session.dark_mode)
    css = branding.theme_css(values, name, "body.checkout")
    return {
        "theme_name": name,
        "brand_css": css,
        "brand_css_hash": branding.css_hash(css),
        "logo": logo,
    }


def _csp(style_hash: str) -> str:
    return (
        "default-src 'self'; img-src 'self' data: https: http:; "
        f"style-src 'self' 'sha256-{style_hash}'; script-src 'self'; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'; form-action 'self' " + _form_targets()
    )


def _form_targets() -> str:
    """The provider's pages are where step 1's form leads (by redirect, which form-action also
    governs): allow the configured base URL when it is another origin than the request's."""
    return settings.BASE_URL


def _purchase_link(session: CheckoutSession) -> str:
    url = reverse("purchase:link", args=[session.store.slug, session.product.slug])
    return url + ("?env=test" if session.environment == Environment.TEST else "")


def _image(version) -> dict | None:
    return next((m for m in version.media or [] if m.get("type") == "image"), None)


def _render(request, session, template: str, context: dict, *, status: int = 200, lang=None):
    language, chosen = lang or page_language(request, session)
    look = _look(session)
    base = {
        "session": session,
        "store": session.store,
        "version": session.version,
        "image": _image(session.version),
        "platform_name": settings.PLATFORM_NAME,
        "is_test": session.environment == Environment.TEST,
        "language": language,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in languages.CHECKOUT_LANGUAGES],
        "page_url": reverse("checkout:page", args=[session.store.slug, session.pk]),
        "purchase_link": _purchase_link(session),
        "terms_url": settings.PLATFORM_TERMS_URL or f"{reverse('legal:terms')}?lang={language}",
        "privacy_url": settings.PLATFORM_PRIVACY_URL
        or f"{reverse('legal:privacy')}?lang={language}",
        **look,
    }
    with translation.override(languages.to_django(language)):
        response = render(request, template, {**base, **context}, status=status)
        response["Content-Language"] = languages.to_django(language)
    response["Content-Security-Policy"] = _csp(look["brand_css_hash"])
    # Not "no-referrer": the browser would then send "Origin: null" with the page's own forms,
    # which CSRF protection refuses. Other hosts (a merchant's logo) never see the session URL.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    if chosen:
        path = reverse("checkout:page", args=[session.store.slug, session.pk])
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=30 * 86400, path=path, samesite="Lax"
        )
    return response


def _is_expired(session: CheckoutSession) -> bool:
    return session.status == SessionStatus.EXPIRED or session.expires_at <= timezone.now()


# --- the page ------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def session_page(request, store_slug, session_id):
    session = _session_or_404(store_slug, session_id)
    order = Order.objects.filter(session=session).select_related("session").first()
    if order is not None:
        return _order_page(request, session, order)
    if session.status == SessionStatus.COMPLETED:
        return _render(request, session, "checkout/used.html", {}, status=410)
    if _is_expired(session):
        return _render(request, session, "checkout/expired.html", {}, status=410)
    if request.method == "POST":
        return _submit_details(request, session)
    form = DetailsForm(initial=DetailsForm.initial_from(session))
    return _details_page(request, session, form)


def _locked_email(session: CheckoutSession) -> str | None:
    """An authenticated link whose buyer identity is an email decides the email."""
    identity = session.buyer_identity or ""
    return identity if "@" in identity else None


def _details_page(request, session, form, *, tax=None, error: str = "", status: int = 200):
    lang = page_language(request, session)
    with translation.override(languages.to_django(lang[0])):
        if tax is None and not form.is_bound and session.billing_detail:
            tax = _tax_or_none(session, session.billing_detail)
        context = {
            "form": form,
            "summary": presenters.summary(session, tax),
            "state_groups": [
                (code, country_name(code, presenters.babel_locale()), states)
                for code, states in state_groups()
            ],
            "eu_countries": sorted(eu_countries()),
            "postcode_countries": sorted(POSTCODE_COUNTRIES),
            "state_countries": STATE_COUNTRIES,
            "locked_email": _locked_email(session),
            "error": error,
            "summary_url": reverse("checkout:summary", args=[session.store.slug, session.pk]),
        }
    return _render(request, session, "checkout/details.html", context, status=status, lang=lang)


def _tax_or_none(session, detail: dict):
    try:
        return services.session_tax(session, detail)
    except PancakeError:
        return None


def _submit_details(request, session):
    lang = page_language(request, session)
    data = request.POST.copy()
    locked = _locked_email(session)
    if locked:
        data["email"] = locked
    with translation.override(languages.to_django(lang[0])):
        form = DetailsForm(data)
        if not form.is_valid():
            return _details_page(request, session, form, status=400)
        detail = form.billing_detail()
        try:
            services.session_tax(session, detail, ip_country=client_country(request))
        except (InvalidInput, Forbidden) as exc:
            field, message = engine_error_field(exc)
            form.add_error(field if field in form.fields else None, message)
            return _details_page(request, session, form, status=exc.status)
    try:
        _order, url = billing_services.order_place(
            actor=None,
            kind=session.kind,
            session_id=session.pk,
            billing_detail=detail,
            buyer_email=form.cleaned_data["email"],
            buyer_ip=client_ip(request) if request.META.get("REMOTE_ADDR") else None,
            buyer_ip_country=client_country(request),
            language=lang[0],
        )
    except Conflict:
        session.refresh_from_db()
        return session_page(request, session.store.slug, session.pk)
    except ProviderFailed:
        with translation.override(languages.to_django(lang[0])):
            error = _("The payment provider did not answer. Nothing was charged: please try again.")
        return _details_page(request, session, form, error=error, status=502)
    return HttpResponseRedirect(url, status=303)


def _order_page(request, session, order: Order):
    payment = billing_selectors.latest_payment(order)
    returned = request.GET.get("status")
    if order.status in PAID:
        return _success_page(request, session, order, payment)
    if order.status != OrderStatus.PENDING:  # canceled
        return _render(request, session, "checkout/used.html", {"order": order}, status=410)
    if request.method == "POST":
        retry = billing_selectors.payment_retryable(order)
        if retry is None or _is_expired(session):
            return _render(request, session, "checkout/expired.html", {}, status=410)
        try:
            return HttpResponseRedirect(billing_services.payment_page_url(retry, order), status=303)
        except ProviderFailed:
            return _payment_page(request, session, order, payment, provider_down=True)
    if payment is not None and payment.status == PaymentStatus.FAILED:
        return _failure_page(request, session, order, payment)
    if returned == "succeeded":
        return _render(
            request,
            session,
            "checkout/processing.html",
            {"order": order, "refresh_url": request.get_full_path()},
        )
    if _is_expired(session):
        return _render(request, session, "checkout/expired.html", {}, status=410)
    return _payment_page(request, session, order, payment)


def _order_summary(session, order: Order) -> dict:
    class _Tax:  # the order's frozen tax, in the shape presenters.summary reads
        subtotal, tax_amount, total = order.subtotal, order.tax_amount, order.total
        rate, tax_name, reverse_charge = order.tax_rate, order.tax_name, order.reverse_charge

    return presenters.summary(session, _Tax)


def _payment_page(request, session, order, payment, *, provider_down: bool = False):
    lang = page_language(request, session)
    with translation.override(languages.to_django(lang[0])):
        context = {"order": order, "summary": _order_summary(session, order)}
        if provider_down:
            context["error"] = _(
                "The payment provider did not answer. Nothing was charged: please try again."
            )
    status = 502 if provider_down else 200
    return _render(request, session, "checkout/payment.html", context, status=status, lang=lang)


def _failure_page(request, session, order, payment):
    lang = page_language(request, session)
    with translation.override(languages.to_django(lang[0])):
        context = {
            "order": order,
            "summary": _order_summary(session, order),
            "reason": failure_reason(payment.failure_code),
            "support_email": session.store.support_email,
        }
    return _render(request, session, "checkout/failure.html", context, status=402, lang=lang)


def failure_reason(code: str) -> str:
    """A decline in plain words, in the active language."""
    reasons = {
        "card_declined": _("Your card was declined."),
        "insufficient_funds": _("Your card has insufficient funds."),
        "expired_card": _("Your card has expired."),
        "incorrect_cvc": _("The card's security code is incorrect."),
        "authentication_failed": _("The card's 3-D Secure authentication failed."),
        "processing_error": _("The payment could not be processed."),
    }
    return reasons.get(code) or _("The payment did not go through.")


def _success_page(request, session, order, payment):
    lang = page_language(request, session)
    success_url = order.success_url or session.version.success_url or ""
    if success_url:
        query = urlencode({"order_id": encode("ORD", order.pk)})
        success_url += ("&" if "?" in success_url else "?") + query
    with translation.override(languages.to_django(lang[0])):
        context = {
            "order": order,
            "order_number": encode("ORD", order.pk),
            "summary": _order_summary(session, order),
            "payment": payment,
            "card": (payment.payment_method_details or {}) if payment else {},
            "success_url": success_url,
            "portal_url": _portal_url(session),
        }
    return _render(request, session, "checkout/success.html", context, lang=lang)


def _portal_url(session) -> str:
    try:
        return reverse("portal:home", args=[session.store.slug])
    except NoReverseMatch:  # the customer portal has no pages yet
        return ""


@never_cache
@require_GET
def summary(request, store_slug, session_id):
    """The live order summary for the details the buyer has typed so far (JSON for the page's
    script): the same tax engine as the order, so the page shows what will be charged."""
    session = _session_or_404(store_slug, session_id)
    language, _chosen = page_language(request, session)
    query = request.GET
    country = (query.get("country") or "").strip().upper()
    with translation.override(languages.to_django(language)):
        result = {"summary": None, "error": None}
        if country:
            detail = {
                "country": country,
                "state": (query.get("state") or "").strip().upper() or None,
                "postcode": (query.get("postcode") or "").strip() or None,
                "isBusiness": query.get("is_business") in ("on", "true", "1"),
                "taxId": (query.get("tax_id") or "").strip() or None,
                # The name does not change the tax; the form asks for it on submit.
                "businessName": (query.get("business_name") or "").strip() or "-",
            }
            try:
                tax = services.session_tax(session, detail, ip_country=client_country(request))
            except (InvalidInput, Forbidden) as exc:
                tax = None
                # A field not filled in yet is not an error while the buyer types: the tax
                # waits for it. A wrong value (bad VAT number, blocked country) is one.
                if exc.code != "required":
                    field, message = engine_error_field(exc)
                    result["error"] = {"field": field, "message": message}
        else:
            tax = None
        result["summary"] = presenters.summary(session, tax)
        if result["summary"]["reverse_charge"]:
            result["summary"]["note"] = _("VAT reverse charged: you account for the VAT.")
    response = JsonResponse(result)
    response["Cache-Control"] = "no-store"
    return response


# --- the authenticated link's token -------------------------------------------------------------


@csrf_exempt  # authenticated by the buyer's Bearer token, never by a cookie
@require_POST
def bind_buyer(request, store_slug, session_id):
    """The page posts the ``#token=`` of an authenticated link here once, with Bearer and
    X-Environment; the token's buyer identity is bound to the session."""
    try:
        actor = auth.authenticate(request, request.body)
        if actor.kind != auth.BUYER:
            raise Forbidden("A buyer session token is required", layer="order")
        session = services.session_bind_buyer(
            session_id=session_id, store_slug=store_slug, actor=actor
        )
    except PancakeError as exc:
        return envelope.error_response(exc)
    return JsonResponse(
        {
            "data": {
                "sessionId": str(session.pk),
                "bound": True,
                "buyerEmail": session.buyer_email if "@" in session.buyer_identity else None,
            }
        }
    )
