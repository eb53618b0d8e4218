"""The hosted checkout at ``/store/{slug}/checkout/{sessionId}``, and a plan change's
confirmation page at ``/store/{slug}/change/{sessionId}`` (in the same look and languages).

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

import json
import uuid
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import Payment, PaymentStatus, PlanChange
from billing.providers import live_payments_available
from billing.subscriptions import plan_changes
from billing.subscriptions import selectors as subscription_selectors
from checkout import languages, presenters, services, tax_ids
from checkout.forms import (
    POSTCODE_COUNTRIES,
    STATE_COUNTRIES,
    DetailsForm,
    engine_error_field,
    eu_countries,
    region_of,
    state_groups,
)
from checkout.models import CheckoutSession, Order, OrderStatus, SessionStatus
from checkout.tax.engine import country_name
from pancake.api import auth, envelope, ratelimit
from pancake.api.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PancakeError,
    ProviderFailed,
)
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
    """The product's first image, if the page's Content-Security-Policy lets it load (img-src:
    this site, https and http URLs); any other address is left out rather than shown broken."""
    image = next((m for m in version.media or [] if m.get("type") == "image"), None)
    url = str((image or {}).get("url") or "")
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("https", "http") or (not scheme and url.startswith("/")):
        return image
    return None


def _render(request, session, template: str, context: dict, *, status: int = 200, lang=None):
    language, chosen = lang or page_language(request, session)
    look = _look(session)
    page_url = context.get("page_url") or reverse(
        "checkout:page", args=[session.store.slug, session.pk]
    )
    base = {
        "session": session,
        "store": session.store,
        "version": session.version,
        "image": _image(session.version),
        "platform_name": settings.PLATFORM_NAME,
        "is_test": session.environment == Environment.TEST,
        "language": language,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in languages.CHECKOUT_LANGUAGES],
        "page_url": page_url,
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
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=30 * 86400, path=page_url, samesite="Lax"
        )
    return response


def _is_expired(session: CheckoutSession) -> bool:
    return session.status == SessionStatus.EXPIRED or session.expires_at <= timezone.now()


# --- the page ------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def session_page(request, store_slug, session_id):
    session = _session_or_404(store_slug, session_id)
    if session.is_plan_change:  # its page is the change's confirmation
        return HttpResponseRedirect(reverse("checkout:change", args=[store_slug, session.pk]))
    order = Order.objects.filter(session=session).select_related("session").first()
    if order is not None:
        return _order_page(request, session, order)
    if session.status == SessionStatus.COMPLETED:
        return _render(request, session, "checkout/used.html", {}, status=410)
    if _is_expired(session):
        return _render(request, session, "checkout/expired.html", {}, status=410)
    if session.environment == Environment.PROD and not live_payments_available():
        # Say so before the buyer types anything: the order would be refused (502) anyway.
        return _render(request, session, "checkout/cannot_pay.html", {}, status=503)
    if request.method == "POST":
        return _submit_details(request, session)
    initial = DetailsForm.initial_from(session)
    if not initial["country"]:
        # A first visit: the browser's locale (Accept-Language's region) suggests the country.
        tags = languages.accepted_tags(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
        initial["country"] = region_of(tags) or ""
    language, _chosen = page_language(request, session)
    with translation.override(languages.to_django(language)):
        form = DetailsForm(initial=initial)  # its country names and labels in the page's language
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
            "tax_id_labels": json.dumps(tax_ids.labels_for_script(), ensure_ascii=False),
            "tax_id_default_label": tax_ids.label(None),
            "show_description": True,
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
            field, message = engine_error_field(exc, detail["country"])
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
    back = returned == "succeeded" and payment is not None
    if back and payment.status != PaymentStatus.SUCCEEDED:
        # Back from the provider's page: ask the provider rather than wait for its webhook
        # (providers that cannot be asked answer nothing, and "processing" waits for them).
        try:
            applied = billing_services.provider_payment_sync(
                environment=payment.environment, attempt_id=str(payment.pk)
            )
        except PancakeError:
            applied = None  # the provider did not answer: "processing" asks again in a moment
        if applied is not None:
            order.refresh_from_db()
            payment.refresh_from_db()
            if order.status in PAID:
                return _success_page(request, session, order, payment)
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
            # A free trial's first payment saves the card and charges nothing.
            "card_saved": payment is not None and payment.amount == 0,
            "success_url": success_url,
            "portal_url": _portal_url(session),
        }
    return _render(request, session, "checkout/success.html", context, lang=lang)


def _portal_url(session) -> str:
    """The store's customer portal (named by URL: the portal is a layer above checkout), in the
    session's environment, where the buyer signs in with the email they bought with."""
    url = reverse("portal:home", args=[session.store.slug])
    return url + ("?env=test" if session.environment == Environment.TEST else "")


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
                    field, message = engine_error_field(exc, country)
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


