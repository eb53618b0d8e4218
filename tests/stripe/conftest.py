"""Fixtures of the Stripe tests (browser tests import them too):

- ``localstripe`` (session): the fake Stripe server, started once (``tests/localstripe.py``).
- ``stripe_settings``: the Stripe provider pointed at it, with test keys, in the test
  environment (``PAYMENT_PROVIDER_TEST = "stripe"``); every object made before is forgotten.
"""

from __future__ import annotations

import pytest

from tests.localstripe import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, LocalStripe


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    server = LocalStripe.start(tmp_path_factory.mktemp("localstripe"))
    yield server
    server.stop()


@pytest.fixture
def stripe_settings(settings, localstripe):
    localstripe.flush()
    settings.PAYMENT_PROVIDER_TEST = "stripe"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe.url
    settings.STRIPE_JS_URL = localstripe.js_url
    return settings
