"""The Finance page: the balance per currency (a refund, an old payment without a frozen fee,
payouts pending and paid: known answers worked out by hand), the income list and its CSV, the
payout setup's three steps (the 6-digit code: wrong, expired, too many tries, resend cooldown;
the account checked and stored masked; the owners told), roles, and the admin's "Mark paid"."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.finance import selectors
from billing.models import Payment, PaymentStatus, Payout, PayoutStatus
from stores.models import Merchant, PayoutSetup, Role
from tests.factories import MembershipFactory, MerchantFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db

# Near the real time: the signed-in session would expire on a trip years ahead.
NOW = datetime.now(UTC).replace(microsecond=0)
OLD = NOW - timedelta(days=19)  # past the 7-day hold
NEW = NOW - timedelta(days=2)  # still held


def charge(product, *, amount, tax, fee, at, status=PaymentStatus.SUCCEEDED, refunded=0):
    order = OrderFactory(product=product, paid=True, buyer_email="ann@example.com")
    payment = order.payments.get()
    Payment.objects.filter(pk=payment.pk).update(
        amount=amount,
        tax_amount=tax,
        fee_amount=fee,
        status=status,
        refunded_amount=refunded,
        created_at=at,
        paid_at=at,
    )
    return payment


@pytest.fixture
def owner(client, merchant):
    client.force_login(merchant)
    return client


@pytest.fixture
def books(store):
    usd = ProductFactory(store=store)
    eur = ProductFactory(store=store, prices={"EUR": {"amount": 3000, "taxCategory": "saas"}})
    charge(usd, amount=11000, tax=1000, fee=600, at=OLD)  # net 9400
    # Half refunded: refunded tax 250, net (5500-2750) - (500-250) - 325 = 2175.
    charge(
        usd,
        amount=5500,
        tax=500,
        fee=325,
        at=OLD,
        status=PaymentStatus.PARTIALLY_REFUNDED,
        refunded=2750,
    )
    charge(usd, amount=2000, tax=0, fee=150, at=NEW)  # net 1850, held
    charge(usd, amount=1000, tax=0, fee=None, at=OLD)  # fee 5% + 0.50 = 100: 900
    charge(usd, amount=9999, tax=0, fee=None, at=OLD, status=PaymentStatus.FAILED)
    charge(eur, amount=3000, tax=0, fee=200, at=OLD)  # net 2800
    for amount, status in ((5000, PayoutStatus.PAID), (1000, PayoutStatus.PENDING)):
        Payout.objects.create(
            store=store,
            environment="test",
            amount=amount,
            currency="USD",
            period_start=date(2027, 2, 1),
            period_end=date(2027, 2, 28),
            status=status,
        )
    return store


def test_balance_per_currency_with_refund_hold_and_payouts(books):
    got = selectors.balance(store=books, environment="test", now=NOW)
    assert [(b.currency, b.total, b.pending, b.available, b.paid_out) for b in got] == [
        ("EUR", 2800, 0, 2800, 0),
        # total 9400 + 2175 + 1850 + 900; pending the 2-day-old charge; available the older
        # ones less both payouts (6000).
        ("USD", 14325, 1850, 14325 - 1850 - 6000, 5000),
    ]


def test_hold_days_follow_the_settings(books, settings):
    settings.PAYOUT_HOLD_DAYS = 30
    usd = next(
        b
        for b in selectors.balance(store=books, environment="test", now=NOW)
        if b.currency == "USD"
    )
    assert (usd.pending, usd.available) == (14325, -6000)


def test_page_shows_balance_income_and_payouts(owner, books):
    with time_machine.travel(NOW, tick=False):
        response = owner.get(reverse("dashboard:finance", args=[books.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    usd = re.search(r'<tr data-currency="USD">.*?</tr>', html, re.S).group(0)
    assert "$143.25" in usd and "$18.50" in usd and "$64.75" in usd and "$50.00" in usd
    assert len(re.findall(r'<tr data-payment="', html)) == 5  # the failed charge is not income
    assert len(re.findall(r'<tr data-payout="', html)) == 2
    assert 'aria-current="page">Finance</a>' in html


def test_income_csv(owner, books):
    response = owner.get(reverse("dashboard:finance-export", args=[books.pk]))
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 5
    refunded = next(r for r in rows if r["gross"] == "55.00")
    assert (refunded["refunded"], refunded["tax"], refunded["fee"], refunded["net"]) == (
        "27.50",
        "2.50",
        "3.25",
        "21.75",
    )


def test_income_pages_by_keyset(owner, books, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    seen = []
    rows, cursor = selectors.income_page(store=books, environment="test")
    seen += rows
    while cursor:
        rows, cursor = selectors.income_page(store=books, environment="test", after=cursor)
        seen += rows
    assert len(seen) == 5 and len({r["id"] for r in seen}) == 5


# --- payout setup ----------------------------------------------------------------------------


def url(store, name):
    return reverse(f"dashboard:finance-payout-{name}", args=[store.pk])


def sent_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


@pytest.fixture
def sent(owner, store, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = owner.post(url(store, "email"), {"email": "Pay@Example.com"})
    assert response.status_code == 302
    return sent_code()


def test_code_is_emailed_and_kept_hashed(store, sent):
    setup = PayoutSetup.objects.get(store=store)
    assert mail.outbox[-1].to == ["pay@example.com"]
    assert setup.contact_email == "pay@example.com"
    assert setup.code_hash and sent not in setup.code_hash and len(setup.code_hash) == 64
    assert setup.code_expires_at == NOW + timedelta(minutes=10)


def test_right_code_verifies(owner, store, sent):
    with time_machine.travel(NOW + timedelta(minutes=9), tick=False):
        response = owner.post(url(store, "code"), {"code": sent}, follow=True)
    assert "The contact email is verified." in response.content.decode()
    setup = PayoutSetup.objects.get(store=store)
    assert setup.email_verified_at is not None and setup.code_hash == ""


def test_wrong_code_is_refused_and_counted(owner, store, sent):
    wrong = "000000" if sent != "000000" else "111111"
    response = owner.post(url(store, "code"), {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right." in response.content.decode()
    assert PayoutSetup.objects.get(store=store).code_attempts == 1
    assert owner.post(url(store, "code"), {"code": "12ab"}).status_code == 400  # not 6 digits


def test_expired_code(owner, store, sent):
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        response = owner.post(url(store, "code"), {"code": sent})
    assert response.status_code == 400
    assert "The code has expired." in response.content.decode()
    assert PayoutSetup.objects.get(store=store).email_verified_at is None


def test_too_many_attempts_then_even_the_right_code_fails(owner, store, sent):
    wrong = "000000" if sent != "000000" else "111111"
    for _n in range(5):
        assert owner.post(url(store, "code"), {"code": wrong}).status_code == 400
    response = owner.post(url(store, "code"), {"code": sent})
    assert response.status_code == 400
    assert "Too many wrong codes." in response.content.decode()


def test_resend_cooldown(owner, store, sent, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW + timedelta(seconds=59), tick=False):
        response = owner.post(url(store, "email"), {"email": "pay@example.com"})
    assert response.status_code == 429
    assert "Wait a minute" in response.content.decode()
    with time_machine.travel(NOW + timedelta(seconds=60), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert owner.post(url(store, "email"), {"email": "pay@example.com"}).status_code == 302
    assert len(mail.outbox) == 2
    # The first code no longer works once a new one is sent (unless they are equal).
    if sent_code() != sent:
        assert owner.post(url(store, "code"), {"code": sent}).status_code == 400


def test_account_with_iban_is_stored_masked_and_owners_are_told(
    owner, store, django_capture_on_commit_callbacks
):
    bad = owner.post(
        url(store, "account"),
        {"holder": "Ann Ltd", "bank_country": "DE", "account_number": "DE89370400440532013001"},
    )
    assert bad.status_code == 400 and "This IBAN is not valid." in bad.content.decode()
    wrong_country = owner.post(
        url(store, "account"),
        {"holder": "Ann Ltd", "bank_country": "FR", "account_number": "DE89370400440532013000"},
    )
    assert wrong_country.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            url(store, "account"),
            {
                "holder": "Ann Ltd",
                "bank_country": "de",
                "account_number": "DE89 3704 0044 0532 0130 00",
            },
        )
    assert response.status_code == 302
    setup = PayoutSetup.objects.get(store=store)
    assert (setup.account_holder, setup.bank_country, setup.account_kind, setup.account_last4) == (
        "Ann Ltd",
        "DE",
        "iban",
        "3000",
    )
    stored = " ".join(
        str(v) for v in PayoutSetup.objects.filter(pk=setup.pk).values().get().values()
    )
    assert "370400440532" not in stored
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert "3000" in mail.outbox[0].body


def test_account_number_outside_iban_countries(owner, store):
    ok = owner.post(
        url(store, "account"),
        {"holder": "Ann", "bank_country": "US", "account_number": "000123456789"},
    )
    assert ok.status_code == 302
    assert PayoutSetup.objects.get(store=store).account_last4 == "6789"
    bad = owner.post(
        url(store, "account"), {"holder": "Ann", "bank_country": "US", "account_number": "12"}
    )
    assert bad.status_code == 400


def test_steps_statuses(owner, store, sent):
    html = owner.get(reverse("dashboard:finance", args=[store.pk])).content.decode()
    assert 'id="step-business" data-step-status="not_started"' in html
    assert 'id="step-email" data-step-status="pending"' in html
    assert 'id="step-account" data-step-status="not_started"' in html
    store.legal_name = "Ann Ltd"
    store.save()
    html = owner.get(reverse("dashboard:finance", args=[store.pk])).content.decode()
    assert 'id="step-business" data-step-status="pending"' in html
    for name, value in (
        ("address_line1", "1 Road"),
        ("address_city", "Berlin"),
        ("address_postcode", "10115"),
        ("address_country", "DE"),
    ):
        setattr(store, name, value)
    store.save()
    html = owner.get(reverse("dashboard:finance", args=[store.pk])).content.decode()
    assert 'id="step-business" data-step-status="verified"' in html


def test_members_see_it_read_only_and_are_refused(client, store):
    member = MerchantFactory(email="member@example.com")
    MembershipFactory(store=store, merchant=member, role=Role.MEMBER)
    client.force_login(member)
    html = client.get(reverse("dashboard:finance", args=[store.pk])).content.decode()
    assert 'id="send-code"' not in html and 'id="save-account"' not in html
    assert "Only owners and admins can change the payout setup." in html
    response = client.post(url(store, "email"), {"email": "x@example.com"})
    assert response.status_code == 403
    response = client.post(
        url(store, "account"),
        {"holder": "Ann", "bank_country": "US", "account_number": "000123456789"},
    )
    assert response.status_code == 403
    assert not PayoutSetup.objects.filter(store=store, account_last4="6789").exists()


def test_admin_can_edit(client, store):
    admin_user = MerchantFactory(email="admin@example.com")
    MembershipFactory(store=store, merchant=admin_user, role=Role.ADMIN)
    client.force_login(admin_user)
    response = client.post(
        url(store, "account"),
        {"holder": "Ann", "bank_country": "US", "account_number": "000123456789"},
    )
    assert response.status_code == 302


# --- admin -----------------------------------------------------------------------------------


def test_admin_records_a_payout_and_marks_it_paid(client, store):
    staff = Merchant.objects.create_superuser(email="support@example.com", password="pw-12345678")
    client.force_login(staff)
    add = reverse("admin:billing_payout_add")
    response = client.post(
        add,
        {
            "store": store.pk,
            "environment": "prod",
            "amount": "12345",
            "currency": "USD",
            "period_start": "2027-02-01",
            "period_end": "2027-02-28",
            "reference": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.PENDING
    changelist = reverse("admin:billing_payout_changelist")
    client.post(changelist, {"action": "mark_paid", "_selected_action": [payout.pk]})
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID and payout.paid_at is not None


def test_page_statements_do_not_grow_with_page_size(owner, books, monkeypatch):
    owner.get(reverse("dashboard:finance", args=[books.pk]))  # the session remembers the store
    counts = []
    for size in (1, 5):
        monkeypatch.setattr(selectors, "PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as queries:
            html = owner.get(reverse("dashboard:finance", args=[books.pk])).content.decode()
        assert len(re.findall(r'<tr data-payment="', html)) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
