"""The dashboard's subscription pages: the list of the header's environment (filters in the GET
parameters, counts per status, the listed subscriptions' MRR), and one subscription's detail
(plan, periods, billing history with each charge's invoice, payment method, events, a scheduled
plan change, the test clock) with its actions, each one call of
``billing.subscriptions.lifecycle`` or ``testclock``: cancel at the period end, cancel now (after
a confirmation step), pause, resume, undo a cancel, and in test mode "Advance clock".

Members see the pages without action buttons; the services refuse their forced POSTs (403),
which the page says in its own words. A refusal shows beside the action's form, chosen by the
error's ``field`` and ``code``, never by its text. Another store's subscription is 404."""

from __future__ import annotations

import copy
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from billing import forms
from billing.invoices import selectors as invoice_selectors
from billing.models import SubscriptionStatus
from billing.subscriptions import lifecycle, testclock
from billing.subscriptions import selectors as subscription_selectors
from pancake.api.errors import Forbidden, NotFound, PancakeError
from pancake.models import Environment
from products import selectors as product_selectors
from products.models import BillingPeriod, ProductKind
from stores.context_processors import current_environment
from stores.dashboard import (
    confirm_page,
    dashboard_actor,
    page,
    show_error,
    store_context,
    store_page,
)
from stores.models import Role
from stores.selectors import has_role

PAGE_SIZE = 25
NAV = "subscriptions"
S = SubscriptionStatus

# The services' refusals in the page's words (and language), by the error's code.
REFUSALS = {
    Forbidden.code: gettext_lazy(
        "Only owners and admins can change subscriptions. You can see them but not change them."
    ),
    "not_cancelable": gettext_lazy("This subscription is already canceled."),
    "not_canceling": gettext_lazy("Only a subscription that is canceling can be reactivated."),
    "unpaid_balance": gettext_lazy(
        "This subscription has an unpaid balance and cannot be reactivated."
    ),
    "not_active": gettext_lazy("Only an active subscription can be paused."),
    "not_paused": gettext_lazy("Only a paused subscription can be resumed."),
    "test_mode_only": gettext_lazy("Test clocks are available in test mode only."),
    "not_started": gettext_lazy(
        "The subscription has not started: its first payment is still pending."
    ),
    "not_later": gettext_lazy("Choose a time later than the subscription's clock."),
    "too_far": gettext_lazy("Choose a time at most 2 years after the subscription's clock."),
    "conflict": gettext_lazy("The subscription is busy. Try again in a moment."),
}
PURPOSES = {
    "": gettext_lazy("Checkout"),
    "first": gettext_lazy("First payment"),
    "renewal": gettext_lazy("Renewal"),
    "plan_change": gettext_lazy("Plan change"),
}
PER_PERIOD = {
    BillingPeriod.WEEKLY: gettext_lazy("per week"),
    BillingPeriod.MONTHLY: gettext_lazy("per month"),
    BillingPeriod.QUARTERLY: gettext_lazy("per 3 months"),
    BillingPeriod.YEARLY: gettext_lazy("per year"),
}
ACTIONS = ("cancel", "cancel_now", "pause", "resume", "reactivate")


def _can_manage(store) -> bool:
    """Whether the page offers the action buttons (the services decide what is allowed)."""
    return has_role(store.caller_role, Role.ADMIN)


def _in_page_words(exc: PancakeError) -> PancakeError:
    """The refusal with the page's own message for its code (the same field, code, status)."""
    text = REFUSALS.get(exc.code)
    if text is None:
        return exc
    refusal = copy.copy(exc)
    refusal.args = (str(text),)
    return refusal


def interval_label(period: str) -> str:
    """The interval's name ("Monthly" …) in the viewer's language."""
    return BillingPeriod(period).label if period in BillingPeriod.values else period


def next_billing_at(subscription):
    """When the subscription is next charged as things stand: the current period's end while
    active, the trial's end while trialing; None otherwise (past due ones wait for a retry,
    canceling, paused and ended ones for nothing)."""
    if subscription.status == S.ACTIVE:
        return subscription.current_period_end
    if subscription.status == S.TRIALING:
        return subscription.trial_end_at or subscription.current_period_end
    return None


# --- the list ------------------------------------------------------------------------------------


