import pytest

from tests.factories import ClusterFactory, UserFactory, published_standard


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def cluster(db):
    return ClusterFactory()


@pytest.fixture
def close_knit_standard(db):
    return published_standard()