# --- a plan change's confirmation page -----------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def change_page(request, store_slug, session_id):
    """``/store/{slug}/change/{sessionId}``: the current plan and the new one, what changing
    costs (the prorated charge or credit) and when it takes effect; confirming applies it
    (``billing.subscriptions.plan_changes.confirm``), then the page shows the outcome. Holding
    the session's id is the permission, as for the checkout."""
    session = _session_or_404(store_slug, session_id)
    change = subscription_selectors.plan_change_of_session(session.pk)
    if change is None:
        raise Http404("Plan change not found")
    page_url = reverse("checkout:change", args=[store_slug, session.pk])
    lang = page_language(request, session)
    error, status = "", 200
    if request.method == "POST" and change.status == PlanChange.Status.PROPOSED:
        try:
            plan_changes.confirm(session_id=session.pk)
        except ProviderFailed:
            error, status = _("The payment provider did not answer. Please try again."), 502
        except Conflict as exc:
            if exc.code == "busy":  # another charge of the subscription is in flight
                error, status = (
                    _("A payment of this subscription is in progress: try again in a minute."),
                    409,
                )
        except InvalidInput:
            pass  # the subscription can no longer change plans: the page below says so
        else:
            return HttpResponseRedirect(page_url, status=303)
        change = subscription_selectors.plan_change_of_session(session.pk)
    context = {"page_url": page_url, "change": change, "error": error}
    with translation.override(languages.to_django(lang[0])):
        template, state_status = _change_state(session, change, context)
    return _render(
        request, session, template, context, status=status if error else state_status, lang=lang
    )


