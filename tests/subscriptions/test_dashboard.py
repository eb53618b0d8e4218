"""The dashboard's subscription pages through Django's test client: the list of the header's
environment (columns, filters in the GET parameters, counts per status, the MRR of the listed
subscriptions, pages) and one subscription's detail with its actions (cancel at the period end,
cancel now after a confirmation, pause, resume, undo a cancel, the test clock); another store's
subscription is 404, a member sees no buttons and a forced POST is 403."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Payment, PlanChange, PlanChangeTiming, Subscription, SubscriptionStatus
from billing.subscriptions import lifecycle
from checkout.models import OrderStatus
from pancake.models import OutboxEvent
from stores import services as store_services
from stores.models import Role
from tests.factories import MembershipFactory, MerchantFactory, OrderFactory, ProductFactory
from tests.html_checks import alerts, field_errors, unlabelled_controls
from tests.subscriptions.helpers import at, refresh, subscribe, utc

pytestmark = pytest.mark.django_db

S = SubscriptionStatus
LIST_QUERIES = 10


# --- helpers ------------------------------------------------------------------------------------


def make(product, *, email="buyer@example.com", status=None, environment="test", trial=False):
    """A subscription of ``product`` started as a first payment starts it (made from factory
    rows: fast enough for dozens; ``trial``: bought with its trial), then moved to ``status``
    through the lifecycle's setter."""
    order = OrderFactory(
        product=product,
        paid=True,
        buyer_email=email,
        environment=environment,
        session__with_trial=True if trial else None,
    )
    payment = order.payments.get()
    subscription = lifecycle.start(order=order, payment=payment)
    if status is not None and status != subscription.status:
        order = subscription.order
        if status == S.CANCELING:
            subscription.cancel_at = subscription.current_period_end
        if status == S.PAUSED:
            subscription.paused_at = subscription.current_period_start
        lifecycle.set_status(subscription, order, status, at=subscription.current_period_start)
    return subscription


