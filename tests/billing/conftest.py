import pytest

from billing.providers import test_processor


@pytest.fixture(autouse=True)
def _no_leftover_faults():
    test_processor.clear_faults()
    yield
    test_processor.clear_faults()


@pytest.fixture
def processor(db):
    return test_processor.TestProcessor()