def _change_state(session, change: PlanChange, context: dict) -> tuple[str, int]:
    """The template and status of the change's page, its context filled in (in the page's
    language): the confirmation while it can be confirmed, else what became of it."""
    subscription = change.subscription
    currency = subscription.currency
    context["current"] = {
        "name": subscription.version.name,
        "price": presenters.per_period(
            presenters.money(subscription.total, currency), subscription.billing_period
        ),
    }
    context["support_email"] = session.store.support_email
    context["success_url"] = session.success_url or ""
    new_name = change.to_version.name
    Status = PlanChange.Status
    if change.status == Status.APPLIED:
        context["title"] = _("Your plan has been changed")
        lines = [_("You are now on %(plan)s.") % {"plan": new_name}]
        if change.payment_id and change.charge_amount:
            lines.append(
                _("%(amount)s was charged to your saved payment method.")
                % {"amount": presenters.money(change.charge_amount, currency)}
            )
        if change.credit_amount:
            lines.append(
                _("A credit of %(amount)s will be taken off your next payments.")
                % {"amount": presenters.money(change.credit_amount, currency)}
            )
        lines.append(
            _("Next billing date: %(date)s.")
            % {"date": presenters.long_date(subscription.current_period_end)}
        )
        context.update(lines=lines, done=True)
        return "checkout/change_result.html", 200
    if change.status == Status.SCHEDULED:
        context["title"] = _("Your plan change is scheduled")
        context["lines"] = [
            _("You will move to %(plan)s on %(date)s.")
            % {"plan": new_name, "date": presenters.long_date(change.effective_at)},
            _("Until then, your current plan stays as it is."),
        ]
        context["done"] = True
        return "checkout/change_result.html", 200
    if change.status == Status.FAILED:
        code = change.payment.failure_code if change.payment else ""
        context["title"] = _("Your plan was not changed")
        context["reason"] = failure_reason(code)
        context["lines"] = [_("Your current plan stays as it is. Nothing was charged.")]
        return "checkout/change_result.html", 402
    if change.payment is not None and change.payment.status == PaymentStatus.PROCESSING:
        context["title"] = _("Your plan change is being processed")
        context["lines"] = [_("This takes a few seconds. You can check again below.")]
        context["retry"] = True
        return "checkout/change_result.html", 202
    if change.status == Status.CANCELED or session.status == SessionStatus.COMPLETED:
        context["title"] = _("This plan change link has already been used")
        context["lines"] = [_("This link can't be used again. Ask for a new one to change plans.")]
        return "checkout/change_result.html", 410
    if _is_expired(session):
        context["title"] = _("This plan change link has expired")
        context["lines"] = [
            _("Links to change plans are valid for a limited time. Nothing was changed."),
            _("Ask for a new link to change your plan."),
        ]
        return "checkout/change_result.html", 410
    if subscription.status not in plan_changes.CHANGEABLE:
        context["title"] = _("This subscription can't change plans")
        context["lines"] = [_("Only an active subscription can change its plan.")]
        return "checkout/change_result.html", 409
    _confirmation(change, context)
    return "checkout/change.html", 200


def _confirmation(change: PlanChange, context: dict) -> None:
    """The confirmation's rows: the new plan, what is due now or credited, and when."""
    subscription = change.subscription
    currency = subscription.currency
    preview = plan_changes.preview(change)
    tax = preview.tax
    new_period = change.to_version.billing_period or subscription.billing_period
    context["new"] = {
        "name": change.to_version.name,
        "price": presenters.per_period(presenters.money(tax.total, currency), new_period),
        "frequency": presenters.frequency(new_period),
        "tax": (
            _("Includes %(tax)s of %(amount)s")
            % {
                "tax": presenters.tax_label(tax.tax_name),
                "amount": presenters.money(tax.tax_amount, currency),
            }
            if tax.tax_amount
            else ""
        ),
    }
    period_end = presenters.long_date(subscription.current_period_end)
    card = subscription.payment_method_details or {}
    rows, notes = [], []
    if not preview.immediate:
        rows.append((_("Takes effect"), presenters.long_date(preview.effective_at)))
        rows.append((_("Due today"), presenters.money(0, currency)))
        notes.append(
            _("Your current plan stays until then; the new price is charged from then on.")
        )
        button = _("Confirm plan change")
    elif preview.charge:
        due = presenters.money(preview.charge, currency)
        rows.append((_("Takes effect"), _("Now")))
        rows.append((_("Due today"), due))
        if change.amount_overridden:
            notes.append(
                _("The amount due today was set by %(store)s.")
                % {"store": change.session.store.name}
            )
        else:
            notes.append(
                _("The price difference for the rest of this period, until %(date)s.")
                % {"date": period_end}
            )
        if card.get("last4"):
            notes.append(
                _("Charged to your %(brand)s ending in %(last4)s.")
                % {"brand": (card.get("brand") or "").capitalize(), "last4": card["last4"]}
            )
        button = _("Pay %(amount)s and change plan") % {"amount": due}
    else:
        rows.append((_("Takes effect"), _("Now")))
        rows.append((_("Due today"), presenters.money(0, currency)))
        if preview.credit:
            rows.append((_("Credit"), presenters.money(preview.credit, currency)))
            notes.append(_("The credit is taken off your next payments."))
        button = _("Confirm plan change")
    rows.append((_("Next billing date"), period_end))
    context.update(rows=rows, notes=notes, button=button)