def list_url(store, **params):
    url = reverse("dashboard:subscriptions", args=[store.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def detail_url(store, subscription, action=None):
    if action is None:
        return reverse("dashboard:subscription", args=[store.pk, subscription.order_id])
    return reverse(f"dashboard:subscription-{action}", args=[store.pk, subscription.order_id])


def listed(response) -> list[str]:
    """The order ids of the rows shown, in order."""
    return re.findall(r'data-subscription="([0-9a-f-]+)"', response.content.decode())


def counts(response) -> dict[str, int]:
    html = response.content.decode()
    found = re.findall(r'data-status="(\w+)"[^>]*>[^<]*<span class="badge[^"]*">(\d+)</span>', html)
    return {status: int(n) for status, n in found}


def mrr(response) -> dict[str, str]:
    html = response.content.decode()
    return dict(re.findall(r'<span class="mrr" data-currency="(\w+)">([^<]+)</span>', html))


def row_of(response, subscription) -> str:
    html = response.content.decode()
    match = re.search(rf'<tr id="subscription-{subscription.order_id}".*?</tr>', html, re.S)
    assert match, f"no row for {subscription.order_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).strip()


@pytest.fixture(autouse=True)
def _long_sessions(settings):
    """Sign-ins outlive the years the tests travel through (time-machine)."""
    settings.SESSION_COOKIE_AGE = 20 * 365 * 24 * 3600


@pytest.fixture
def owner_page(client, merchant, store):
    """The store's owner, signed in to the dashboard (test mode)."""
    client.force_login(merchant)
    return client


@pytest.fixture
def plan(store):
    return ProductFactory(store=store, subscription=True)


# --- the list -----------------------------------------------------------------------------------


def test_nav_links_to_the_subscriptions_page(owner_page, store):
    html = owner_page.get(reverse("dashboard:store", args=[store.pk])).content.decode()
    assert f'href="{list_url(store)}">Subscriptions</a>' in html
    response = owner_page.get(list_url(store))
    assert response.status_code == 200
    assert f'href="{list_url(store)}" aria-current="page">Subscriptions</a>' in (
        response.content.decode()
    )


def test_list_shows_customer_product_status_interval_amount_next_billing_and_created(
    owner_page, store, plan
):
    with at(utc(2027, 1, 15, 9)):
        active = make(plan, email="ann@example.com")
        trial_plan = ProductFactory(store=store, trial=True, name="Trial Plan")
        trialing = make(trial_plan, email="tom@example.com", trial=True)
        canceled = make(plan, email="cat@example.com", status=S.CANCELED)
    assert trialing.status == S.TRIALING
    assert trialing.trial_end_at == utc(2027, 1, 22, 9)
    response = owner_page.get(list_url(store))
    assert response.status_code == 200
    assert set(listed(response)) == {str(s.order_id) for s in (active, trialing, canceled)}
    row = row_of(response, active)
    for text in (
        "ann@example.com",
        "Pro Plan",
        "Active",
        "Monthly",
        "$9.99",
        "Feb. 15, 2027",
        "Jan. 15, 2027",
    ):
        assert text in row
    assert "Jan. 22, 2027" in row_of(response, trialing)  # the trial's end
    assert "Trialing" in row_of(response, trialing)
    canceled_row = row_of(response, canceled)
    assert "Canceled" in canceled_row
    assert "—" in canceled_row
    assert unlabelled_controls(response.content.decode()) == []


def test_filters_by_status_product_interval_and_email_from_the_query_string(
    owner_page, store, plan
):
    yearly = ProductFactory(
        store=store, subscription=True, name="Yearly Plan", billing_period="yearly"
    )
    ann = make(plan, email="ann@example.com")
    bob = make(plan, email="bob@example.com", status=S.PAUSED)
    cat = make(yearly, email="cat@example.com")
    dan = make(yearly, email="dan@shop.example", status=S.PAST_DUE)

    def ids(*subs):
        return sorted(str(s.order_id) for s in subs)

    assert sorted(listed(owner_page.get(list_url(store)))) == ids(ann, bob, cat, dan)
    assert listed(owner_page.get(list_url(store, status="paused"))) == ids(bob)
    assert sorted(listed(owner_page.get(list_url(store, product=yearly.pk)))) == ids(cat, dan)
    assert sorted(listed(owner_page.get(list_url(store, interval="monthly")))) == ids(ann, bob)
    assert listed(owner_page.get(list_url(store, email="SHOP.example"))) == ids(dan)
    assert listed(owner_page.get(list_url(store, product=yearly.pk, status="active"))) == ids(cat)
    assert listed(owner_page.get(list_url(store, status="canceled"))) == []

    # A bad value is shown beside its filter and ignored; the other filters still apply.
    response = owner_page.get(list_url(store, status="bogus", interval="yearly"))
    assert response.status_code == 200
    assert sorted(listed(response)) == ids(cat, dan)
    assert field_errors(response.content.decode(), "status")


def test_counts_per_status_follow_the_other_filters(owner_page, store, plan):
    weekly = ProductFactory(store=store, subscription=True, name="Weekly", billing_period="weekly")
    make(plan)
    make(plan, status=S.PAUSED)
    make(plan, status=S.PAST_DUE)
    make(weekly)
    make(weekly, status=S.CANCELED)
    response = owner_page.get(list_url(store))
    assert counts(response) == {
        "trialing": 0,
        "active": 2,
        "past_due": 1,
        "canceling": 0,
        "canceled": 1,
        "expired": 0,
        "paused": 1,
    }
    # The status filter narrows the rows, not the counts; the other filters narrow both.
    response = owner_page.get(list_url(store, status="active", interval="weekly"))
    assert counts(response)["active"] == 1
    assert counts(response)["canceled"] == 1
    assert counts(response)["paused"] == 0
    assert len(listed(response)) == 1


def test_mrr_of_the_listed_subscriptions_per_currency(owner_page, store):
    def product(period, amount, currency="USD"):
        return ProductFactory(
            store=store,
            subscription=True,
            name=f"{period} {currency}",
            billing_period=period,
            prices={currency: {"amount": amount, "taxCategory": "saas"}},
        )

    make(product("weekly", 1000))  # 43.30
    make(product("monthly", 999))  # 9.99
    make(product("quarterly", 3001))  # 10.003 -> 10.00
    make(product("yearly", 12006), status=S.PAST_DUE)  # 10.005 -> 10.01 (half up)
    make(product("monthly", 500), status=S.CANCELING)  # still charged this period: 5.00
    make(product("monthly", 700), status=S.PAUSED)  # not counted
    make(product("monthly", 800), status=S.CANCELED)  # not counted
    make(product("monthly", 4500, "JPY"))  # its own currency
    response = owner_page.get(list_url(store))
    # 4330 + 999 + 1000.333 + 1000.5 + 500 = 7829.833 -> 7830
    assert mrr(response) == {"JPY": "¥4,500", "USD": "$78.30"}
    assert mrr(owner_page.get(list_url(store, interval="weekly"))) == {"USD": "$43.30"}
    assert mrr(owner_page.get(list_url(store, status="paused"))) == {}


def test_mrr_is_before_tax(owner_page, store):
    product = ProductFactory(
        store=store, subscription=True, prices={"EUR": {"amount": 1000, "taxCategory": "saas"}}
    )
    subscription = make(product)
    assert subscription.tax_amount > 0  # the factory's buyer is taxed
    subscription = Subscription.objects.get(pk=subscription.pk)
    response = owner_page.get(list_url(store))
    assert mrr(response) == {"EUR": f"€{subscription.subtotal / 100:.2f}"}


def test_list_shows_the_environment_of_the_header_toggle(owner_page, store):
    plan = ProductFactory(store=store, subscription=True, published=True)
    in_test = make(plan)
    in_prod = make(plan, environment="prod")
    assert listed(owner_page.get(list_url(store))) == [str(in_test.order_id)]
    owner_page.post(reverse("dashboard:environment"), {"environment": "prod", "next": "/"})
    assert listed(owner_page.get(list_url(store))) == [str(in_prod.order_id)]
    # The detail of the other environment's subscription is not found either.
    assert owner_page.get(detail_url(store, in_test)).status_code == 404


@pytest.mark.parametrize("rows", [1, 30])
def test_list_costs_the_same_statements_at_1_and_30_rows(owner_page, store, plan, rows):
    for n in range(rows):
        make(plan, email=f"b{n}@example.com")
    owner_page.get(list_url(store))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = owner_page.get(list_url(store))
    assert response.status_code == 200
    assert len(listed(response)) == min(rows, 25)
    # session, user, store and role, the products for the filter, the paginator's count, the
    # page's rows with their orders and plans, the counts per status, the MRR, the header's
    # store switcher
    assert len(queries) == LIST_QUERIES, [q["sql"] for q in queries.captured_queries]


def test_list_is_paginated_keeping_the_filters(owner_page, store, plan):
    for n in range(27):
        make(plan, email=f"b{n}@example.com")
    first = owner_page.get(list_url(store, status="active"))
    assert len(listed(first)) == 25
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?status=active&amp;page=2"' in first.content.decode()
    second = owner_page.get(list_url(store, status="active", page=2))
    assert len(listed(second)) == 2
    assert not set(listed(first)) & set(listed(second))


# --- the detail ---------------------------------------------------------------------------------


def test_detail_shows_plan_periods_history_method_events_and_test_clock(
    owner_page, api, store, plan, django_capture_on_commit_callbacks
):
    with at(utc(2027, 3, 10, 8)):
        order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
        response = owner_page.get(detail_url(store, subscription))
    assert response.status_code == 200
    html = response.content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Pro Plan" in text
    assert "buyer@example.com" in text
    assert '<span class="badge badge--sub-active" id="subscription-status">Active</span>' in html
    assert "$9.99 per month" in text
    assert re.search(r'id="subscription-period-number">\s*1\s*<', html)
    assert "March 10, 2027" in text and "April 10, 2027" in text
    # The billing history: the first payment, period 1, try 1, succeeded.
    [first] = Payment.objects.filter(order=order)
    history = re.search(rf'<tr id="payment-{first.pk}".*?</tr>', html, re.S).group(0)
    # Each charge opens its payment's page (amounts, fee, refunds, the refund form).
    assert f'href="/dashboard/{store.pk}/payments/{first.pk}/"' in history
    history = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", history))
    assert "First payment" in history and "$9.99" in history and "Succeeded" in history
    # The saved card: type, brand, last 4, expiry.
    method = re.search(r'id="payment-method">(.*?)</dl>', html, re.S).group(1)
    method = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", method))
    assert "card" in method and "visa" in method.lower()
    assert "4242" in method and "12/2040" in method
    # The order's events, and the test clock's time.
    for event in OutboxEvent.objects.filter(aggregate_id=order.pk):
        assert event.event_type in html
    assert "subscription.activated" in html
    clock = re.search(r'id="test-clock-time"><time datetime="([^"]+)">([^<]+)<', html)
    assert clock.groups() == ("2027-03-10T08:00:00+00:00", "2027-03-10 08:00:00")
    # The clock form starts just after the period's end.
    assert re.search(r'type="datetime-local"[^>]*value="2027-04-10T08:01:00"', html)
    assert unlabelled_controls(html) == []
    for button in ("Cancel at period end", "Pause subscription", "Advance clock"):
        assert f">{button}</button>" in html
    assert "Cancel now…</a>" in html


def test_detail_shows_a_scheduled_plan_change(owner_page, store, plan):
    subscription = make(plan)
    bigger = ProductFactory(
        store=store,
        subscription=True,
        name="Team Plan",
        prices={"USD": {"amount": 2999, "taxCategory": "saas"}},
    )
    PlanChange.objects.create(
        subscription=subscription,
        from_version=subscription.version,
        to_product=bigger,
        to_version=bigger.test_version,
        timing=PlanChangeTiming.NEXT_PERIOD,
        status=PlanChange.Status.SCHEDULED,
        price_amount=2999,
        tax_category="saas",
        effective_at=subscription.current_period_end,
    )
    html = owner_page.get(detail_url(store, subscription)).content.decode()
    section = re.search(r'id="scheduled-plan-change">(.*?)</section>', html, re.S).group(1)
    assert "From Pro Plan to Team Plan at the end of the current period." in section
    assert "$29.99" in section


def test_detail_of_another_stores_subscription_is_404(client, merchant, store, plan):
    subscription = make(plan)
    other = MerchantFactory()
    other_store = store_services.store_create(merchant=other, name="Other Shop")
    client.force_login(other)
    assert client.get(detail_url(other_store, subscription)).status_code == 404
    assert client.get(detail_url(store, subscription)).status_code == 404
    assert client.post(detail_url(store, subscription, "pause")).status_code == 404
    # The owner of this store, an admin of the other, cannot reach it through the other's URL.
    MembershipFactory(store=other_store, merchant=merchant, role=Role.ADMIN)
    client.force_login(merchant)
    assert client.get(detail_url(store, subscription)).status_code == 200
    assert client.get(detail_url(other_store, subscription)).status_code == 404
    for action in ("cancel", "cancel-now", "pause", "advance-clock"):
        url = detail_url(other_store, subscription, action)
        response = client.post(url, {"advance_to": "2030-01-01T00:00"})
        assert response.status_code == 404, action
    assert refresh(subscription).status == S.ACTIVE
    assert refresh(subscription).clock_offset == timedelta(0)


def test_a_one_time_order_is_not_a_subscription(owner_page, store):
    order = OrderFactory(product=ProductFactory(store=store), paid=True)
    url = reverse("dashboard:subscription", args=[store.pk, order.pk])
    assert owner_page.get(url).status_code == 404


def test_a_member_sees_no_buttons_and_a_forced_post_is_403(client, store, plan):
    subscription = make(plan)
    member = MerchantFactory(email="member@example.com")
    MembershipFactory(store=store, merchant=member, role=Role.MEMBER)
    client.force_login(member)
    html = client.get(detail_url(store, subscription)).content.decode()
    assert "You are a member of this store" in html
    assert "<button" not in html.split('id="main"')[1].split("</main>")[0]
    assert "Cancel now" not in html
    # The confirmation step sends a member back to the detail.
    response = client.get(detail_url(store, subscription, "cancel-now"))
    assert response.status_code == 302
    for action in ("cancel", "cancel-now", "pause"):
        response = client.post(detail_url(store, subscription, action))
        assert response.status_code == 403, action
        assert alerts(response.content.decode()) == [
            "Only owners and admins can change subscriptions. You can see them but not change them."
        ]
    response = client.post(
        detail_url(store, subscription, "advance-clock"), {"advance_to": "2035-01-01T00:00"}
    )
    assert response.status_code == 403
    subscription = refresh(subscription)
    assert subscription.status == S.ACTIVE
    assert subscription.clock_offset == timedelta(0)


def test_an_admin_may_act(client, store, plan):
    subscription = make(plan)
    admin = MerchantFactory(email="admin@example.com")
    MembershipFactory(store=store, merchant=admin, role=Role.ADMIN)
    client.force_login(admin)
    response = client.post(detail_url(store, subscription, "pause"))
    assert response.status_code == 302
    assert refresh(subscription).status == S.PAUSED


# --- the actions ---------------------------------------------------------------------------------


def _events(subscription) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=subscription.order_id)
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )


