"""Fixtures of the SDK interop tests: Node.js and npm present (else a skip, or a failure in CI),
and a merchant with a test API key the scripts sign with."""

import os
import shutil

import pytest

from tests.factories import MerchantFactory, make_api_key, rsa_key


@pytest.fixture(autouse=True)
def _node_available():
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("SDK interop tests need Node.js and npm")
        pytest.skip("SDK interop tests need Node.js and npm")


@pytest.fixture
def merchant_key(live_server):
    merchant = MerchantFactory(email="integrator@example.com")
    key = rsa_key()
    make_api_key(merchant, key, environment="test", api_version="2026-09-23")
    return merchant, key
