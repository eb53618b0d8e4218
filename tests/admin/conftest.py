"""Staff users of the admin: a superuser, and a staff member in each support group."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from billing.models import Payment
from pancake import staff_groups
from stores.models import Merchant
from tests.factories import ProductFactory
from tests.helpers import buy, deliver, pay

US = {"country": "US", "isBusiness": False, "state": "OR", "postcode": "97201"}


def _staff(email: str, group: str | None = None, superuser: bool = False) -> Client:
    if superuser:
        user = Merchant.objects.create_superuser(email=email, password="pw-12345678")
    else:
        user = Merchant.objects.create_user(email=email, password="pw-12345678", is_staff=True)
        user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def superuser(db) -> Client:
    return _staff("root@example.com", superuser=True)


@pytest.fixture
def agent(db) -> Client:
    return _staff("agent@example.com", staff_groups.AGENT)


@pytest.fixture
def reader(db) -> Client:
    return _staff("reader@example.com", staff_groups.READ_ONLY)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def paid(api, store, capture) -> Payment:
    """A paid one-time order of ``store`` ($29.00), with its invoice and outbox events."""
    payment = buy(api, ProductFactory(store=store), currency="USD", billing=US)
    deliver(pay(payment), capture)
    payment.refresh_from_db()
    return payment