def test_cancel_at_period_end(owner_page, store, plan):
    subscription = make(plan)
    response = owner_page.post(detail_url(store, subscription, "cancel"))
    assert response.status_code == 302
    assert response["Location"] == detail_url(store, subscription)
    subscription = refresh(subscription)
    assert subscription.status == S.CANCELING
    assert subscription.cancel_at == subscription.current_period_end
    assert subscription.order.status == OrderStatus.CANCELING
    assert _events(subscription)[-1] == "subscription.canceling"
    html = owner_page.get(response["Location"]).content.decode()
    assert "The subscription will be canceled at the end of its current period." in html
    assert "Undo cancellation" in html
    assert "Cancel at period end</button>" not in html


def test_cancel_now_asks_first_then_ends_the_subscription(owner_page, store, plan):
    subscription = make(plan)
    confirm = owner_page.get(detail_url(store, subscription, "cancel-now"))
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Cancel this subscription now?" in html
    assert ">Cancel subscription now</button>" in html
    assert 'method="post"' in html
    assert refresh(subscription).status == S.ACTIVE  # nothing happened yet
    response = owner_page.post(detail_url(store, subscription, "cancel-now"))
    assert response.status_code == 302
    subscription = refresh(subscription)
    assert subscription.status == S.CANCELED
    assert subscription.ended_at is not None
    assert subscription.order.status == OrderStatus.CANCELED
    assert _events(subscription)[-1] == "subscription.canceled"


