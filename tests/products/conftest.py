"""Catalog fixtures: the owner's test client (``api``), the same merchant with a prod key, and
a second store owned by someone else."""

import pytest

from tests.factories import make_api_key
from tests.helpers import ApiClient


@pytest.fixture
def prod_api(api, key_pool):
    """The owner again, signing with a production key (the key decides the environment)."""
    key = key_pool[3]
    make_api_key(api.merchant, key, environment="prod", name="prod key")
    return ApiClient(api.merchant, key)


@pytest.fixture
def outsider(make_api):
    """Another merchant with a store of their own and no role in ``store``."""
    return make_api(email="outsider@example.com")
