import pytest

from billing.providers import test_processor
from pancake.api import ids
from pancake.celery import app as celery_app
from tests.billing.helpers import use_broker


@pytest.fixture(autouse=True)
def _no_leftover_faults():
    test_processor.clear_faults()
    yield
    test_processor.clear_faults()


@pytest.fixture
def processor(db):
    return test_processor.TestProcessor()


@pytest.fixture
def store_id(store):
    return ids.encode("STO", store.pk)


@pytest.fixture
def held_kicks():
    """Tasks go to an in-memory broker nobody reads: events stay undispatched and queued
    deliveries stay due until the test runs them."""
    old_broker, old_eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    use_broker("memory://")
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = old_eager
        use_broker(old_broker)