def test_pause_then_resume(owner_page, store, plan):
    with at(utc(2027, 1, 1)):
        subscription = make(plan)
    with at(utc(2027, 1, 11)):
        assert owner_page.post(detail_url(store, subscription, "pause")).status_code == 302
    subscription = refresh(subscription)
    assert subscription.status == S.PAUSED
    assert subscription.due_at is None  # not charged while paused
    html = owner_page.get(detail_url(store, subscription)).content.decode()
    assert "Resume subscription</button>" in html
    assert "Pause subscription</button>" not in html
    with at(utc(2027, 1, 21)):
        assert owner_page.post(detail_url(store, subscription, "resume")).status_code == 302
    subscription = refresh(subscription)
    assert subscription.status == S.ACTIVE
    # Ten days paused: the next billing date moves by ten days.
    assert subscription.current_period_end == utc(2027, 2, 11)


def test_undo_a_cancellation(owner_page, store, plan):
    subscription = make(plan)
    owner_page.post(detail_url(store, subscription, "cancel"))
    response = owner_page.post(detail_url(store, subscription, "reactivate"))
    assert response.status_code == 302
    assert refresh(subscription).status == S.ACTIVE
    assert _events(subscription)[-1] == "subscription.uncanceled"


def test_a_refused_action_shows_beside_its_button(owner_page, store, plan):
    subscription = make(plan, status=S.CANCELED)
    response = owner_page.post(detail_url(store, subscription, "pause"))
    assert response.status_code == 400
    html = response.content.decode()
    assert alerts(html) == ["Only an active subscription can be paused."]
    assert refresh(subscription).status == S.CANCELED


