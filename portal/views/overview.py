"""The portal's overview: what the buyer has here at a glance."""

from __future__ import annotations

from billing.models import SubscriptionStatus
from portal import selectors
from portal.views.base import render_page

ATTENTION = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.CANCELING)


def overview(request, store, session, actor):
    orders = selectors.buyer_orders(actor)
    subscriptions = selectors.buyer_subscriptions(actor)
    context = {
        "order_count": orders.count(),
        "subscription_count": subscriptions.count(),
        "invoice_count": selectors.buyer_invoices(actor).count(),
        "attention": [s for s in subscriptions if s.status in ATTENTION],
        "return_url": session.return_url,
        "nav": "overview",
    }
    return render_page(
        request,
        store,
        "portal/overview.html",
        context,
        environment=session.environment,
        session=session,
    )