# --- step 2 with Stripe: our page with Stripe.js's card element ---------------------------------
#
# The Stripe provider's ``create_payment`` (``billing.providers.stripe``, docs/stripe.md) sends the
# buyer to ``checkout:stripe-pay`` (``/checkout/stripe/<attempt id>/``, the attempt being our
# payment's id) instead of a page of Stripe's own. It is this checkout's page (the store's
# branding, the buyer's language, the order summary) with Stripe.js's card element mounted in it;
# Stripe.js comes from ``settings.STRIPE_JS_URL`` and the page's Content-Security-Policy lets it
# (and the frames and API calls it makes) in. Its script, ``static/js/stripe-checkout.js``:
#
# - a PaymentIntent: makes a PaymentMethod of the card in the browser
#   (``stripe.createPaymentMethod``; with a Stripe.js that cannot, such as the tests' fake one,
#   the card of ``stripe.createToken``), posts its id to ``checkout:stripe-confirm``, where the
#   provider confirms the intent with it server-side (``billing.services.stripe_confirm``); a
#   3-D Secure card answers ``requires_action`` and the script calls
#   ``stripe.confirmCardPayment(client_secret)``, so Stripe.js shows the bank's challenge;
# - a SetupIntent (a trial: the card is saved, nothing charged):
#   ``stripe.confirmCardSetup(client_secret, {payment_method: {card}})`` in the browser.
#
# The card number never reaches our server. A decline is shown beside the card field in the
# buyer's language, and the buyer may try another card. A success sends the buyer back to the
# session's page with ``?status=succeeded``, which asks Stripe for the intent's outcome when the
# webhook has not applied it yet (``billing.services.provider_payment_sync``). Holding the
# attempt's id is the permission to pay it, as holding the session's id is for the checkout.

STRIPE_DEFAULT_JS_URL = "https://js.stripe.com/v3/"
STRIPE_DEFAULT_API_BASE = "https://api.stripe.com"
# Stripe's decline codes the page explains in the buyer's language (checkout.views.failure_reason).
STRIPE_DECLINE_CODES = (
    "card_declined",
    "insufficient_funds",
    "expired_card",
    "incorrect_cvc",
    "processing_error",
    "authentication_failed",
)
# Stripe's codes for a refused or failed 3-D Secure step.
STRIPE_AUTHENTICATION_CODES = (
    "payment_intent_authentication_failure",
    "setup_intent_authentication_failure",
    "authentication_required",
)
STRIPE_PAID_INTENT = ("succeeded", "processing", "requires_capture")
# Cards tried on one payment in an hour: enough for a buyer's typos and declines, too few for
# testing stolen card numbers against the store.
STRIPE_CONFIRMS_PER_HOUR = 10


def _stripe_payment_or_404(attempt_id: uuid.UUID) -> Payment:
    payment = billing_selectors.stripe_payment(attempt_id)
    if payment is None or payment.order.session.store.deleted_at is not None:
        raise Http404("Payment not found")
    return payment


def _stripe_return_url(payment: Payment, **query) -> str:
    session = payment.order.session
    url = reverse("checkout:page", args=[session.store.slug, session.pk])
    return url + ("?" + urlencode(query) if query else "")


def _origin_of(url: str) -> str:
    scheme, _sep, rest = (url or "").partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else ""


def stripe_js_url() -> str:
    return getattr(settings, "STRIPE_JS_URL", "") or STRIPE_DEFAULT_JS_URL


def stripe_sources() -> dict[str, list[str]]:
    """The origins Stripe.js needs, by CSP directive: its script's origin, the API it calls, and
    (for Stripe's own Stripe.js) the frames of the card element and the 3-D Secure challenge."""
    script = _origin_of(stripe_js_url())
    api = _origin_of(getattr(settings, "STRIPE_API_BASE", "") or STRIPE_DEFAULT_API_BASE)
    sources = {"script-src": [script], "connect-src": [script, api], "frame-src": [script]}
    if script == "https://js.stripe.com":
        sources["frame-src"].append("https://hooks.stripe.com")
    return {name: sorted({value for value in values if value}) for name, values in sources.items()}