@store_page
@require_http_methods(["GET"])
def subscription_list(request, store):
    environment = current_environment(request)
    products = [
        (p.pk, (p.version_for(environment) or p.test_version).name)
        for p in product_selectors.product_list(
            store=store, environment=environment, kind=ProductKind.SUBSCRIPTION
        )
    ]
    filter_form = forms.SubscriptionFilterForm(request.GET or None, products=products)
    filters = filter_form.filters()
    listed = subscription_selectors.subscription_list(
        store=store, environment=environment, filters=filters
    )
    page_obj = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "subscription": s,
            "interval": interval_label(s.billing_period),
            "next_billing_at": next_billing_at(s),
        }
        for s in page_obj.object_list
    ]
    counts = subscription_selectors.subscription_status_counts(
        store=store, environment=environment, filters=filters
    )
    status_links = [
        {
            "status": status,
            "label": status.label,
            "count": counts[status],
            "query": _with_params(request, status=status.value),
            "current": filters.status == status.value,
        }
        for status in subscription_selectors.LISTED_STATUSES
    ]
    context = store_context(
        request,
        store,
        NAV,
        filter_form=filter_form,
        filtered=any((filters.status, filters.product_id, filters.interval, filters.email)),
        current_status=filters.status,
        page_obj=page_obj,
        rows=rows,
        status_links=status_links,
        all_count=sum(counts.values()),
        all_query=_with_params(request, status=None),
        mrr=subscription_selectors.subscription_mrr(listed),
    )
    return page(request, "dashboard/subscriptions.html", context)


def _with_params(request, **changes) -> str:
    """This page's query string with ``changes`` (None removes a parameter), back on page 1."""
    params = request.GET.copy()
    params.pop("page", None)
    for name, value in changes.items():
        params.pop(name, None)
        if value is not None:
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


# --- the detail ----------------------------------------------------------------------------------


def _detail_url(store, order_id, fragment: str = "") -> str:
    url = reverse("dashboard:subscription", args=[store.pk, order_id])
    return url + (f"#{fragment}" if fragment else "")


def _detail_or_404(request, store, order_id):
    try:
        return subscription_selectors.subscription_detail(
            dashboard_actor(request), order_id, store_id=store.pk
        )
    except NotFound:
        raise Http404("Subscription not found") from None


def _check_in_store(request, store, order_id) -> None:
    """404 unless the page's store has this subscription in the header's environment (before
    any service runs: an owner of two stores must not act on one through the other's URL)."""
    try:
        subscription_selectors.access_store_subscription(
            dashboard_actor(request), order_id, store_id=store.pk
        )
    except NotFound:
        raise Http404("Subscription not found") from None


def _suggested_clock_time(subscription, clock_time):
    """Where the "Advance clock" form starts: just after the next charge, retry or end of a
    canceling period, else a day ahead."""
    s = subscription
    upcoming = {
        S.ACTIVE: s.current_period_end,
        S.TRIALING: s.trial_end_at or s.current_period_end,
        S.PAST_DUE: s.next_retry_at,
        S.CANCELING: s.cancel_at or s.current_period_end,
    }.get(s.status)
    if upcoming is not None and upcoming > clock_time:
        return upcoming + timedelta(minutes=1)
    return clock_time + timedelta(days=1)


def _method(details: dict) -> dict | None:
    """What the page shows of a saved method: type, brand, last 4, expiry (MM/YYYY)."""
    if not details:
        return None
    month, year = details.get("expMonth"), details.get("expYear")
    return {
        "type": details.get("type") or "",
        "brand": details.get("brand") or "",
        "last4": details.get("last4") or "",
        "expiry": f"{str(month):0>2}/{year}" if month and year else "",
    }


def _detail_page(request, store, detail, *, failed=None, clock_form=None, status: int = 200):
    """The detail page; ``failed`` is the (name, form) of an action the service refused."""
    subscription = detail.subscription
    state = subscription.status
    can_manage = _can_manage(store)
    action_forms = {name: forms.SubscriptionActionForm() for name in ACTIONS}
    available = {
        "cancel": state in (S.ACTIVE, S.TRIALING, S.PAST_DUE),
        "cancel_now": state not in (S.CANCELED, S.EXPIRED, S.PENDING),
        "pause": state == S.ACTIVE,
        "resume": state == S.PAUSED,
        "reactivate": state == S.CANCELING,
    }
    if failed is not None:
        action_forms[failed[0]] = failed[1]
    is_test = detail.order.environment == Environment.TEST
    if clock_form is None and is_test and detail.clock_time is not None:
        suggested = _suggested_clock_time(subscription, detail.clock_time)
        clock_form = forms.AdvanceClockForm(
            initial={"advance_to": suggested.strftime("%Y-%m-%dT%H:%M:%S")}
        )
    invoices = invoice_selectors.invoices_of_payments(p.pk for p in detail.payments)
    payments = [
        {
            "payment": p,
            "invoice": invoices.get(p.pk),
            "purpose": PURPOSES.get(p.purpose, p.purpose),
            "try": p.attempt + 1 if p.attempt is not None else None,
            "at": p.paid_at or p.created_at,
        }
        for p in detail.payments
    ]
    context = store_context(
        request,
        store,
        NAV,
        detail=detail,
        order=detail.order,
        subscription=subscription,
        version=subscription.version,
        interval=interval_label(subscription.billing_period),
        per_period=PER_PERIOD.get(subscription.billing_period, ""),
        next_billing_at=next_billing_at(subscription),
        payments=payments,
        method=_method(subscription.payment_method_details),
        method_type=subscription.payment_method,
        is_test=is_test,
        can_manage=can_manage,
        action_forms=action_forms,
        # A refused action without a button on the page (a member's forced POST, or the
        # subscription moved on meanwhile) is said above the actions.
        hidden_refusal=(
            failed[1] if failed and not (can_manage and available[failed[0]]) else None
        ),
        **{f"can_{name}": shown for name, shown in available.items()},
        clock_form=clock_form,
    )
    return page(request, "dashboard/subscription_detail.html", context, status)


