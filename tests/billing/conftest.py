import pytest

from billing.providers import test_processor
from pancake.api import ids


@pytest.fixture(autouse=True)
def _no_leftover_faults():
    test_processor.clear_faults()
    yield
    test_processor.clear_faults()


@pytest.fixture
def processor(db):
    return test_processor.TestProcessor()


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 (tests/billing/test_webhooks.py)."""
    from tests.billing.test_webhooks import Receiver

    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def store_id(store):
    return ids.encode("STO", store.pk)