def _stripe_csp(style_hash: str) -> str:
    """The checkout's policy with Stripe.js let in."""
    extra = stripe_sources()
    return (
        "default-src 'self'; img-src 'self' data: https: http:; "
        f"style-src 'self' 'sha256-{style_hash}'; "
        f"script-src 'self' {' '.join(extra['script-src'])}; "
        f"connect-src 'self' {' '.join(extra['connect-src'])}; "
        f"frame-src {' '.join(extra['frame-src'])}; object-src 'none'; "
        f"base-uri 'self'; frame-ancestors 'none'; form-action 'self' {settings.BASE_URL}"
    )


def _stripe_messages() -> dict:
    """What the script may have to say, in the page's language."""
    return {
        "authentication_failed": failure_reason("authentication_failed"),
        "failed": _("The payment did not go through."),
        "network": _("We could not reach the payment provider. Nothing was charged: try again."),
        "incomplete": _("Enter your card number, expiry date and security code."),
        "working": _("Processing…"),
        "too_many": _("Too many attempts with this payment. Please wait an hour and try again."),
        "declines": {code: failure_reason(code) for code in STRIPE_DECLINE_CODES},
    }


def _stripe_style(session: CheckoutSession) -> dict:
    """The card element's colours in the store's theme (Stripe draws it in its own frame, which
    our stylesheet does not reach): the text, the placeholders and an error."""
    name, values, _logo = branding.store_look(session.store, session.dark_mode)
    text = values.get("checkoutColorText")
    text = text if branding.is_color(text) else branding.DEFAULTS[name]["checkoutColorText"]
    return {
        "base": {
            "color": text,
            "fontSize": "16px",
            "::placeholder": {"color": branding.muted_text(values, name)},
        },
        "invalid": {"color": "#fca5a5" if name == "dark" else "#b91c1c"},
    }


def _stripe_button(payment: Payment) -> str:
    if payment.amount == 0:
        return _("Save card and start trial")
    return _("Pay %(amount)s") % {"amount": presenters.money(payment.amount, payment.currency)}


def _with_outcome(url: str, intent_id: str) -> str:
    """The return URL with the outcome, as a provider's hosted page hands it back."""
    query = urlencode({"payment": intent_id, "status": "succeeded"})
    return url + ("&" if "?" in url else "?") + query