def test_a_refusal_shows_above_the_button_it_came_from(owner_page, store, plan):
    subscription = make(plan, status=S.CANCELING)
    Subscription.objects.filter(pk=subscription.pk).update(failed_attempts=1)  # never paid
    response = owner_page.post(detail_url(store, subscription, "reactivate"))
    assert response.status_code == 400
    html = response.content.decode()
    form = re.search(r'<form[^>]*id="action-reactivate">(.*?)</form>', html, re.S).group(1)
    assert alerts(form) == ["This subscription has an unpaid balance and cannot be reactivated."]
    assert alerts(html) == alerts(form)
    assert refresh(subscription).status == S.CANCELING


def test_an_ended_subscription_offers_no_cancel_now(owner_page, store, plan):
    subscription = make(plan, status=S.CANCELED)
    html = owner_page.get(detail_url(store, subscription)).content.decode()
    assert "Cancel now" not in html
    assert "This subscription has ended: nothing more can be done with it." in html
    response = owner_page.get(detail_url(store, subscription, "cancel-now"))
    assert response.status_code == 302
    response = owner_page.post(detail_url(store, subscription, "cancel-now"))
    assert response.status_code == 400
    assert alerts(response.content.decode()) == ["This subscription is already canceled."]


def test_a_refused_action_is_said_in_the_viewers_language(owner_page, store, plan):
    subscription = make(plan, status=S.PAUSED)
    response = owner_page.post(detail_url(store, subscription, "pause"), HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 400
    assert alerts(response.content.decode()) == [
        "一時停止できるのは有効なサブスクリプションのみです。"
    ]


def test_advance_clock_runs_the_renewal_that_falls_due(
    owner_page, api, store, plan, django_capture_on_commit_callbacks
):
    with at(utc(2027, 1, 15, 9)):
        _order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            response = owner_page.post(
                detail_url(store, subscription, "advance-clock"), {"advance_to": "2027-02-15T09:30"}
            )
        assert response.status_code == 302
        assert response["Location"].endswith("#test-clock")
        subscription = refresh(subscription)
        assert subscription.period_number == 2
        assert subscription.current_period_end == utc(2027, 3, 15, 9)
        renewal = Payment.objects.get(subscription=subscription, purpose="renewal")
        assert (renewal.period_number, renewal.status) == (2, "succeeded")
        html = owner_page.get(detail_url(store, subscription)).content.decode()
    assert "The test clock was advanced." in html
    assert ">2027-02-15 09:30:00<" in html
    assert "subscription.renewed" in html
    assert re.search(r'id="subscription-period-number">\s*2\s*<', html)
    history = re.search(rf'<tr id="payment-{renewal.pk}".*?</tr>', html, re.S).group(0)
    assert "Renewal" in history and "Succeeded" in history


def test_advance_clock_refusals_show_beside_the_input(owner_page, store, plan):
    with at(utc(2027, 1, 15, 9)):
        subscription = make(plan)
        url = detail_url(store, subscription, "advance-clock")
        response = owner_page.post(url, {"advance_to": "2027-01-14T09:00"})
        assert response.status_code == 400
        assert field_errors(response.content.decode(), "advance_to") == [
            "Choose a time later than the subscription's clock."
        ]
        response = owner_page.post(url, {"advance_to": "2031-01-14T09:00"})
        assert response.status_code == 400
        assert field_errors(response.content.decode(), "advance_to") == [
            "Choose a time at most 2 years after the subscription's clock."
        ]
        response = owner_page.post(url, {"advance_to": "next tuesday"})
        assert response.status_code == 400
        assert field_errors(response.content.decode(), "advance_to") == ["Enter a date and time."]
    assert refresh(subscription).clock_offset == timedelta(0)


def test_advance_clock_reads_the_input_as_utc(owner_page, store, plan, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    with at(utc(2027, 1, 15, 9)):
        subscription = make(plan)
        owner_page.post(
            detail_url(store, subscription, "advance-clock"), {"advance_to": "2027-01-20T09:00"}
        )
        subscription = refresh(subscription)
        assert subscription.clock_offset == timedelta(days=5)


def test_no_test_clock_in_live_mode(owner_page, store):
    plan = ProductFactory(store=store, subscription=True, published=True)
    subscription = make(plan, environment="prod")
    owner_page.post(reverse("dashboard:environment"), {"environment": "prod", "next": "/"})
    html = owner_page.get(detail_url(store, subscription)).content.decode()
    assert "Test clock" not in html
    assert "Advance clock" not in html
    response = owner_page.post(
        detail_url(store, subscription, "advance-clock"), {"advance_to": "2035-01-01T00:00"}
    )
    assert response.status_code == 403
    assert refresh(subscription).clock_offset == timedelta(0)


# --- languages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "words"),
    [("ja", ("サブスクリプション", "顧客", "次回請求")), ("zh-CN", ("订阅", "客户", "下次扣款"))],
)
def test_pages_are_translated(owner_page, store, plan, accept, words):
    subscription = make(plan)
    html = owner_page.get(list_url(store), HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    for word in words:
        assert word in html
    for english in ("Next billing", "Customer email", "Filter subscriptions"):
        assert english not in html
    html = owner_page.get(detail_url(store, subscription), HTTP_ACCEPT_LANGUAGE=accept).content
    for english in ("Billing history", "Payment method", "Cancel at period end", "Test clock"):
        assert english not in html.decode()
