"""The merchant's side of the portal, in the dashboard: a single-use portal link for a
payment's or a customer's buyer (the same service as ``customer/create-portal-link``), shown
once on the payment's or customer's page to hand to the customer."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.customers import selectors as customer_selectors
from billing.selectors import access_payment
from pancake.api.errors import PancakeError
from portal import services
from stores.context_processors import current_environment
from stores.dashboard import dashboard_actor, store_page


@store_page
@require_POST
def portal_link(request, store, payment_id):
    actor = dashboard_actor(request)
    try:
        payment = access_payment(actor, payment_id)
    except PancakeError:
        raise Http404("Payment not found") from None
    if payment.store_id != store.pk:
        raise Http404("Payment not found")
    url, _expires_at = services.merchant_link_create(
        actor=actor, store_id=store.pk, buyer_email=payment.order.buyer_email
    )
    messages.success(
        request,
        _("Customer portal link for %(email)s (it works once, within 15 minutes): %(url)s")
        % {"email": payment.order.buyer_email, "url": url},
    )
    return redirect("dashboard:payment", store.pk, payment.pk)


@store_page
@require_POST
def customer_portal_link(request, store, order_id):
    """The same link from a customer's page (the customer is one of the store's orders' buyer
    in the header's environment)."""
    actor = dashboard_actor(request)
    email = customer_selectors.email_of_order(
        store=store, environment=current_environment(request), order_id=order_id
    )
    if email is None:
        raise Http404("Customer not found")
    try:
        url, _expires_at = services.merchant_link_create(
            actor=actor, store_id=store.pk, buyer_email=email
        )
    except PancakeError:
        raise Http404("Customer not found") from None
    messages.success(
        request,
        _("Customer portal link for %(email)s (it works once, within 15 minutes): %(url)s")
        % {"email": email, "url": url},
    )
    return redirect("dashboard:customer", store.pk, order_id)