@never_cache
@require_GET
def stripe_pay(request, attempt_id: uuid.UUID):
    """The page of an order's payment, or of a subscription's card replacement. Back from a
    SetupIntent (``?status=succeeded``) it applies the outcome at once (the intent's re-check,
    ``provider_payment_sync``) and sends the buyer on to the return URL."""
    payment = billing_selectors.stripe_payment(attempt_id)
    update = billing_selectors.stripe_card_update(attempt_id) if payment is None else None
    if payment is not None:
        order = payment.order
    elif update is not None:
        order = update.subscription.order
    else:
        raise Http404("Payment not found")
    session = order.session
    if session.store.deleted_at is not None:
        raise Http404("Payment not found")
    if payment is not None and (
        order.status != OrderStatus.PENDING
        or payment.status == PaymentStatus.SUCCEEDED
        or _is_expired(session)
    ):
        return HttpResponseRedirect(_stripe_return_url(payment))  # that page says what became of it
    try:
        data = billing_services.stripe_page_data(attempt_id)
    except NotFound:
        raise Http404("Payment not found") from None
    except PancakeError:
        if payment is None:
            raise
        return _payment_page(request, session, order, payment, provider_down=True)
    if update is not None and (
        request.GET.get("status") == "succeeded" or update.status == update.Status.SUCCEEDED
    ):
        try:
            billing_services.provider_payment_sync(
                environment=update.environment, attempt_id=str(update.pk)
            )
        except PancakeError:
            pass  # the webhook applies it; the portal shows the card once it has
        return HttpResponseRedirect(_with_outcome(data["returnUrl"], data["intentId"]))
    if payment is not None and data["status"] in STRIPE_PAID_INTENT:
        return HttpResponseRedirect(_stripe_return_url(payment, status="succeeded"))
    page_url = reverse("checkout:stripe-pay", args=[attempt_id])
    lang = page_language(request, session)
    if update is not None and "lang" not in request.GET and data.get("locale"):
        lang = (data["locale"], False)  # the language the portal asked for
    with translation.override(languages.to_django(lang[0])):
        if payment is not None:
            button = _stripe_button(payment)
            return_url = _stripe_return_url(payment, status="succeeded")
            back_url = _stripe_return_url(payment)
            summary = _order_summary(session, order)
        else:
            button = _("Save card")
            return_url = page_url + "?status=succeeded"
            back_url = data["returnUrl"]
            summary = None
        context = {
            "order": order,
            "payment": payment,
            "summary": summary,
            "lines": (data.get("display") or {}).get("lines") or [],
            "saves_card": data["kind"] == "setup",
            "replaces_card": update is not None,
            "page_url": page_url,
            "stripe_js_url": data.get("jsUrl") or stripe_js_url(),
            "stripe": {
                "key": data["publishableKey"],
                "kind": data["kind"],
                "clientSecret": data["clientSecret"],
                "confirmUrl": reverse("checkout:stripe-confirm", args=[attempt_id]),
                "returnUrl": return_url,
                "locale": lang[0],  # Stripe.js knows all seven checkout languages
                "style": _stripe_style(session),
                "email": order.buyer_email,
                "messages": _stripe_messages(),
            },
            "button": button,
            "back_url": back_url,
        }
    response = _render(request, session, "checkout/stripe_pay.html", context, lang=lang)
    response["Content-Security-Policy"] = _stripe_csp(_look(session)["brand_css_hash"])
    return response


@never_cache
@require_POST
def stripe_confirm(request, attempt_id: uuid.UUID):
    """The page's script posts the card's PaymentMethod id here (with the page's CSRF token):
    ``{"paymentMethod": "pm_…"}`` → ``{"status": "succeeded"|"requires_action"|"failed", …}``;
    ``requires_action`` carries the intent's ``clientSecret`` for Stripe.js's 3-D Secure step,
    ``failed`` the decline in the page's language (``message``)."""
    payment = _stripe_payment_or_404(attempt_id)
    session = payment.order.session
    language, _chosen = page_language(request, session)
    try:
        ratelimit.hit(
            f"stripe-confirm:{payment.pk}",
            *ratelimit.bucket_of((STRIPE_CONFIRMS_PER_HOUR, 3600, STRIPE_CONFIRMS_PER_HOUR)),
        )
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise InvalidInput("Invalid JSON body") from None
        method = body.get("paymentMethod") if isinstance(body, dict) else None
        if not method or not isinstance(method, str):
            raise InvalidInput("Missing required field: paymentMethod", field="paymentMethod")
        answer = billing_services.stripe_confirm(payment.pk, method)
    except PancakeError as exc:
        return envelope.error_response(exc)
    status = answer.get("status")
    data = {"status": status}
    if status in STRIPE_PAID_INTENT:
        # Paid: apply it now rather than wait for Stripe's webhook.
        try:
            billing_services.provider_payment_sync(
                environment=payment.environment, attempt_id=str(payment.pk)
            )
        except PancakeError:
            pass  # the checkout page asks again
        data["status"] = "succeeded"
        data["returnUrl"] = _stripe_return_url(payment, status="succeeded")
    elif status == "requires_action":
        data["clientSecret"] = answer.get("clientSecret") or ""
    else:
        code = answer.get("failureCode") or "card_declined"
        if code in STRIPE_AUTHENTICATION_CODES:
            code = "authentication_failed"
        with translation.override(languages.to_django(language)):
            data.update(status="failed", code=code, message=failure_reason(code))
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response