@store_page
@require_http_methods(["GET"])
def subscription_detail(request, store, order_id):
    return _detail_page(request, store, _detail_or_404(request, store, order_id))


def _act(request, store, order_id, name: str, run, done: str):
    """Run one action's service for the page's subscription: on success back to the detail with
    ``done``; a refusal is the detail again with the message above the action's button."""
    _check_in_store(request, store, order_id)
    form = forms.SubscriptionActionForm(request.POST)
    try:
        run(actor=dashboard_actor(request), order_id=order_id)
    except PancakeError as exc:
        status = show_error(form, _in_page_words(exc))
        detail = _detail_or_404(request, store, order_id)
        return _detail_page(request, store, detail, failed=(name, form), status=status)
    messages.success(request, done)
    return redirect(_detail_url(store, order_id))


@store_page
@require_POST
def subscription_cancel(request, store, order_id):
    return _act(
        request,
        store,
        order_id,
        "cancel",
        lifecycle.cancel,
        _("The subscription will be canceled at the end of its current period."),
    )


@store_page
@require_http_methods(["GET", "POST"])
def subscription_cancel_now(request, store, order_id):
    if request.method == "GET":
        detail = _detail_or_404(request, store, order_id)
        ended = detail.subscription.status in (S.CANCELED, S.EXPIRED)
        if ended or not _can_manage(store):  # members get no cancel button, not even here
            return redirect(_detail_url(store, order_id))
        return confirm_page(
            request,
            store,
            NAV,
            title=_("Cancel this subscription now?"),
            message=_(
                "%(email)s loses %(product)s at once and is not charged again. The current "
                "period is not refunded. This cannot be undone."
            )
            % {"email": detail.order.buyer_email, "product": detail.subscription.version.name},
            button=_("Cancel subscription now"),
            cancel_url=_detail_url(store, order_id),
        )
    return _act(
        request,
        store,
        order_id,
        "cancel_now",
        lifecycle.cancel_now,
        _("The subscription is canceled."),
    )


@store_page
@require_POST
def subscription_pause(request, store, order_id):
    return _act(
        request,
        store,
        order_id,
        "pause",
        lifecycle.pause,
        _("The subscription is paused: it is not charged until you resume it."),
    )


@store_page
@require_POST
def subscription_resume(request, store, order_id):
    return _act(
        request,
        store,
        order_id,
        "resume",
        lifecycle.resume,
        _("The subscription is active again."),
    )


@store_page
@require_POST
def subscription_reactivate(request, store, order_id):
    return _act(
        request,
        store,
        order_id,
        "reactivate",
        lifecycle.reactivate,
        _("The cancellation is undone: the subscription renews as before."),
    )


@store_page
@require_POST
def subscription_advance_clock(request, store, order_id):
    _check_in_store(request, store, order_id)
    form = forms.AdvanceClockForm(request.POST)
    if form.is_valid():
        try:
            testclock.advance(
                actor=dashboard_actor(request),
                order_id=order_id,
                advance_to=form.cleaned_data["advance_to"],
            )
        except PancakeError as exc:
            status = show_error(form, _in_page_words(exc))
        else:
            messages.success(request, _("The test clock was advanced."))
            return redirect(_detail_url(store, order_id, "test-clock"))
    else:
        status = 400
    detail = _detail_or_404(request, store, order_id)
    return _detail_page(request, store, detail, clock_form=form, status=status)
