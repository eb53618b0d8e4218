"""Choosing Stripe per environment, ``manage.py check`` on a misconfiguration, and secrets that
never show: not in logs, error messages, reprs or the check's output."""

from __future__ import annotations

import logging

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from billing import services as billing_services
from billing.providers import get_provider
from billing.providers.stripe import StripeProvider
from billing.providers.test_processor import TestProcessor
from pancake.api.errors import ProviderFailed
from tests.factories import ProductFactory
from tests.helpers import buy
from tests.localstripe import SECRET_KEY, WEBHOOK_SECRET
from tests.stripe import helpers as h

US = {"country": "US", "isBusiness": False, "state": "OR"}


def test_defaults_are_the_test_processor_in_test_and_none_in_prod(settings):
    settings.PAYMENT_PROVIDER_TEST = "test_processor"
    settings.PAYMENT_PROVIDER_PROD = ""
    assert isinstance(get_provider("test"), TestProcessor)
    with pytest.raises(ProviderFailed) as exc:
        get_provider("prod")
    assert exc.value.status == 502


def test_stripe_may_serve_production_and_never_the_test_processor(settings):
    settings.PAYMENT_PROVIDER_PROD = "stripe"
    provider = get_provider("prod")
    assert isinstance(provider, StripeProvider) and provider.environment == "prod"
    settings.PAYMENT_PROVIDER_PROD = "test_processor"
    with pytest.raises(ProviderFailed) as exc:
        get_provider("prod")
    assert exc.value.status == 502


def test_stripe_without_its_keys_fails_the_check_naming_what_is_missing(settings, capsys):
    settings.PAYMENT_PROVIDER_PROD = "stripe"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(SystemCheckError) as exc:
        call_command("check")
    message = str(exc.value)
    assert "billing.E002" in message
    assert "STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET are not set" in message
    assert "STRIPE_SECRET_KEY" not in message
    assert SECRET_KEY not in message + capsys.readouterr().out


def test_an_unknown_provider_fails_the_check(settings):
    settings.PAYMENT_PROVIDER_TEST = "paypal"
    with pytest.raises(SystemCheckError) as exc:
        call_command("check")
    assert "billing.E001" in str(exc.value)
    assert "PAYMENT_PROVIDER_TEST is 'paypal'" in str(exc.value)


def test_a_configured_stripe_passes_the_check(settings):
    settings.PAYMENT_PROVIDER_PROD = "stripe"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    call_command("check")


@pytest.mark.usefixtures("stripe_settings")
def test_no_stripe_secret_appears_in_logs_errors_or_reprs(
    api, store, caplog, settings, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    capture = django_capture_on_commit_callbacks
    payment = buy(api, ProductFactory(store=store), currency="USD", billing=US)
    h.pay(payment.pk)
    (event,) = h.events("payment_intent.succeeded")
    with capture(execute=True):
        assert h.deliver(event, secret="whsec_wrong").status_code == 400
        assert h.deliver(event).status_code == 200
    provider = get_provider("test")
    failed = provider.refund(attempt_id="x", provider_payment_id="pi_unknown", amount=100,
                             currency="USD")  # fmt: skip
    assert failed.status == "failed"
    texts = [repr(provider), failed.failure_message or ""]
    # A key Stripe refuses: the error names no part of it.
    settings.STRIPE_SECRET_KEY = "rk_live_pancake_refused_0123456789"
    with pytest.raises(ProviderFailed) as exc:
        StripeProvider("test").refund(attempt_id="y", provider_payment_id="pi_x", amount=1,
                                      currency="USD")  # fmt: skip
    texts.append(str(exc.value))
    with pytest.raises(ProviderFailed) as exc:
        billing_services.stripe_page_data(payment.pk)
    texts.append(str(exc.value))
    logged = caplog.text + "\n".join(texts)
    assert "Stripe refused the configured API key" in texts
    assert "stripe: refund failed" in caplog.text  # the logs were captured
    for secret in (SECRET_KEY, WEBHOOK_SECRET, "rk_live_pancake_refused_0123456789"):
        assert secret not in logged
        assert secret[-8:] not in logged  # not even Stripe's "sk_test_****6789" form
